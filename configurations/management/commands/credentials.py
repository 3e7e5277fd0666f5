"""API credentials from the command line, as on the Credentials page: add (secret shown once), list, revoke."""

from django.core.exceptions import ValidationError

from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.cli import owner_or_error
from configurations.credentials import MASK, basic_masked
from core.cli import Command as BaseCommand
from core.cli import dump_json, usage_error, validation_message


class Command(BaseCommand):
    help = "Manage a producer's API credentials (OAuth2 client credentials for the REST API)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{add,list,revoke}")
        add = sub.add_parser("add", help="Create a credential; its Client Secret is shown once.")
        add.add_argument("--owner", required=True, help="The producer's username.")
        add.add_argument("--name", required=True, help="What will use it, e.g. 'CI pipeline'.")
        add.add_argument("--json", action="store_true")
        listing = sub.add_parser("list", help="List credentials, secrets masked.")
        listing.add_argument("--owner", required=True)
        listing.add_argument("--json", action="store_true")
        revoke = sub.add_parser("revoke", help="Delete a credential and every token issued with it.")
        revoke.add_argument("id", type=int)
        revoke.add_argument("--owner", required=True)

    def handle(self, *args, action, owner, **options):
        user = owner_or_error(owner)
        return getattr(self, f"handle_{action}")(user, **options)

    def handle_add(self, user, *, name, json, **_):
        try:
            new = configuration_services.api_credential_create(owner=user, name=name)
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        data = {
            "id": new.credential.pk,
            "name": new.credential.name,
            "client_id": new.credential.client_id,
            "client_secret": new.client_secret,
            "basic": new.basic,
        }
        if json:
            self.stdout.write(dump_json(data))
            return
        self.stdout.write(
            f"Credential {data['id']} {data['name']!r} (the secret is shown once: store it now)\n"
            f"  Client ID      {data['client_id']}\n"
            f"  Client Secret  {data['client_secret']}\n"
            f"  Basic          {data['basic']}"
        )

    def handle_list(self, user, *, json, **_):
        rows = [
            {
                "id": c.pk,
                "name": c.name,
                "client_id": c.client_id,
                "client_secret": MASK,
                "basic": basic_masked(c.client_id),
                "created_at": c.created.isoformat(),
                "last_token_at": c.last_token_at.isoformat() if c.last_token_at else None,
            }
            for c in configuration_selectors.api_credential_list(owner_id=user.pk)
        ]
        if json:
            self.stdout.write(dump_json(rows))
            return
        if not rows:
            self.stdout.write("No credentials yet; add one with `manage.py credentials add`.")
        for row in rows:
            self.stdout.write(
                f"{row['id']:>4}  {row['name']:<24}  {row['client_id']}  last token {row['last_token_at'] or 'never'}"
            )

    def handle_revoke(self, user, *, id, **_):
        credential = configuration_selectors.api_credential_get(owner_id=user.pk, credential_id=id)
        if credential is None:
            raise usage_error(f"No credential {id} owned by {user.get_username()!r}.")
        configuration_services.api_credential_revoke(credential=credential)
        self.stdout.write(f"Revoked credential {id} {credential.name!r}: its tokens no longer work.")
