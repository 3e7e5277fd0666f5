"""Inspect notifications: their status, attempts and response codes."""

from datetime import datetime, time
from urllib.parse import parse_qsl

from django.core.exceptions import ValidationError
from django.utils import timezone

from catalogue import FORM, JSON
from configurations.cli import owner_or_error
from configurations.models import Configuration
from core.cli import Command as BaseCommand
from core.cli import dump_json, usage_error, validation_message
from core.documents import NOT_JSON, parse_json
from core.secrets import mask_body
from history import selectors as history_selectors
from history.choices import NotificationStatus
from history.models import Notification
from history.publishing import bulk_resend_start, notification_resend


def _iso(moment):
    return moment.isoformat() if moment else None


def notification_summary(n: Notification) -> dict:
    return {
        "id": n.pk,
        "status": n.status,
        "event": n.event.event_type,
        "event_id": str(n.event.uuid),
        "format": n.content_type,
        "configuration": {"id": n.configuration_id, "name": n.configuration.name, "url": n.configuration.url}
        if n.configuration_id
        else None,
        "attempt_count": n.attempt_count,
        "last_status_code": n.last_status_code,
        "next_attempt_at": _iso(n.next_attempt_at),
        "created_at": _iso(n.created_at),
    }


def notification_detail(n: Notification, *, reveal: bool) -> dict:
    """The notification with its payload: JSON as an object, a 1.0 form as its fields; the hottok inside it
    masked unless revealed."""
    text = n.payload if reveal else mask_body(n.payload)
    payload: object = text
    if n.content_type == FORM:
        payload = dict(parse_qsl(text, keep_blank_values=True))
    elif n.content_type == JSON:
        document = parse_json(text)
        payload = text if document is NOT_JSON else document
    return {
        **notification_summary(n),
        "status_reason": n.status_reason or None,
        "delivered_at": _iso(n.delivered_at),
        "payload": payload,
        "attempts": [
            {
                "number": a.number,
                "trigger": a.trigger,
                "started_at": _iso(a.started_at),
                "duration_ms": a.duration_ms,
                "url": a.request_url,
                "status_code": a.response_status,
                "error": a.error_message or None,
                "error_kind": a.error_kind or None,
                "request_headers": a.request_headers,
                "response_headers": a.response_headers,
                "response_body": a.response_body,
                "response_body_truncated": a.response_body_truncated,
                "response_escaped": a.response_escaped,
            }
            for a in n.attempts.all()
        ],
    }


