"""What makes a POST a Hotmart notification: its headers (the hottok, our delivery id and attempt number) and,
beyond Hotmart, the optional Standard Webhooks signature. The engine sends them; the pages, the inbox and the
receiver check name them."""

from __future__ import annotations

import base64
import hashlib
import hmac

HOTTOK_HEADER = "X-HOTMART-HOTTOK"
DELIVERY_HEADER = "X-Dispatcher-Delivery-Id"
ATTEMPT_HEADER = "X-Dispatcher-Attempt"
EVENT_HEADER = "X-Dispatcher-Event-Id"
USER_AGENT = "HotmartWebhookDispatcherSimulator/0.1 (+self-hosted)"


def build_headers(*, hottok: str, content_type: str, delivery_id: int, attempt: int, event_id: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        HOTTOK_HEADER: hottok,
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "identity",
        DELIVERY_HEADER: str(delivery_id),
        ATTEMPT_HEADER: str(attempt),
        EVENT_HEADER: event_id,
    }


def sign(*, secrets: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Standard Webhooks signature headers: one ``v1,<base64 HMAC-SHA256>`` per secret, space-separated."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    signatures = []
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        signatures.append("v1," + base64.b64encode(digest).decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": " ".join(signatures)}
