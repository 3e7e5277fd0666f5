"""The built-in inbox from the command line: create inboxes, choose how they answer, see what they caught."""

import time

from django.core.exceptions import ValidationError

from configurations.cli import owner_or_error
from core.cli import Command as BaseCommand
from core.cli import dump_json, number, usage_error, validation_message
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services
from inbox.models import Inbox

POLL_SECONDS = 0.5


def inbox_dict(inbox: Inbox) -> dict:
    return {
        "id": inbox.pk,
        "owner": inbox.owner.get_username(),
        "name": inbox.name,
        "url": inbox_selectors.inbox_url(inbox),
        "status_code": inbox.status_code,
        "response_body": inbox.response_body,
        "response_content_type": inbox.response_content_type,
        "delay_ms": inbox.delay_ms,
        "fail_first": inbox.fail_first,
        "fail_status": inbox.fail_status,
        "received_count": inbox.received_count,
    }


def request_dict(view) -> dict:
    return {
        "id": view.id,
        "number": view.number,
        "received_at": view.received_at.isoformat(),
        "method": view.method,
        "path": view.path,
        "headers": view.headers,
        "body": view.body_text,
        "body_size": view.body_size,
        "body_truncated": view.body_truncated,
        "remote_addr": view.remote_addr,
        "response_status": view.response_status,
        "response_delay_ms": view.response_delay_ms,
        "event_type": view.event_type,
        "subject": view.subject,
    }


