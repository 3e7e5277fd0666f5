"""Manage webhook configurations from the command line: add, list, show, enable, disable, remove."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from catalogue.events import EventType
from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.cli import owner_or_error
from configurations.models import Configuration
from configurations.services import signing_disable, signing_secret_rotate
from core.cli import Command as BaseCommand
from core.cli import dump_json, number, usage_error, validation_message
from core.secrets import mask_secret
from history.publishing import (
    configuration_reenable,
    configuration_remove,
    configuration_stop,
    configuration_test_post,
)


def configuration_dict(configuration: Configuration) -> dict:
    return {
        "id": configuration.pk,
        "owner": configuration.owner.get_username(),
        "name": configuration.name,
        "events": configuration.events,
        "product": configuration.product.hotmart_id if configuration.product_id else None,
        "scope": configuration.scope_label,
        "url": configuration.url,
        "payload_version": configuration.payload_version,
        "status": configuration.status,
        "disabled_reason": configuration.disabled_reason or None,
        "disabled_at": configuration.disabled_at.isoformat() if configuration.disabled_at else None,
        "failing_since": configuration.failing_since.isoformat() if configuration.failing_since else None,
        "created_by_integration": configuration.created_by_integration,
        "hook_event": configuration.hook_event or None,
        "created_at": configuration.created_at.isoformat(),
        "updated_at": configuration.updated_at.isoformat(),
    }


class Command(BaseCommand):
    help = "Manage webhook configurations: which events, all products or one, which URL."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="{add,list,show,enable,disable,remove,test,signing}"
        )

        add = sub.add_parser("add", help="Create an active configuration.")
        add.add_argument("--owner", required=True, help="The producer's username.")
        add.add_argument("--name", required=True)
        add.add_argument(
            "--event",
            dest="events",
            action="append",
            required=True,
            help="An event type (repeat, or separate with commas), e.g. PURCHASE_APPROVED; ALL for every one.",
        )
        add.add_argument("--product", type=int, help="Hotmart product id; leave out for all products.")
        add.add_argument("--url", required=True)
        add.add_argument(
            "--version",
            dest="payload_version",
            default="2.0.0",
            help="Payload version: 2.0.0 (JSON, default) or 1.0 (the legacy form-encoded postback; purchases only).",
        )
        add.add_argument("--json", action="store_true")

        listing = sub.add_parser("list", help="List configurations.")
        listing.add_argument("--owner", help="Only this producer's.")
        listing.add_argument("--json", action="store_true")

        test = sub.add_parser("test", help="Send a test post of an event to a configuration now.")
        test.add_argument("id", type=int)
        test.add_argument(
            "--event",
            help="The event type of the sample payload: one the configuration listens to (default: its first).",
        )
        test.add_argument(
            "--any-event", action="store_true", help="Allow an event the configuration is not subscribed to."
        )
        test.add_argument("--owner", help="Refuse unless the configuration is this producer's.")
        test.add_argument("--json", action="store_true")

        signing = sub.add_parser(
            "signing", help="Standard Webhooks signing: show the secrets (masked), rotate, or turn it off."
        )
        signing.add_argument("id", type=int)
        signing.add_argument("--owner", help="Refuse unless the configuration is this producer's.")
        group = signing.add_mutually_exclusive_group()
        group.add_argument("--rotate", action="store_true", help="A new secret; turns signing on the first time.")
        group.add_argument("--disable", action="store_true", help="Stop signing and delete the secrets.")
        signing.add_argument("--overlap-hours", type=number, default=24, help="How long old secrets keep signing.")
        signing.add_argument("--reveal", action="store_true", help="Show the secrets in full.")

        for name, text in (
            ("show", "Show one configuration."),
            ("enable", "Enable a configuration."),
            ("disable", "Disable a configuration; its pending notifications stop."),
            ("remove", "Remove a configuration; its history stays."),
        ):
            action = sub.add_parser(name, help=text)
            action.add_argument("id", type=int)
            action.add_argument("--owner", help="Refuse unless the configuration is this producer's.")
            action.add_argument("--json", action="store_true")
            if name == "disable":
                action.add_argument("--reason", default="Disabled by its owner.")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def _emit(self, configuration: Configuration, as_json: bool, verb: str) -> None:
        if as_json:
            self.stdout.write(dump_json(configuration_dict(configuration)))
        else:
            self.stdout.write(
                f"{verb} configuration {configuration.pk} {configuration.name!r} ({configuration.status})"
            )

    def _get(self, configuration_id: int, owner: str | None) -> Configuration:
        queryset = Configuration.objects.select_related("owner", "product")
        if owner:
            queryset = queryset.filter(owner=owner_or_error(owner))
        configuration = queryset.filter(pk=configuration_id).first()
        if configuration is None:
            raise usage_error(f"No configuration {configuration_id}" + (f" owned by {owner!r}." if owner else "."))
        return configuration

    def handle_add(self, *, owner, name, events, product, url, payload_version, json, **_):
        user = owner_or_error(owner)
        wanted = [event.strip() for chunk in events for event in chunk.split(",") if event.strip()]
        if any(event.upper() == "ALL" for event in wanted):
            # ALL stands for every event; anything beside it must still be a real one, or it is a typo.
            unknown = [event for event in wanted if event.upper() != "ALL" and event.upper() not in EventType.values]
            if unknown:
                raise usage_error(
                    f"Unknown event type {', '.join(unknown)}; valid: ALL, {', '.join(EventType.values)}."
                )
            wanted = list(EventType.values)
        product_obj = None
        if product is not None:
            product_obj = configuration_selectors.product_get_for_configuration(user_id=user.pk, hotmart_id=product)
            if product_obj is None:
                raise usage_error(f"Unknown product {product} for owner {owner!r}.")
        try:
            configuration = configuration_services.configuration_create(
                owner=user, name=name, events=wanted, url=url, product=product_obj, payload_version=payload_version
            )
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        self._emit(configuration, json, "Added")

    def handle_list(self, *, owner, json, **_):
        queryset = Configuration.objects.select_related("owner", "product").order_by("id")
        if owner:
            queryset = queryset.filter(owner=owner_or_error(owner))
        rows = [configuration_dict(c) for c in queryset]
        if json:
            self.stdout.write(dump_json(rows))
            return
        if not rows:
            self.stdout.write("No configurations yet; add one with `manage.py configurations add`.")
            return
        for row in rows:
            status = row["status"] if row["status"] == "active" else f"DISABLED ({row['disabled_reason']})"
            if row["status"] == "active" and row["failing_since"]:
                status = f"active, FAILING since {row['failing_since'][:19]}"
            origin = (
                f"\n      created by an integration (REST hook: {row['hook_event']})"
                if row["created_by_integration"]
                else ""
            )
            self.stdout.write(
                f"{row['id']:>4}  {row['name']:<24}  {row['scope']:<24}  {status:<8}  {row['url']}\n"
                f"      events: {', '.join(row['events'])}  (payload {row['payload_version']}){origin}"
            )

    def handle_show(self, *, id, owner, json, **_):
        configuration = self._get(id, owner)
        data = configuration_dict(configuration)
        if json:
            self.stdout.write(dump_json(data))
            return
        status = data["status"]
        if data["disabled_at"]:
            status += f" since {data['disabled_at'][:19]}: {data['disabled_reason']}"
        elif data["failing_since"]:
            status += f", FAILING since {data['failing_since'][:19]}"
        lines = [
            f"Configuration {data['id']} {data['name']!r} of {data['owner']}",
            f"  status   {status}",
            f"  url      {data['url']}",
            f"  scope    {data['scope']}" + (f" (product {data['product']})" if data["product"] else ""),
            f"  payload  {data['payload_version']}" + ("  (signed)" if configuration.signing_enabled else ""),
            f"  events   {', '.join(data['events'])}",
        ]
        if data["created_by_integration"]:
            lines.append(f"  origin   REST hook {data['hook_event']!r}, created by an integration")
        lines.append(f"  created  {data['created_at'][:19]}, changed {data['updated_at'][:19]}")
        self.stdout.write("\n".join(lines))

    def handle_enable(self, *, id, owner, json, **_):
        configuration = self._get(id, owner)
        missed = configuration_reenable(configuration=configuration)
        self._emit(configuration, json, "Enabled")
        if missed and not json:
            start, count = missed.since, missed.count
            since = timezone.localtime(start).isoformat(timespec="seconds")
            self.stdout.write(
                f"{count} notification{'s' if count != 1 else ''} failed or {'were' if count != 1 else 'was'} stopped "
                "since its deliveries last worked. "
                f"Resend them with:\n  manage.py notifications bulk-resend --configuration {configuration.pk} "
                f"--since {since} --status failed,cancelled"
            )

    def handle_disable(self, *, id, owner, json, reason, **_):
        configuration = self._get(id, owner)
        configuration_stop(configuration_id=configuration.pk, reason=reason)
        configuration.refresh_from_db()
        self._emit(configuration, json, "Disabled")

    def handle_test(self, *, id, event, any_event, owner, json, **_):
        configuration = self._get(id, owner)
        event = (event or "").strip().upper()
        if not event and not configuration.events:
            raise usage_error("Give the event to send with --event.")
        event = event or configuration.events[0]
        if event in EventType.values and event not in configuration.events and not any_event:
            raise usage_error(
                f"Configuration {configuration.pk} is not subscribed to {event}; it listens to "
                f"{', '.join(configuration.events)}. Add --any-event to send it anyway."
            )
        try:
            notification = configuration_test_post(
                owner=configuration.owner, configuration=configuration, event_type=event
            )
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        if json:
            self.stdout.write(dump_json({"notification": notification.pk, "event": notification.event_type}))
        else:
            self.stdout.write(
                f"Test post of {notification.event_type} queued as notification {notification.pk}; "
                f"see `notifications show {notification.pk}`."
            )

    def handle_signing(self, *, id, owner, rotate, disable, overlap_hours, reveal, **_):
        configuration = self._get(id, owner)
        if rotate:
            try:
                secret = signing_secret_rotate(configuration=configuration, overlap_seconds=overlap_hours * 3600)
            except ValidationError as exc:
                raise usage_error(validation_message(exc)) from None
            self.stdout.write(f"New signing secret, shown once: {secret.secret}")
        elif disable:
            signing_disable(configuration=configuration)
            self.stdout.write(f"Signing is off for configuration {configuration.pk}.")
            return
        secrets = configuration_selectors.signing_secret_list(configuration_id=configuration.pk)
        if not secrets:
            self.stdout.write("Not signed. Turn signing on with --rotate.")
        for secret in secrets:
            until = f" (signs until {secret.expires_at.isoformat(timespec='seconds')})" if secret.expires_at else ""
            self.stdout.write(f"{secret.secret if reveal else mask_secret(secret.secret)}{until}")

    def handle_remove(self, *, id, owner, json, **_):
        configuration = self._get(id, owner)
        data = configuration_dict(configuration)
        configuration_remove(configuration=configuration)
        if json:
            self.stdout.write(dump_json({**data, "removed": True}))
        else:
            self.stdout.write(f"Removed configuration {data['id']} {data['name']!r}")
