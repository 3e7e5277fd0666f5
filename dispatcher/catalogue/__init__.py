"""Payloads: built from one schema per event type (``events.CATALOGUE``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dispatcher.catalogue.events import CATALOGUE, PURCHASE_STATUS, VERSION, EventSchema
from dispatcher.catalogue.schema import Scope, render


@dataclass(frozen=True)
class PayloadContext:
    """What a payload is built from: the event's identity, its facts, and the recipient's hottok."""

    event_id: str
    event_type: str
    created_ms: int
    facts: dict[str, Any]
    hottok: str


def payload_build(ctx: PayloadContext) -> dict[str, Any]:
    return render(CATALOGUE[ctx.event_type].fields, Scope(ctx))


def payload_serialize(payload: dict[str, Any]) -> str:
    """The exact text sent: compact JSON in UTF-8, keys in the catalogue's order."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


__all__ = [
    "CATALOGUE",
    "PURCHASE_STATUS",
    "VERSION",
    "EventSchema",
    "PayloadContext",
    "payload_build",
    "payload_serialize",
]
