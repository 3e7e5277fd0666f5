"""Simulate what happens on Hotmart: purchases and their lifecycle, subscriptions, carts, the members area.

simulate PURCHASE_APPROVED --owner demo [--payment card] [--affiliate CODE] ...   a new card purchase
simulate PURCHASE_BILLET_PRINTED --owner demo --payment pix                      a new PIX purchase
simulate --transaction HP... --to refunded                                       move it on
simulate --subscription CODE --renew | --cancel | --switch-plan P | --charge-day N
simulate PURCHASE_OUT_OF_SHOPPING_CART --owner demo                              a cart abandonment
simulate CLUB_FIRST_ACCESS --transaction HP...                                   the members area
simulate SWITCH_PLAN --owner demo                                                a one-off sample event

Time: every webhook is dated when its event happens and never sent before (see ``TIME_RULE``).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalogue.events import EventType
from configurations import selectors as configuration_selectors
from configurations.cli import owner_or_error
from core.cli import Command as BaseCommand
from core.cli import dump_json, usage_error, validation_message
from history.publishing import event_record
from sales import selectors as sales_selectors
from sales import services as sales_services
from sales.lifecycle import STATUS_FOR_EVENT
from sales.output import outcome_data, outcome_lines

STARTING_EVENTS = (EventType.PURCHASE_APPROVED, EventType.PURCHASE_CANCELED, EventType.PURCHASE_BILLET_PRINTED)
PURCHASE_OPTIONS = ("payment", "installments", "refused", "affiliate", "coupon", "src", "sck", "xcod", "plan")


TIME_RULE = (
    "Time: an action happens now, and its webhooks are dated now (creation_date) and sent now; a webhook is never "
    "dated later than it is sent, and retries keep its date. A move that would really happen later (--to "
    "completed at the warranty's end, --to delayed or expired at the payment's due date, --renew on the charge "
    "date) is made now as well, the sale's own dates unchanged, so a sale walks its whole life in minutes; with "
    "--schedule it is dated at that real moment instead and sent then (a Pending post until then). --at dates it "
    "yourself: a past moment is sent now, a future one is scheduled."
)


class Command(BaseCommand):
    help = (
        "Simulate a Hotmart event: a new purchase (PURCHASE_APPROVED, PURCHASE_CANCELED, PURCHASE_BILLET_PRINTED), "
        "a move of a transaction (--transaction HP... --to STATUS), a subscription action (--subscription CODE "
        "--renew/--cancel/--switch-plan/--charge-day), a cart abandonment, the members area, or a one-off sample "
        "of any event. " + TIME_RULE
    )

    def add_arguments(self, parser):
        parser.add_argument("event", metavar="EVENT", nargs="?", help=f"One of: {', '.join(EventType.values)}.")
        parser.add_argument("--owner", help="The producer's username (implied by --transaction/--subscription).")
        parser.add_argument("--product", type=int, help="Hotmart product id; default: the owner's first product.")
        parser.add_argument("--buyer-email", help="The buyer's e-mail; default: a made-up one.")
        parser.add_argument("--buyer-name", help="The buyer's name; default: a made-up one.")
        purchase = parser.add_argument_group("a new purchase")
        purchase.add_argument("--payment", help="credit_card (default), billet or pix.")
        purchase.add_argument("--installments", type=int, help="Card installments, 1 to 12.")
        purchase.add_argument("--refused", action="store_true", help="The card is refused (or a renewal charge).")
        purchase.add_argument("--affiliate", metavar="CODE", help="Sold through this affiliate's hotlink.")
        purchase.add_argument("--coupon", help="A coupon code (10%% off).")
        purchase.add_argument("--src", help="Tracking code src of the checkout link.")
        purchase.add_argument("--sck", help="Tracking code sck of the checkout link.")
        purchase.add_argument("--xcod", help="Your external code xcod of the checkout link.")
        purchase.add_argument(
            "--plan",
            help="Subscription plan: one of the product's (monthly, quarterly, yearly unless chosen otherwise).",
        )
        moves = parser.add_argument_group("an existing transaction")
        moves.add_argument("--transaction", metavar="HP...", help="The transaction code.")
        moves.add_argument("--to", metavar="STATUS", help="approved, completed, refunded, chargeback, dispute, ...")
        moves.add_argument("--module", help="CLUB_MODULE_COMPLETED: the module (number, id or name).")
        subscription = parser.add_argument_group("an existing subscription")
        subscription.add_argument("--subscription", metavar="CODE", help="The subscriber code.")
        subscription.add_argument("--renew", action="store_true", help="Charge the next recurrence.")
        subscription.add_argument("--cancel", action="store_true", help="Cancel it (SUBSCRIPTION_CANCELLATION).")
        subscription.add_argument("--by", default="customer", help="Who cancels: customer, seller or admin.")
        subscription.add_argument("--switch-plan", metavar="PLAN", help="Move it to this plan (SWITCH_PLAN).")
        subscription.add_argument("--charge-day", type=int, help="Charge it on this day of the month.")
        parser.add_argument(
            "--at", help="When it happens (ISO date-time with zone); default now. A future moment is scheduled."
        )
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="With --to or --renew: date the move at its real moment (the warranty's end, the payment's due "
            "date, the charge date) and send it then, instead of now.",
        )
        parser.add_argument("--json", action="store_true", help="Print what was recorded as JSON.")

    def handle(self, *args, **options):
        at = _moment(options["at"]) if options["at"] else None
        if options["schedule"] and at is not None:
            raise usage_error("Give --at or --schedule, not both: --schedule dates the move at its real moment.")
        if options["schedule"] and not _may_schedule(options):
            raise usage_error("--schedule applies to a move that waits for a moment: --to STATUS or --renew.")
        try:
            if options["subscription"]:
                outcome = self._subscription(options, at)
            elif options["transaction"]:
                outcome = self._transaction(options, at)
            else:
                outcome = self._new(options, at)
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        if options["json"]:
            self.stdout.write(dump_json(outcome_data(outcome)))
            return
        self.stdout.write("\n".join(outcome_lines(outcome)))

    # --- the three kinds of action --------------------------------------------------------------------------

    def _subscription(self, options, at):
        code = options["subscription"]
        owner = self._owner_of(options["owner"], sales_selectors.subscription_owner_id(subscriber_code=code), code)
        chosen = [
            name
            for name, given in (
                ("--renew", options["renew"]),
                ("--cancel", options["cancel"]),
                ("--switch-plan", options["switch_plan"]),
                ("--charge-day", options["charge_day"] is not None),
            )
            if given
        ]
        if len(chosen) != 1 or options["event"]:
            raise usage_error("With --subscription give exactly one of --renew, --cancel, --switch-plan, --charge-day.")
        if options["renew"]:
            return sales_services.subscription_renew(
                owner=owner, subscriber_code=code, refused=options["refused"], at=at, schedule=options["schedule"]
            )
        if options["cancel"]:
            return sales_services.subscription_cancel(owner=owner, subscriber_code=code, by=options["by"], at=at)
        if options["switch_plan"]:
            return sales_services.subscription_switch_plan(
                owner=owner, subscriber_code=code, plan=options["switch_plan"], at=at
            )
        return sales_services.subscription_change_charge_day(
            owner=owner, subscriber_code=code, day=options["charge_day"], at=at
        )

    def _transaction(self, options, at):
        code = options["transaction"]
        owner = self._owner_of(options["owner"], sales_selectors.transaction_owner_id(transaction=code), code)
        event = _event(options["event"]) if options["event"] else None
        if event == EventType.CLUB_FIRST_ACCESS:
            return sales_services.member_first_access(owner=owner, transaction=code, at=at)
        if event == EventType.CLUB_MODULE_COMPLETED:
            return sales_services.member_module_complete(owner=owner, transaction=code, module=options["module"], at=at)
        target = options["to"] or (STATUS_FOR_EVENT.get(event) if event else None)
        if event and event not in STATUS_FOR_EVENT:
            raise usage_error(f"{event} does not happen to a transaction; see `simulate --help`.")
        if not target:
            raise usage_error("Say where the transaction goes: --to STATUS (e.g. --to refunded).")
        return sales_services.transaction_transition(
            owner=owner, transaction=code, to=target, at=at, schedule=options["schedule"]
        )

    def _new(self, options, at):
        if not options["event"]:
            raise usage_error("Name an EVENT, or give --transaction or --subscription; see `simulate --help`.")
        event = _event(options["event"])
        if not options["owner"]:
            raise usage_error("--owner is required for a new purchase, cart or sample event.")
        owner = owner_or_error(options["owner"])
        product = None
        if options["product"] is not None:
            product = configuration_selectors.product_get(owner_id=owner.pk, hotmart_id=options["product"])
            if product is None:
                raise usage_error(f"Unknown product {options['product']} for owner {options['owner']!r}.")
        if event in STARTING_EVENTS:
            return self._purchase(event, owner, product, options, at)
        if event == EventType.PURCHASE_OUT_OF_SHOPPING_CART:
            self._refuse_options(event, options, allowed=("affiliate",))
            return sales_services.cart_abandon(
                owner=owner,
                product=product,
                buyer_email=options["buyer_email"],
                buyer_name=options["buyer_name"],
                affiliate_code=options["affiliate"],
                at=at,
            )
        self._refuse_options(event, options, allowed=())
        recorded = event_record(
            owner=owner, event_type=event, product=product, buyer_email=options["buyer_email"], occurred_at=at
        )
        note = "a one-off sample with made-up facts: no transaction or subscription is tracked"
        return sales_services.SaleOutcome(events=[recorded], notes=[note])

    def _purchase(self, event, owner, product, options, at):
        payment = options["payment"] or ("billet" if event == EventType.PURCHASE_BILLET_PRINTED else "credit_card")
        kind = sales_services.payment_type_parse(payment)
        if kind is None:
            raise usage_error(f"Unknown --payment {payment!r}; choose credit_card, billet or pix.")
        if event == EventType.PURCHASE_BILLET_PRINTED and kind == "CREDIT_CARD":
            raise usage_error(
                "A card purchase starts APPROVED or CANCELED, not BILLET_PRINTED; use --payment billet or pix."
            )
        if event != EventType.PURCHASE_BILLET_PRINTED and kind != "CREDIT_CARD":
            raise usage_error(
                f"A {payment} purchase starts at PURCHASE_BILLET_PRINTED; then approve it with "
                "`simulate --transaction HP... --to approved`."
            )
        return sales_services.transaction_create(
            owner=owner,
            product=product,
            payment_type=kind,
            refused=options["refused"] or event == EventType.PURCHASE_CANCELED,
            buyer_email=options["buyer_email"],
            buyer_name=options["buyer_name"],
            installments=options["installments"],
            affiliate_code=options["affiliate"],
            coupon_code=options["coupon"] or "",
            src=options["src"] or "",
            sck=options["sck"] or "",
            xcod=options["xcod"] or "",
            plan=options["plan"],
            at=at,
        )

    def _refuse_options(self, event, options, *, allowed):
        given = [name for name in PURCHASE_OPTIONS if name not in allowed and options.get(name) not in (None, False)]
        if given:
            raise usage_error(
                f"--{given[0]} applies to a new purchase (PURCHASE_APPROVED, PURCHASE_CANCELED, "
                f"PURCHASE_BILLET_PRINTED), not to {event}."
            )

    def _owner_of(self, username, owner_id, code):
        if owner_id is None:
            kind = "subscription" if code and not code.upper().startswith("HP") else "transaction"
            raise usage_error(f"No {kind} {code}; `simulate PURCHASE_APPROVED --owner U` starts one.")
        if username:
            owner = owner_or_error(username)
            if owner.pk != owner_id:
                raise usage_error(f"{code} is not {username}'s.")
            return owner
        return get_user_model().objects.get(pk=owner_id)


def _may_schedule(options) -> bool:
    """Only a move of a transaction or a renewal has a real moment to wait for."""
    if options["subscription"]:
        return bool(options["renew"])
    member_events = (EventType.CLUB_FIRST_ACCESS, EventType.CLUB_MODULE_COMPLETED)
    return bool(options["transaction"]) and (options["event"] or "").strip().upper() not in member_events


def _event(text: str) -> str:
    event = text.strip().upper()
    if event not in EventType.values:
        raise usage_error(f"Unknown event {text!r}; valid: {', '.join(EventType.values)}.")
    return event


def _moment(text: str):
    moment = parse_datetime(text)
    if moment is None:
        raise usage_error(f"--at {text!r} is not an ISO date-time, e.g. 2026-11-28T10:00:00Z.")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
