"""Show (masked or revealed) or regenerate a producer's hottok."""

from configurations import services as configuration_services
from configurations.cli import owner_or_error
from core.cli import Command as BaseCommand
from core.secrets import mask_secret


class Command(BaseCommand):
    help = "Show a producer's hottok (masked unless --reveal) or regenerate it."

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="The producer's username.")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--reveal", action="store_true", help="Print the whole token.")
        group.add_argument(
            "--regenerate", action="store_true", help="Replace it; notifications sent from now on carry the new one."
        )

    def handle(self, *args, owner, reveal, regenerate, **options):
        user = owner_or_error(owner)
        account, _ = configuration_services.account_get_or_create(user=user)
        if regenerate:
            account = configuration_services.account_hottok_regenerate(account=account)
            self.stdout.write(f"New hottok, shown once: {account.hottok}")
            return
        self.stdout.write(account.hottok if reveal else mask_secret(account.hottok))