class Command(BaseCommand):
    help = "List notifications, or show one with its payload and every attempt."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,show,resend,bulk-resend}")
        listing = sub.add_parser("list", help="Newest first.")
        listing.add_argument("--owner", help="Only this producer's.")
        listing.add_argument("--status", choices=NotificationStatus.values)
        listing.add_argument("--limit", type=int, default=20)
        listing.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="One notification with its payload and attempts.")
        show.add_argument("id", type=int)
        show.add_argument("--owner", help="Refuse unless the notification is this producer's.")
        show.add_argument("--json", action="store_true")
        show.add_argument("--reveal", action="store_true", help="Do not mask the hottok inside payloads.")
        resend = sub.add_parser("resend", help="One more, manual, attempt of a notification, now.")
        resend.add_argument("id", type=int)
        resend.add_argument("--owner", help="Refuse unless the notification is this producer's.")
        bulk = sub.add_parser("bulk-resend", help="Resend a configuration's failed notifications of a time window.")
        bulk.add_argument("--configuration", type=int, required=True, help="Configuration id.")
        bulk.add_argument("--since", required=True, help="ISO date or date-time, e.g. 2026-11-27 or 2026-11-27T10:00")
        bulk.add_argument("--until", help="ISO date or date-time; default: now.")
        bulk.add_argument("--status", default="failed", help="Statuses to resend, comma-separated (default: failed).")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    def handle_list(self, *, owner, status, limit, json, **_):
        if limit < 1:
            raise usage_error("--limit must be at least 1.")
        owner_id = owner_or_error(owner).pk if owner else None
        rows = [
            notification_summary(n)
            for n in history_selectors.notification_list(owner_id=owner_id, status=status, limit=limit)
        ]
        if json:
            self.stdout.write(dump_json(rows))
            return
        if not rows:
            self.stdout.write("No notifications yet; record an event with `manage.py simulate`.")
            return
        for row in rows:
            code = row["last_status_code"] if row["last_status_code"] is not None else "-"
            target = row["configuration"]["name"] if row["configuration"] else "(removed configuration)"
            self.stdout.write(
                f"{row['id']:>6}  {row['created_at'][:19]}  {row['event']:<31}  {target:<20}  "
                f"{row['status']:<9}  code {code:<4}  attempts {row['attempt_count']}"
            )

    def handle_show(self, *, id, owner, json, reveal, **_):
        owner_id = owner_or_error(owner).pk if owner else None
        notification = history_selectors.notification_get(notification_id=id, owner_id=owner_id)
        if notification is None:
            raise usage_error(f"No notification {id}" + (f" owned by {owner!r}." if owner else "."))
        data = notification_detail(notification, reveal=reveal)
        if json:
            self.stdout.write(dump_json(data))
            return
        self.stdout.write(
            f"Notification {data['id']}: {data['event']} -> "
            f"{data['configuration']['url'] if data['configuration'] else '(removed configuration)'}\n"
            f"  status {data['status']}{' (' + data['status_reason'] + ')' if data['status_reason'] else ''}, "
            f"attempts {data['attempt_count']}, next attempt {data['next_attempt_at'] or '-'}"
        )
        for attempt in data["attempts"]:
            self.stdout.write(
                f"  #{attempt['number']} {attempt['started_at'][:23]}  {attempt['trigger']:<9} "
                f"HTTP {attempt['status_code']:<4} {attempt['duration_ms']} ms"
                + (f"  {attempt['error_kind']}: {attempt['error']}" if attempt["error"] else "")
            )
        self.stdout.write("  payload:\n" + dump_json(data["payload"]))

    def handle_resend(self, *, id, owner, **_):
        notification = history_selectors.notification_get(
            notification_id=id, owner_id=owner_or_error(owner).pk if owner else None
        )
        if notification is None:
            raise usage_error(f"No notification {id}" + (f" owned by {owner!r}." if owner else "."))
        try:
            notification_resend(owner=notification.owner, notification_id=notification.pk)
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        self.stdout.write(f"Resend of notification {id} requested; `notifications show {id}` shows the attempt.")

    def handle_bulk_resend(self, *, configuration, since, until, status, **_):
        config = Configuration.objects.select_related("owner").filter(pk=configuration).first()
        if config is None:
            raise usage_error(f"No configuration {configuration}.")
        statuses = tuple(s.strip() for s in status.split(",") if s.strip())
        try:
            job = bulk_resend_start(
                owner=config.owner,
                configuration=config,
                window_start=_moment(since, "--since"),
                window_end=_moment(until, "--until") if until else timezone.now(),
                statuses=statuses,
            )
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        self.stdout.write(
            f"Bulk resend {job.pk} started: {job.total} notification{'s' if job.total != 1 else ''} of {config.name!r}."
        )


def _moment(text: str, option: str):
    """An ISO date or date-time in the current time zone, or a usage error naming the option."""
    from django.utils.dateparse import parse_date, parse_datetime

    try:
        parsed = parse_datetime(text)
        day = None if parsed is not None else parse_date(text)
    except ValueError:  # well formed, but no such day: 2026-13-45
        parsed = day = None
    if parsed is None:
        if day is None:
            raise usage_error(f"{option} {text!r} is not an ISO date or date-time, e.g. 2026-11-27T10:00.")
        parsed = datetime.combine(day, time.min)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
