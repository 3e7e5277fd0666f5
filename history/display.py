"""How a notification's payload is shown to people: secrets masked, bytes kept exact.

A payload can carry the hottok in its body (the legacy 1.0 form always does; 2.0.0's
UPDATE_SUBSCRIPTION_CHARGE_DATE does, as Hotmart's does). The page shows it masked like the X-HOTMART-HOTTOK
header (``core.secrets``); everything else is shown byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from core.documents import NOT_JSON, parse_json
from core.secrets import mask_body


@dataclass(frozen=True)
class ShownPayload:
    pretty: str  # indented JSON (or the text as it is when it is not JSON), secrets masked
    raw: str  # the exact text sent, secrets masked
    size: int  # bytes sent
    sha256: str  # of the bytes sent
    masked: bool  # whether a secret was masked in what is shown


def payload_shown(payload: str) -> ShownPayload:
    body = payload.encode("utf-8")
    raw = mask_body(payload)
    document = parse_json(raw)
    pretty = raw if document is NOT_JSON else json.dumps(document, indent=2, ensure_ascii=False)
    return ShownPayload(
        pretty=pretty, raw=raw, size=len(body), sha256=hashlib.sha256(body).hexdigest(), masked=raw != payload
    )