class Command(BaseCommand):
    help = "Create inboxes (URLs served by the sandbox that record every request), set how they answer, read them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="{create,list,set,requests,show,reset,remove}"
        )
        create = sub.add_parser("create", help="A new inbox; prints its URL.")
        create.add_argument("--owner", required=True)
        create.add_argument("--name", required=True)
        self._answer_options(create)
        listing = sub.add_parser("list", help="The owner's inboxes with their URLs.")
        listing.add_argument("--owner", required=True)
        listing.add_argument("--json", action="store_true")
        change = sub.add_parser("set", help="Change how an inbox answers.")
        change.add_argument("id", type=int)
        change.add_argument("--owner", required=True)
        change.add_argument("--name")
        self._answer_options(change, defaults=False)
        requests = sub.add_parser("requests", help="What an inbox caught, newest first.")
        requests.add_argument("id", type=int)
        requests.add_argument("--owner", required=True)
        requests.add_argument("--limit", type=int, default=20)
        requests.add_argument("--follow", action="store_true", help="Keep printing new requests as they come.")
        requests.add_argument("--stop-after", type=int, help="With --follow: stop after this many new requests.")
        requests.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="One caught request: headers and body.")
        show.add_argument("request_id", type=int)
        show.add_argument("--owner", required=True)
        show.add_argument("--reveal", action="store_true", help="Do not mask the hottok in headers and body.")
        show.add_argument("--json", action="store_true")
        for name, text in (("reset", "Forget its requests and start its count again."), ("remove", "Delete it.")):
            action = sub.add_parser(name, help=text)
            action.add_argument("id", type=int)
            action.add_argument("--owner", required=True)

    def _answer_options(self, parser, defaults=True):
        parser.add_argument("--status", type=int, dest="status_code", help="HTTP status it answers (default 200).")
        parser.add_argument("--body", dest="response_body", help="The body it answers.")
        parser.add_argument("--content-type", dest="response_content_type", help="Of the body it answers.")
        parser.add_argument("--delay", type=number, help="Seconds it hangs before answering.")
        parser.add_argument("--fail-first", type=int, help="The first N requests get --fail-status.")
        parser.add_argument("--fail-status", type=int, help="Status of those first N answers (default 500).")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def _get(self, inbox_id: int, owner: str) -> Inbox:
        inbox = inbox_selectors.inbox_get(owner_id=owner_or_error(owner).pk, inbox_id=inbox_id)
        if inbox is None:
            raise usage_error(f"No inbox {inbox_id} owned by {owner!r}.")
        return inbox

    def _answer(self, options) -> dict:
        values = {
            key: options[key]
            for key in ("status_code", "response_body", "response_content_type", "fail_first", "fail_status")
            if options.get(key) is not None
        }
        if options.get("delay") is not None:
            values["delay_ms"] = int(round(options["delay"] * 1000))
        return values

    def _emit(self, inbox: Inbox, json: bool, verb: str) -> None:
        data = inbox_dict(inbox)
        if json:
            self.stdout.write(dump_json(data))
            return
        self.stdout.write(f"{verb} inbox {inbox.pk} {inbox.name!r}: {data['url']}")
        self.stdout.write(f"  answers {inbox_selectors.inbox_answer_text(inbox)}")

    def handle_create(self, *, owner, name, json, **options):
        try:
            inbox = inbox_services.inbox_create(owner=owner_or_error(owner), name=name, **self._answer(options))
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        self._emit(inbox, json, "Created")

    def handle_list(self, *, owner, json, **_):
        inboxes = list(inbox_selectors.inbox_list(owner_id=owner_or_error(owner).pk).select_related("owner"))
        if json:
            self.stdout.write(dump_json([{**inbox_dict(i), "request_count": i.request_count} for i in inboxes]))
            return
        if not inboxes:
            self.stdout.write("No inboxes yet; create one with `manage.py inbox create --owner U --name N`.")
        for inbox in inboxes:
            self.stdout.write(
                f"{inbox.pk:>4}  {inbox.name:<20}  {inbox_selectors.inbox_url(inbox)}  "
                f"{inbox.request_count} requests kept; answers {inbox_selectors.inbox_answer_text(inbox)}"
            )

    def handle_set(self, *, id, owner, name, json, **options):
        inbox = self._get(id, owner)
        values = self._answer(options)
        if name is not None:
            values["name"] = name
        if not values:
            raise usage_error("Say what to change, e.g. --status 500 or --delay 20.")
        try:
            inbox = inbox_services.inbox_update(inbox=inbox, **values)
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        self._emit(inbox, json, "Changed")

    def handle_requests(self, *, id, owner, limit, follow, stop_after, json, **_):
        if limit < 1:
            raise usage_error("--limit must be at least 1.")
        inbox = self._get(id, owner)
        rows = inbox_selectors.inbox_requests(inbox_id=inbox.pk, limit=limit)
        if json and not follow:
            views = [inbox_selectors.inbox_request_view(r) for r in rows]
            self.stdout.write(dump_json([{k: v for k, v in request_dict(v).items() if k != "body"} for v in views]))
            return
        if not follow:
            if not rows:
                self.stdout.write(f"Nothing caught yet; send requests to {inbox_selectors.inbox_url(inbox)}")
            for row in rows:
                self.stdout.write(_request_line(row))
            return
        self._follow(inbox, newest=rows[0].pk if rows else 0, stop_after=stop_after, json=json)

    def _follow(self, inbox: Inbox, *, newest: int, stop_after: int | None, json: bool) -> None:
        """Print requests as they come; ``newest`` is the id of the last one printed (ids only grow, numbers
        start again when the inbox's count restarts)."""
        self.stdout.write(f"Waiting for requests to {inbox_selectors.inbox_url(inbox)} (Ctrl-C stops)")
        seen = 0
        try:
            while stop_after is None or seen < stop_after:
                fresh = inbox_selectors.inbox_requests(inbox_id=inbox.pk, after_id=newest, limit=100, oldest_first=True)
                for row in fresh:
                    newest = max(newest, row.pk)
                    seen += 1
                    if json:
                        self.stdout.write(dump_json(request_dict(inbox_selectors.inbox_request_view(row))))
                    else:
                        self.stdout.write(_request_line(row))
                    self.stdout.flush()
                    if stop_after is not None and seen >= stop_after:
                        return
                time.sleep(POLL_SECONDS)  # polling the database for new rows; there is no push channel here
        except KeyboardInterrupt:
            return

    def handle_show(self, *, request_id, owner, reveal, json, **_):
        row = inbox_selectors.inbox_request_get(owner_id=owner_or_error(owner).pk, request_id=request_id)
        if row is None:
            raise usage_error(f"No caught request {request_id} in {owner!r}'s inboxes.")
        data = request_dict(inbox_selectors.inbox_request_view(row, reveal=reveal))
        if json:
            self.stdout.write(dump_json(data))
            return
        self.stdout.write(f"{data['method']} {data['path']}  #{data['number']}  {data['received_at']}")
        self.stdout.write(f"  from {data['remote_addr']}, answered {data['response_status']}")
        for key, value in data["headers"].items():
            self.stdout.write(f"  {key}: {value}")
        cut = f" (first {len(row.body)} of {data['body_size']} bytes kept)" if data["body_truncated"] else ""
        self.stdout.write(f"  body{cut}:\n{data['body']}")

    def handle_reset(self, *, id, owner, **_):
        inbox = self._get(id, owner)
        deleted = inbox_services.inbox_reset(inbox=inbox)
        self.stdout.write(f"Inbox {inbox.pk}: {deleted} requests forgotten; its count starts again.")

    def handle_remove(self, *, id, owner, **_):
        inbox = self._get(id, owner)
        inbox_services.inbox_delete(inbox=inbox)
        self.stdout.write(f"Removed inbox {id} {inbox.name!r}.")


def _request_line(row) -> str:
    about = f"  {row.event_type} {row.subject}".rstrip() if row.event_type else ""
    return (
        f"{row.pk:>6}  #{row.number:<5} {row.received_at:%Y-%m-%d %H:%M:%S UTC}  {row.method:<6} {row.path:<20} "
        f"{row.body_size:>7} bytes  -> {row.response_status}{about}"
    )
