"""Payloads: built from one schema per event type (``events.CATALOGUE``), per recipient and payload version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from catalogue.events import PayloadVersion
from catalogue.payloads import CATALOGUE, PURCHASE_STATUS, TEST_BUTTON, VERSION, EventSchema
from catalogue.schema import PRODUCER, Audience, Scope, render, render_form

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class PayloadContext:
    """What a payload is built from: the event's identity, its facts, and who receives it (its hottok, and
    whether it is an affiliate, which filters the fields)."""

    event_id: str
    event_type: str
    created_ms: int
    facts: dict[str, Any]
    hottok: str
    audience: Audience = PRODUCER


@dataclass(frozen=True)
class Body:
    """The exact text a notification sends, and its Content-Type."""

    text: str
    content_type: str


def affiliate_audience(facts: dict[str, Any]) -> Audience:
    """How an affiliate sees this event: with the buyer's data only if the producer shared it at the time."""
    return Audience(affiliate=True, buyer_data=bool(facts.get("producer", {}).get("shares_buyer_data")))


def payload_build(ctx: PayloadContext) -> dict[str, Any]:
    """The 2.0.0 payload as a JSON object."""
    return render(CATALOGUE[ctx.event_type].fields, Scope(ctx), ctx.audience)


def payload_form(ctx: PayloadContext) -> list[tuple[str, str]]:
    """The legacy 1.0 postback as (name, text) pairs; only purchase events have one."""
    schema = CATALOGUE[ctx.event_type]
    if PayloadVersion.V1 not in schema.versions:
        raise ValueError(f"{ctx.event_type} has no 1.0 postback; only purchase events do")
    return render_form(schema.fields, Scope(ctx), ctx.audience)


def payload_serialize(payload: dict[str, Any]) -> str:
    """The exact text sent: compact JSON in UTF-8, keys in the catalogue's order."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def payload_encode(ctx: PayloadContext, version: str = PayloadVersion.V2) -> Body:
    """The body a recipient gets in its configuration's version: JSON 2.0.0, or the 1.0 form-encoded postback."""
    if version == PayloadVersion.V1:
        return Body(urlencode(payload_form(ctx)), FORM)
    return Body(payload_serialize(payload_build(ctx)), JSON)


__all__ = [
    "CATALOGUE",
    "FORM",
    "JSON",
    "PRODUCER",
    "PURCHASE_STATUS",
    "TEST_BUTTON",
    "VERSION",
    "Audience",
    "Body",
    "EventSchema",
    "PayloadContext",
    "affiliate_audience",
    "payload_build",
    "payload_encode",
    "payload_form",
    "payload_serialize",
]
