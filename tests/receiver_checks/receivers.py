"""Real Hotmart receivers on 127.0.0.1 for the receiver check's tests: one done right, and one per common
mistake, each a flag of the same small threaded HTTP server.

Done right means: refuse a missing or wrong hottok with 401 before anything else, read the JSON 2.0.0 body and
the 1.0 form, answer 200 to a notification seen before (by its ``id``), ignore fields it does not know, accept
large bodies, answer at once, and accept an event about a purchase it never heard of.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

KNOWN_TOP_LEVEL = {"id", "creation_date", "creationDate", "event", "version", "data", "hottok"}
OPENERS = {"PURCHASE_APPROVED", "PURCHASE_BILLET_PRINTED", "PURCHASE_CANCELED", "PURCHASE_OUT_OF_SHOPPING_CART"}


@dataclass
class Mistakes:
    """What the receiver gets wrong; all False: nothing."""

    accepts_any_hottok: bool = False  # never looks at X-HOTMART-HOTTOK
    fails_repeats: bool = False  # a notification it has seen already gets a 500
    redirects_to_https: bool = False  # 301 to the https URL, as a web server in front of it does
    sleeps: float = 0.0  # does its work before answering
    fails_unknown_purchases: bool = False  # a 500 for an event about a purchase, subscriber or buyer it never saw
    rejects_unknown_fields: bool = False  # validates the JSON against the fields it knows: 422 on any other
    max_body: int | None = None  # 413 for a larger body
    form_only: bool = False  # reads form fields ($_POST) only: a JSON body looks empty, 400
    needs_dispatcher_headers: bool = False  # requires X-Dispatcher-Delivery-Id, which Hotmart never sends


@dataclass
class Caught:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class State:
    seen_ids: set[str] = field(default_factory=set)
    known: set[str] = field(default_factory=set)  # transactions, subscriber codes, e-mails it was told about
    caught: list[Caught] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def identifiers(payload) -> set[str]:
    """What a payload names a purchase by: its transaction, subscriber codes and e-mail addresses."""
    found: set[str] = set()

    def walk(node, parent=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and (
                    key in ("transaction", "email", "subscriber_code") or (key == "code" and parent == "subscriber")
                ):
                    found.add(value)
                walk(value, key)
        elif isinstance(node, list):
            for item in node:
                walk(item, parent)

    walk(payload)
    return found


def parse(content_type: str, body: bytes) -> dict | None:
    if content_type.startswith("application/json"):
        try:
            payload = json.loads(body)
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return None


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a check opens a few dozen connections at once
    daemon_threads = True


class Receiver:
    """A threaded HTTP server on 127.0.0.1 playing a producer's receiver; ``with Receiver(hottok) as r: r.url``."""

    def __init__(self, hottok: str, **mistakes):
        self.hottok = hottok
        self.mistakes = Mistakes(**mistakes)
        self.state = State()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhook/hotmart"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def caught(self) -> list[Caught]:
        with self.state.lock:
            return list(self.state.caught)

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for one POST, as this receiver decides."""
        m, state = self.mistakes, self.state
        if m.redirects_to_https:
            return 301, {"Location": self.url.replace("http://", "https://", 1)}, b""
        if m.needs_dispatcher_headers and "x-dispatcher-delivery-id" not in headers:
            return 400, {}, b'{"error": "missing delivery id"}'
        if m.sleeps:
            time.sleep(m.sleeps)  # the slow work done before answering: the mistake under test
        if m.max_body is not None and len(body) > m.max_body:
            return 413, {}, b"Request Entity Too Large"
        content_type = headers.get("content-type", "")
        if m.form_only and not content_type.startswith("application/x-www-form-urlencoded"):
            return 400, {}, b'{"error": "no fields"}'
        payload = parse(content_type, body)
        if payload is None:
            return 400, {}, b'{"error": "unreadable body"}'
        if not m.accepts_any_hottok:
            sent = headers.get("x-hotmart-hottok", "")
            if not hmac.compare_digest(sent.encode(), self.hottok.encode()):
                return 401, {}, b'{"error": "bad hottok"}'
        if m.rejects_unknown_fields and isinstance(payload.get("data"), dict):
            if set(payload) - KNOWN_TOP_LEVEL:
                return 422, {}, b'{"error": "unexpected field"}'
        # The 1.0 form has no id: a transaction's status is what repeats.
        notification_id = str(payload.get("id") or f"{payload.get('transaction')}:{payload.get('status')}")
        event = str(payload.get("event") or payload.get("status") or "")
        names = identifiers(payload)
        with state.lock:
            repeat = notification_id in state.seen_ids
            state.seen_ids.add(notification_id)
            if repeat:
                return (500, {}, b"duplicate key") if m.fails_repeats else (200, {}, b'{"duplicate": true}')
            if event in OPENERS or payload.get("status") in ("approved", "billet_printed"):
                state.known |= names
            elif m.fails_unknown_purchases and not (names & state.known):
                return 500, {}, b"Order matching query does not exist."
        return 200, {"Content-Type": "application/json"}, b'{"received": true}'

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, content = receiver.answer(headers, body)
                with receiver.state.lock:
                    receiver.state.caught.append(Caught(headers, body, status))
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        return Handler
