"""A receiver that checks freshness the way careful ones do, for the fidelity tests.

It accepts a webhook only when its ``creation_date`` (or ``creationDate``) lies within five minutes before its
own clock, never after it (the usual defence against replayed webhooks), and answers ``401 stale_webhook``
otherwise. It keeps every body it got with the moment it arrived, so a test can check each one against the
moment it was really sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.payload_checks import created_ms

WINDOW_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class Arrival:
    at_ms: int  # the receiver's clock when the request arrived
    payload: dict
    accepted: bool


class StrictReceiver:
    """``StrictReceiver(httpserver, "/strict")`` serves that path; ``url`` is what a configuration points to."""

    def __init__(self, server: HTTPServer, path: str = "/strict") -> None:
        self.url = server.url_for(path)
        self._lock = threading.Lock()
        self._arrivals: list[Arrival] = []
        server.expect_request(path, method="POST").respond_with_handler(self._answer)

    def _answer(self, request: Request) -> Response:
        arrived = int(time.time() * 1000)
        payload = json.loads(request.get_data())
        created = created_ms(payload)
        fresh = arrived - WINDOW_MS <= created <= arrived
        with self._lock:
            self._arrivals.append(Arrival(arrived, payload, fresh))
        if not fresh:
            return Response('{"error":"stale_webhook"}', status=401, content_type="application/json")
        return Response('{"ok":true}', status=200, content_type="application/json")

    @property
    def arrivals(self) -> list[Arrival]:
        with self._lock:
            return list(self._arrivals)

    def bodies(self, event_type: str | None = None) -> list[dict]:
        return [a.payload for a in self.arrivals if event_type is None or a.payload["event"] == event_type]

    def body_of(self, event_type: str, transaction: str | None = None) -> dict:
        """The one body of ``event_type`` (for ``transaction``) it got."""
        found = [
            body
            for body in self.bodies(event_type)
            if transaction is None or body["data"].get("purchase", {}).get("transaction") == transaction
        ]
        assert len(found) == 1, f"{len(found)} bodies of {event_type} {transaction or ''}"
        return found[0]
