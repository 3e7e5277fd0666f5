"""How a notification's payload and headers are shown to people: secrets masked, bytes kept exact.

A payload can carry the hottok in its body (UPDATE_SUBSCRIPTION_CHARGE_DATE does, as Hotmart's does). Pages
and the CLI show it masked like the X-HOTMART-HOTTOK header; everything else is shown byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from dispatcher.logging import mask_secret


@dataclass(frozen=True)
class ShownPayload:
    pretty: str  # indented JSON (or the text as it is when it is not JSON), secrets masked
    raw: str  # the exact text sent, secrets masked
    size: int  # bytes sent
    sha256: str  # of the bytes sent
    masked: bool  # whether a secret was masked in what is shown


def payload_shown(payload: str) -> ShownPayload:
    body = payload.encode("utf-8")
    secret = _body_hottok(payload)
    raw = payload.replace(secret, mask_secret(secret)) if secret else payload
    try:
        pretty = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = raw
    return ShownPayload(
        pretty=pretty, raw=raw, size=len(body), sha256=hashlib.sha256(body).hexdigest(), masked=bool(secret)
    )


def _body_hottok(payload: str) -> str:
    try:
        data = json.loads(payload)
    except ValueError:
        return ""
    value = data.get("hottok") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else ""
