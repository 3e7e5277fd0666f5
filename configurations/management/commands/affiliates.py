"""Affiliates: accounts that sell a producer's products through their hotlinks and get notified too."""

from django.core.exceptions import ValidationError

from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.cli import owner_or_error
from core.cli import Command as BaseCommand
from core.cli import dump_json, usage_error, validation_message


def affiliation_dict(affiliation) -> dict:
    account = affiliation.affiliate.webhook_account
    return {
        "affiliate": affiliation.affiliate.get_username(),
        "affiliate_code": account.affiliate_code,
        "product": affiliation.product.hotmart_id,
        "producer": affiliation.product.owner.get_username(),
        "commission_percent": str(affiliation.commission_percent),
        "hotlink": affiliation.hotlink,
    }


class Command(BaseCommand):
    help = "Add affiliates to a producer's products, list them, and choose whether they see buyer data."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{add,list,sharing}")
        add = sub.add_parser("add", help="Make a user (created if new) an affiliate of one of the producer's products.")
        add.add_argument("--owner", required=True, help="The producer's username.")
        add.add_argument("--product", type=int, required=True, help="Hotmart product id.")
        add.add_argument("--username", required=True, help="The affiliate's username; created when new.")
        add.add_argument("--name", default="", help="The affiliate's name (a new user).")
        add.add_argument("--email", default="", help="The affiliate's e-mail (a new user).")
        add.add_argument("--password", help="Lets a new affiliate log in; without it, it cannot.")
        add.add_argument("--commission", default="50", help="The affiliate's share in percent (default 50).")
        add.add_argument("--json", action="store_true")
        listing = sub.add_parser("list", help="The affiliates of a producer's products, or a user's affiliations.")
        who = listing.add_mutually_exclusive_group(required=True)
        who.add_argument("--owner", help="The producer's username.")
        who.add_argument("--affiliate", help="The affiliate's username.")
        listing.add_argument("--json", action="store_true")
        sharing = sub.add_parser("sharing", help="Show or set whether affiliates receive the buyer's data.")
        sharing.add_argument("--owner", required=True, help="The producer's username.")
        choice = sharing.add_mutually_exclusive_group()
        choice.add_argument("--on", action="store_true", help="Affiliates get buyer data and billet/PIX codes.")
        choice.add_argument("--off", action="store_true", help="Affiliates get no buyer data (the default).")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def handle_add(self, *, owner, product, username, name, email, password, commission, json, **_):
        producer = owner_or_error(owner)
        product_obj = configuration_selectors.product_get(owner_id=producer.pk, hotmart_id=product)
        if product_obj is None:
            raise usage_error(f"Unknown product {product} for owner {owner!r}.")
        try:
            affiliation, created = configuration_services.affiliate_add(
                product=product_obj,
                username=username,
                commission_percent=commission,
                name=name,
                email=email,
                password=password,
            )
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        data = affiliation_dict(affiliation)
        hottok = affiliation.affiliate.webhook_account.hottok
        if json:
            self.stdout.write(dump_json({**data, "created_user": created}))
            return
        self.stdout.write(
            f"{username} is an affiliate of product {product} ({data['commission_percent']}%): "
            f"code {data['affiliate_code']}, hotlink {data['hotlink']}"
        )
        if created:
            self.stdout.write(f"New account; its hottok, shown once: {hottok}")
        self.stdout.write(
            f"Its configurations: `configurations add --owner {username} --product {product} ...`; "
            f"a sale through it: `simulate PURCHASE_APPROVED --owner {owner} --product {product} "
            f"--affiliate {data['affiliate_code']}`."
        )

    def handle_list(self, *, owner, affiliate, json, **_):
        if owner:
            rows = [
                affiliation_dict(a)
                for a in configuration_selectors.affiliation_list(producer_id=owner_or_error(owner).pk)
            ]
        else:
            rows = [
                affiliation_dict(a)
                for a in configuration_selectors.affiliation_list(affiliate_id=owner_or_error(affiliate).pk)
            ]
        if json:
            self.stdout.write(dump_json(rows))
            return
        if not rows:
            self.stdout.write("No affiliates yet; add one with `manage.py affiliates add`.")
        for row in rows:
            self.stdout.write(
                f"{row['affiliate']:<20} {row['affiliate_code']}  product {row['product']}  "
                f"{row['commission_percent']}%  hotlink {row['hotlink']}"
            )

    def handle_sharing(self, *, owner, on, off, **_):
        account, _ = configuration_services.account_get_or_create(user=owner_or_error(owner))
        if on or off:
            account = configuration_services.account_buyer_data_sharing_set(account=account, allowed=on)
        state = "see" if account.affiliates_see_buyer_data else "do not see"
        self.stdout.write(f"{owner}'s affiliates {state} buyer data (and billet/PIX codes) in their notifications.")
