"""List or add a producer's products."""

from django.core.exceptions import ValidationError

from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.cli import owner_or_error
from core.cli import Command as BaseCommand
from core.cli import dump_json, usage_error, validation_message


def product_dict(product) -> dict:
    return {
        "id": product.hotmart_id,
        "ucode": str(product.ucode),
        "name": product.name,
        "price": str(product.price),
        "currency": product.currency,
        "is_subscription": product.is_subscription,
        "warranty_days": product.warranty_days,
    }


class Command(BaseCommand):
    help = "List or add a producer's products."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,add}")
        listing = sub.add_parser("list")
        listing.add_argument("--owner", required=True)
        listing.add_argument("--json", action="store_true")
        add = sub.add_parser("add")
        add.add_argument("--owner", required=True)
        add.add_argument("--name", required=True)
        add.add_argument("--id", type=int, dest="hotmart_id", help="Hotmart product id; default: a free random one.")
        add.add_argument("--price", default="97.00")
        add.add_argument("--currency", default="BRL")
        add.add_argument("--subscription", action="store_true", help="Sold by subscription.")
        add.add_argument("--warranty-days", type=int, default=7)
        add.add_argument("--json", action="store_true")

    def handle(self, *args, action, owner, json, **options):
        user = owner_or_error(owner)
        if action == "list":
            rows = [product_dict(p) for p in configuration_selectors.product_list(owner_id=user.pk)]
            if json:
                self.stdout.write(dump_json(rows))
            for row in [] if json else rows:
                kind = "subscription" if row["is_subscription"] else "single purchase"
                self.stdout.write(f"{row['id']:>9}  {row['name']}  ({kind}, {row['currency']} {row['price']})")
            return
        if options["warranty_days"] < 0:
            raise usage_error("--warranty-days cannot be negative.")
        try:
            product = configuration_services.product_create(
                owner=user,
                name=options["name"],
                hotmart_id=options["hotmart_id"],
                price=options["price"],
                currency=options["currency"],
                is_subscription=options["subscription"],
                warranty_days=options["warranty_days"],
            )
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        self.stdout.write(
            dump_json(product_dict(product)) if json else f"Added product {product.hotmart_id}: {product.name}"
        )
