"""Record a simulated event; every matching active configuration gets a notification."""

from django.core.exceptions import ValidationError

from configurations import selectors as configuration_selectors
from configurations.events import EventType
from dispatcher.cli import Command as BaseCommand
from dispatcher.cli import dump_json, owner_or_error, usage_error, validation_message
from dispatcher.services import event_record


class Command(BaseCommand):
    help = "Simulate a Hotmart event (e.g. PURCHASE_APPROVED) for one of the owner's products."

    def add_arguments(self, parser):
        parser.add_argument("event", metavar="EVENT", help=f"One of: {', '.join(EventType.values)}.")
        parser.add_argument("--owner", required=True, help="The producer's username.")
        parser.add_argument("--product", type=int, help="Hotmart product id; default: the owner's first product.")
        parser.add_argument("--buyer-email", help="The buyer's e-mail; default: a made-up one.")
        parser.add_argument("--json", action="store_true", help="Print the event and notification ids as JSON.")

    def handle(self, *args, event, owner, product, buyer_email, json, **options):
        event_type = event.strip().upper()
        if event_type not in EventType.values:
            raise usage_error(f"Unknown event {event!r}; valid: {', '.join(EventType.values)}.")
        user = owner_or_error(owner)
        product_obj = None
        if product is not None:
            product_obj = configuration_selectors.product_get(owner_id=user.pk, hotmart_id=product)
            if product_obj is None:
                raise usage_error(f"Unknown product {product} for owner {owner!r}.")
        try:
            recorded = event_record(owner=user, event_type=event_type, product=product_obj, buyer_email=buyer_email)
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        event_obj = recorded.event
        ids = [n.pk for n in recorded.notifications]
        if json:
            self.stdout.write(
                dump_json(
                    {
                        "event": {
                            "id": str(event_obj.uuid),
                            "pk": event_obj.pk,
                            "type": event_obj.event_type,
                            "product": event_obj.facts["product"]["id"],
                            "transaction": event_obj.transaction or None,
                            "buyer_email": event_obj.buyer_email,
                        },
                        "notifications": ids,
                    }
                )
            )
            return
        self.stdout.write(
            f"Event {event_obj.uuid} ({event_obj.event_type}, product {event_obj.facts['product']['id']})"
        )
        if event_obj.transaction:
            self.stdout.write(f"  transaction {event_obj.transaction}, buyer {event_obj.buyer_email}")
        if ids:
            self.stdout.write(f"  notifications: {', '.join(str(i) for i in ids)}")
        else:
            self.stdout.write("  no active configuration wants this event: no notification created")
