"""Create the demo producer, its account, two products, and an inbox with a configuration pointing at it;
running it again changes nothing."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from catalogue.events import EventType
from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.models import Configuration
from core.cli import Command as BaseCommand
from core.cli import usage_error
from core.secrets import mask_secret
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services

DEMO_INBOX = "Demo inbox"
DEMO_PRODUCTS = [
    {"hotmart_id": 4001001, "name": "Curso de Python do Zero", "price": "197.00", "is_subscription": False},
    {"hotmart_id": 4001002, "name": "Clube de Webhooks (assinatura)", "price": "49.90", "is_subscription": True},
]


class Command(BaseCommand):
    help = (
        "Create the demo producer (login demo / demo), its hottok, two products, and an inbox with a configuration "
        "(every event) pointing at it, so the first simulated purchase visibly arrives. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo")

    def handle(self, *args, username, password, **options):
        if settings.DISPATCHER_MODE != "sandbox":
            # Its inbox lives on this machine and its password is public: neither belongs in production.
            raise usage_error(
                "seed_demo is for the sandbox only (DISPATCHER_MODE=sandbox): its demo login and local inbox "
                "do not belong in production; create real accounts with `manage.py createsuperuser` instead."
            )
        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.com", "first_name": "Demo", "last_name": "Producer"},
            )
            if created:
                user.set_password(password)
                user.is_staff = True
                user.is_superuser = True
                user.save()
            account, account_created = configuration_services.account_get_or_create(user=user)
            if account_created:
                account.document = "12345678909"
                account.save(update_fields=["document"])
            for spec in DEMO_PRODUCTS:
                if configuration_selectors.product_get(owner_id=user.pk, hotmart_id=spec["hotmart_id"]) is None:
                    configuration_services.product_create(owner=user, support_email=user.email, **spec)
            inbox = inbox_selectors.inbox_get_by_name(owner_id=user.pk, name=DEMO_INBOX)
            if inbox is None:
                inbox = inbox_services.inbox_create(owner=user, name=DEMO_INBOX)
            url = inbox_selectors.inbox_url(inbox)
            demo_configuration = Configuration.objects.filter(owner=user, name=DEMO_INBOX).first()
            if demo_configuration is None:
                demo_configuration = configuration_services.configuration_create(
                    owner=user, name=DEMO_INBOX, events=EventType.values, url=url
                )
            elif demo_configuration.url != url:  # the sandbox moved (SANDBOX_ADDRPORT): follow it
                demo_configuration = configuration_services.configuration_update(
                    configuration=demo_configuration,
                    name=demo_configuration.name,
                    events=demo_configuration.events,
                    url=url,
                    product=demo_configuration.product,
                )

        self.stdout.write(f"Demo producer: {username} / {password if created else '(password unchanged)'}")
        for product in configuration_selectors.product_list(owner_id=user.pk):
            kind = "subscription" if product.is_subscription else "single purchase"
            self.stdout.write(
                f"  product {product.hotmart_id}: {product.name} ({kind}, {product.currency} {product.price})"
            )
        state = "" if demo_configuration.is_active else f" (disabled: `configurations enable {demo_configuration.pk}`)"
        self.stdout.write(
            f"Inbox {inbox.pk} {DEMO_INBOX!r}: {url}\n"
            f"  configuration {demo_configuration.pk} sends it every event{state}; "
            f"see what arrives with `manage.py inbox requests {inbox.pk} --owner {username}`"
        )
        if account_created:
            self.stdout.write(f"Hottok (X-HOTMART-HOTTOK), shown once: {account.hottok}")
        else:
            reveal = f"manage.py hottok --owner {username} --reveal"
            self.stdout.write(f"Hottok: {mask_secret(account.hottok)}  (reveal it with `{reveal}`)")
