"""Secrets as people may see them: one helper for every place a value, a header or a body is shown or logged
(pages, the API, the command line, the inbox, receiver checks, logs).

The hottok travels in the ``X-HOTMART-HOTTOK`` header, and in the body too: the legacy 1.0 form always has a
``hottok`` field, and a 2.0.0 JSON payload has one for some events (UPDATE_SUBSCRIPTION_CHARGE_DATE). Masked,
a secret keeps its first and last four characters: enough to recognise it, not to use it. Everything around a
masked secret is shown byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import quote, quote_plus, unquote_plus

from core.documents import NOT_JSON, parse_json
from core.hotmart import HOTTOK_HEADER

HOTTOK_FIELD = "hottok"
SECRET_HEADERS = frozenset({HOTTOK_HEADER.lower(), "authorization"})
# Names that say a value is a secret: log keys, URL query parameters.
SECRET_WORDS = ("hottok", "secret", "password", "authorization", "token")
# A secret known from elsewhere (the header's hottok) is also masked wherever it appears in a body that does not
# parse; shorter ones would mask ordinary text.
KNOWN_SECRET_MIN_LENGTH = 8

_QUERY_SECRET = re.compile(r"([?&][^=&\s]*(?:" + "|".join(SECRET_WORDS) + r")[^=&\s]*=)[^&\s\"]*", re.IGNORECASE)


def mask_secret(value: object) -> str:
    """``abcd…wxyz`` for long secrets, ``****`` for short ones, ``""`` for none."""
    text = "" if value is None else str(value)
    if len(text) >= 16:
        return f"{text[:4]}…{text[-4:]}"
    return "****" if text else ""


def is_secret_name(name: str) -> bool:
    """Whether a key (a log field, a parameter) names a secret: ``hottok``, ``client_secret``, ``access_token``..."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def mask_query_secrets(text: str) -> str:
    """``/token?client_id=a&client_secret=b`` -> ``/token?client_id=a&client_secret=****``."""
    return _QUERY_SECRET.sub(r"\1****", text)


def header_value(headers: Mapping[str, str], name: str) -> str:
    """A header's value whatever the case of its name; ``""`` when it is not there."""
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), "")


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as they may be stored and shown: the hottok and Authorization masked, the rest as they are."""
    return {key: (mask_secret(value) if key.lower() in SECRET_HEADERS else value) for key, value in headers.items()}


def mask_body(text: str, *, known: Iterable[str] = ()) -> str:
    """A body of either payload version as it may be shown: the ``hottok`` of a JSON document (at any depth) or
    of a form masked, and every ``known`` secret (e.g. the header's hottok) wherever it appears, also in a body
    that does not parse (cut at a cap, or not what it claims to be). The rest stays byte for byte.

    The declared Content-Type is not trusted: a body is read as JSON if it parses as JSON, else as a form.
    """
    if HOTTOK_FIELD in text.lower():  # else there is no field to mask, and nothing to parse
        document = parse_json(text)
        text = _mask_form(text) if document is NOT_JSON else _mask_json(text, document)
    return _mask_known(text, _spellings(known))


def mask_answer(headers: Mapping[str, str], body: str, *, sent: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """A receiver's answer as it may be kept and shown: its secret headers masked, and the secrets the request
    carried (``sent``: its headers) masked wherever the answer echoes them (httpbin-like receivers echo it all,
    in the body or in headers of their own). On the delivery path: a few substring searches, no parsing."""
    spellings = _spellings(header_value(sent, name) for name in SECRET_HEADERS)
    shown = {name: _mask_known(value, spellings) for name, value in masked_headers(headers).items()}
    return shown, _mask_known(body, spellings)


def _spellings(known: Iterable[str]) -> list[tuple[str, str]]:
    """(how a known secret may be written, its mask): as it is, and URL-encoded."""
    return [pair for secret in set(known) if len(secret) >= KNOWN_SECRET_MIN_LENGTH for pair in _spelled(secret)]


@lru_cache(maxsize=1024)
def _spelled(secret: str) -> tuple[tuple[str, str], ...]:
    masked = mask_secret(secret)
    return tuple((spelling, masked) for spelling in {secret, quote_plus(secret), quote(secret, safe="")})


def _mask_known(text: str, spellings: list[tuple[str, str]]) -> str:
    for spelling, masked in spellings:
        if spelling in text:
            text = text.replace(spelling, masked)
    return text


def _json_secrets(document: object) -> list[str]:
    """The string values of every ``hottok`` key in a document (``parse_json`` bounds its depth)."""
    found, stack = [], [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key.lower() == HOTTOK_FIELD and isinstance(value, str) and value:
                    found.append(value)
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _mask_json(text: str, document: object) -> str:
    secrets = _json_secrets(document)
    if not secrets:
        return text
    for secret in set(secrets):
        masked = json.dumps(mask_secret(secret), ensure_ascii=False)
        spellings = {json.dumps(secret, ensure_ascii=False), json.dumps(secret)}
        if not any(spelling in text for spelling in spellings):
            return json.dumps(_masked_document(document), ensure_ascii=False, separators=(",", ":"))
        for spelling in spellings:
            text = text.replace(spelling, masked)
    return text


def _masked_document(document: object) -> object:
    """A copy of ``document`` with every ``hottok`` string masked (for text whose spelling could not be kept)."""
    if isinstance(document, dict):
        return {
            key: mask_secret(value)
            if key.lower() == HOTTOK_FIELD and isinstance(value, str)
            else _masked_document(value)
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [_masked_document(item) for item in document]
    return document


def _mask_form(text: str) -> str:
    """``a=1&hottok=abcdefghijklmnopqrst&b=2`` -> ``a=1&hottok=abcd…qrst&b=2``: only the value changes."""
    pieces = []
    for piece in text.split("&"):
        name, equals, value = piece.partition("=")
        if equals and unquote_plus(name).lower() == HOTTOK_FIELD and value:
            piece = f"{name}={mask_secret(unquote_plus(value))}"
        pieces.append(piece)
    return "&".join(pieces)
