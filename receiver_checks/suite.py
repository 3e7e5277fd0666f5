"""What a receiver check sends: the checks of the suite, each with the POSTs it makes and why it matters.

``plan_build`` turns a target (its URL, payload version, events and hottok) into the checks, in the order the
report shows them, and the sequences of POSTs behind them. A sequence's POSTs go one after the other; the
sequences run side by side, so the whole check takes about two POSTs' time limits however many there are.
Payloads are built by the event catalogue from test-sale facts (Hotmart's "send test" button: the test product,
id 0, and a test buyer), each with its own transaction, so checks never disturb one another.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

from catalogue import (
    FORM,
    JSON,
    PURCHASE_STATUS,
    PayloadContext,
    payload_build,
    payload_encode,
    payload_form,
    payload_serialize,
)
from catalogue.events import PURCHASE_EVENTS, EventType, PayloadVersion
from catalogue.facts import epoch_ms, test_sale_facts
from configurations.selectors import test_product

E = EventType

# Events about an earlier purchase, and the event that tells a receiver about that purchase first. When the
# target also gets that earlier event, the check sends it first, for the same transaction, as Hotmart would.
PREREQUISITE: dict[str, str] = {
    E.PURCHASE_COMPLETE: E.PURCHASE_APPROVED,
    E.PURCHASE_REFUNDED: E.PURCHASE_APPROVED,
    E.PURCHASE_CHARGEBACK: E.PURCHASE_APPROVED,
    E.PURCHASE_PROTEST: E.PURCHASE_APPROVED,
    E.PURCHASE_DELAYED: E.PURCHASE_APPROVED,
    E.PURCHASE_EXPIRED: E.PURCHASE_BILLET_PRINTED,
    E.SUBSCRIPTION_CANCELLATION: E.PURCHASE_APPROVED,
    E.SWITCH_PLAN: E.PURCHASE_APPROVED,
    E.UPDATE_SUBSCRIPTION_CHARGE_DATE: E.PURCHASE_APPROVED,
    E.CLUB_FIRST_ACCESS: E.PURCHASE_APPROVED,
    E.CLUB_MODULE_COMPLETED: E.PURCHASE_APPROVED,
}
# Which event the "unknown purchase" check sends, by preference: a refund first, as the receivers fail.
UNKNOWN_PURCHASE_ORDER = (
    E.PURCHASE_REFUNDED,
    E.PURCHASE_CHARGEBACK,
    E.PURCHASE_PROTEST,
    E.PURCHASE_COMPLETE,
    E.PURCHASE_DELAYED,
    E.SUBSCRIPTION_CANCELLATION,
    E.SWITCH_PLAN,
    E.UPDATE_SUBSCRIPTION_CHARGE_DATE,
    E.CLUB_FIRST_ACCESS,
    E.CLUB_MODULE_COMPLETED,
    E.PURCHASE_EXPIRED,
)
EXTRA_FIELD = "extra_field_from_hotmart"
BUNDLE_SIZE = 100  # products in the largest payload's bundle
LONG_NAME = 255  # the catalogue's size for names

# Keys and texts of the checks, in the report's order (``event:<TYPE>`` stands for one check per event).
TITLES = {
    "https": "The URL uses https (or is on your machine)",
    "event": "{event} is accepted",
    "hottok_wrong": "A wrong hottok is refused",
    "hottok_missing": "A missing hottok is refused",
    "repeat": "A repeated notification is accepted again",
    "unknown_purchase": "An event about a purchase it never saw is accepted",
    "unknown_field": "Fields it does not know are ignored",
    "size": "The largest realistic payload is accepted",
    "payload_format": "It reads the payload format it is sent",
    "hotmart_headers": "It needs no header Hotmart does not send",
    "redirects": "No redirects",
    "speed": "It answers in time",
}
WHY = {
    "https": "The hottok travels in a header, and payloads carry buyers' names, e-mails and documents.",
    "event": "Hotmart sends this event to this URL. Any answer but a 2xx is retried up to 5 times, and a URL that "
    "keeps failing gets the configuration disabled.",
    "hottok_wrong": "The hottok is the only proof that a notification comes from Hotmart: a receiver that accepts "
    "a wrong one lets anyone who learns the URL fake sales.",
    "hottok_missing": "Without the hottok nothing shows that a notification comes from Hotmart: accepting it lets "
    "anyone who learns the URL fake sales.",
    "repeat": "Hotmart sends a notification again, with the same `id`, whenever an answer is lost, late or not a "
    "2xx: every repeat must be harmless and answered 2xx.",
    "unknown_purchase": "Refunds, chargebacks and cancellations arrive for purchases your system never recorded "
    "(made before you integrated, or whose approval failed, or arriving first); a 5xx there is retried and can "
    "get the configuration disabled.",
    "unknown_field": "Hotmart adds fields to its payloads without notice; a receiver that validates them "
    "strictly breaks the day it does.",
    "size": "Names can be 255 characters long and a purchase can carry many products; a body limit set too low "
    "refuses real sales.",
    "payload_format": "The 2.0.0 postback is JSON; the legacy 1.0 one is a form. A receiver written for one "
    "refuses the other.",
    "hotmart_headers": "This simulator adds headers of its own (X-Dispatcher-*, optional signatures); Hotmart "
    "sends none of them, so a receiver must not depend on them.",
    "redirects": "Hotmart does not follow redirects: a 301 or 302 (http to https, a missing trailing slash) is a "
    "failed delivery, every time.",
    "speed": "Hotmart waits a limited time for an answer and sends the notification again when it does not come; "
    "a receiver that does slow work before answering gets duplicates and failures.",
}


@dataclass(frozen=True)
class Post:
    """One notification a check sends: its event and exact body, and how its headers differ from a delivery's.

    ``hottok`` is what goes in X-HOTMART-HOTTOK (None: no such header). ``hotmart_only`` leaves out the headers
    that are this simulator's own. ``times`` is 2 for a repeat: the same notification sent again, as attempt 2,
    once the first has been answered.
    """

    event_type: str
    event_uuid: uuid.UUID
    occurred_at: datetime
    facts: dict
    body: str
    content_type: str
    hottok: str | None
    note: str
    forged: bool = False  # its hottok is wrong or missing: it is not signed either
    hotmart_only: bool = False
    times: int = 1

    @property
    def transaction(self) -> str:
        return self.facts["purchase"]["transaction"] if self.event_type in PURCHASE_EVENTS else ""

    @property
    def buyer_email(self) -> str:
        return self.facts["buyer"]["email"]


@dataclass(frozen=True)
class Sequence:
    """The POSTs of one check that go one after the other (an earlier event, then the one checked)."""

    key: str
    posts: tuple[Post, ...]


@dataclass(frozen=True)
class CheckSpec:
    """One check of the report: what it sends and why, and which sequences it is graded from."""

    key: str
    title: str
    why: str
    sent: str
    needs: tuple[str, ...] = ()  # sequence keys; empty for a check graded from the URL alone
    derived: bool = False  # graded from every POST of the run, once all are answered
    skip_reason: str = ""  # not applicable to this target: graded "skip" at once


@dataclass
class Plan:
    checks: list[CheckSpec] = field(default_factory=list)
    sequences: list[Sequence] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """What is checked: the URL, the payload version and events it gets, and the producer's hottok."""

    url: str
    payload_version: str
    events: tuple[str, ...]
    hottok: str
    owner: object  # the producer (a user): the test sale's facts name it
    account: object  # its webhook account: the test sale's producer

    @property
    def content_type(self) -> str:
        return FORM if self.payload_version == PayloadVersion.V1 else JSON

    @property
    def format_name(self) -> str:
        return "the legacy 1.0 form" if self.payload_version == PayloadVersion.V1 else "JSON 2.0.0"


def wrong_hottok() -> str:
    """A random token shaped like a hottok: never the producer's, never derived from it."""
    return secrets.token_urlsafe(24)[:32]


def plan_build(target: Target, *, now: datetime) -> Plan:
    """The checks for ``target`` and the POSTs behind them, in the report's order."""
    plan = Plan()
    # In Hotmart's order; the legacy 1.0 form exists for purchase events only.
    events = [
        e
        for e in EventType.values
        if e in target.events and (target.payload_version == PayloadVersion.V2 or e in PURCHASE_EVENTS)
    ]
    primary = E.PURCHASE_APPROVED if E.PURCHASE_APPROVED in events else events[0]
    builder = _Builder(target, now)

    plan.checks.append(CheckSpec("https", TITLES["https"], WHY["https"], "Nothing: the URL is read."))
    for event_type in events:
        key = f"event:{event_type}"
        main = builder.post(event_type, note="checked")
        before = PREREQUISITE.get(event_type)
        if before in events:
            first = builder.post(before, facts=_earlier_facts(main.facts, before), note=f"before {event_type}")
            # The earlier event happened a moment before the one checked, as in a real sale.
            first = _replace(first, occurred_at=main.occurred_at - timedelta(seconds=1))
            posts = (first, main)
            sent = (
                f"{event_type} ({target.format_name}, {_size(main)}) for transaction {main.transaction or '-'}, "
                f"right after its {before} (the purchase it is about)."
            )
        else:
            posts = (main,)
            sent = f"{event_type} ({target.format_name}, {_size(main)}), with the test product and buyer."
        plan.sequences.append(Sequence(key, posts))
        plan.checks.append(CheckSpec(key, TITLES["event"].format(event=event_type), WHY["event"], sent, needs=(key,)))

    v1 = target.payload_version == PayloadVersion.V1
    control = f"event:{primary}"
    wrong = builder.post(primary, hottok=wrong_hottok(), note="wrong hottok")
    in_body = " (also in the body's hottok field)" if v1 else ""
    sent = f"{primary} with a wrong X-HOTMART-HOTTOK: a random token, not yours{in_body}."
    _single(plan, "hottok_wrong", wrong, sent, compare_with=control)
    missing = builder.post(primary, hottok=None, note="no hottok")
    in_body = " and no hottok field in the body" if v1 else ""
    _single(
        plan, "hottok_missing", missing, f"{primary} with no X-HOTMART-HOTTOK header{in_body}.", compare_with=control
    )

    repeat = _replace(builder.post(primary, note="sent twice"), times=2)
    sent = (
        f"{primary} twice: the same bytes and `id` ({repeat.event_uuid}), the second as attempt 2 once the first "
        "was answered, as a Hotmart retry."
    )
    _single(plan, "repeat", repeat, sent)

    unknown_event = next((e for e in UNKNOWN_PURCHASE_ORDER if e in events), None)
    if unknown_event is None:
        reason = "It gets no event about an earlier purchase (refund, chargeback, cancellation...)."
        plan.checks.append(_skipped("unknown_purchase", reason))
    else:
        stray = builder.post(unknown_event, note="unknown purchase")
        about = f"transaction {stray.transaction}" if stray.transaction else f"buyer {stray.buyer_email}"
        sent = f"{unknown_event} for {about}, which the receiver was never told about."
        _single(plan, "unknown_purchase", stray, sent, compare_with=f"event:{unknown_event}")

    extra = builder.post(primary, note="unknown fields", mutate=_add_unknown_fields)
    where = f"a form field `{EXTRA_FIELD}`" if v1 else f"`{EXTRA_FIELD}` at the top, in `data` and in `data.purchase`"
    _single(
        plan, "unknown_field", extra, f"{primary} with fields Hotmart may add one day: {where}.", compare_with=control
    )

    big = builder.post(primary, facts=_largest_facts(builder.facts(primary)), note="largest payload")
    bundle = "" if v1 else f", a bundle of {BUNDLE_SIZE} products"
    sent = f"{primary} of {_size(big)}: {LONG_NAME}-character names with accents{bundle}."
    _single(plan, "size", big, sent, compare_with=control)

    format_event = next((e for e in (primary, *events) if e in PURCHASE_EVENTS), None)
    other = PayloadVersion.V2 if v1 else PayloadVersion.V1
    other_name = "JSON 2.0.0" if v1 else "legacy 1.0 form"
    if format_event is None:
        reason = "The legacy 1.0 form exists for purchase events only, and it gets none."
        plan.checks.append(_skipped("payload_format", reason))
    else:
        switched = builder.post(format_event, version=other, note=f"as the {other_name}")
        sent = (
            f"{format_event} in the {other_name} format as well ({switched.content_type}), to tell a receiver that "
            "reads the wrong format from one that refuses everything."
        )
        _single(plan, "payload_format", switched, sent, compare_with=f"event:{format_event}")

    bare = _replace(builder.post(primary, note="Hotmart's headers only"), hotmart_only=True)
    sent = (
        f"{primary} with only the headers Hotmart sends (Content-Type, X-HOTMART-HOTTOK, User-Agent, Accept, "
        "Accept-Encoding): none of this simulator's X-Dispatcher-* or signature headers."
    )
    _single(plan, "hotmart_headers", bare, sent, compare_with=control)
    plan.checks.append(CheckSpec("redirects", TITLES["redirects"], WHY["redirects"], "Every POST above.", derived=True))
    plan.checks.append(CheckSpec("speed", TITLES["speed"], WHY["speed"], "Every POST above.", derived=True))
    return plan


def _single(plan: Plan, key: str, post: Post, sent: str, *, compare_with: str | None = None) -> None:
    """A check made of one POST, graded on its own or against the answer to ``compare_with`` (a sequence)."""
    plan.sequences.append(Sequence(key, (post,)))
    needs = (key,) if compare_with is None else (key, compare_with)
    plan.checks.append(CheckSpec(key, TITLES[key], WHY[key], sent, needs=needs))


def _skipped(key: str, reason: str) -> CheckSpec:
    return CheckSpec(key, TITLES[key], WHY[key], "Nothing.", skip_reason=reason)


class _Builder:
    """Makes the posts of one plan: fresh test-sale facts per post, bodies from the catalogue."""

    def __init__(self, target: Target, now: datetime):
        self.target, self.now = target, now

    def facts(self, event_type: str) -> dict:
        """A new test sale: the test product, and a test buyer of its own (``teste+<code>@example.com``), so
        that no check's buyer is one another check told the receiver about."""
        facts = test_sale_facts(
            product=test_product(owner=self.target.owner),
            producer=self.target.account,
            event_type=event_type,
            occurred_at=self.now,
        )
        local, _, domain = facts["buyer"]["email"].partition("@")
        facts["buyer"]["email"] = f"{local}+{secrets.token_hex(4)}@{domain}"
        return facts

    def post(
        self,
        event_type: str,
        *,
        note: str,
        facts: dict | None = None,
        hottok: str | None | object = ...,
        version: str | None = None,
        mutate=None,
    ) -> Post:
        """A post of ``event_type``; ``hottok`` ... (the default) is the producer's, None is none at all."""
        facts = facts if facts is not None else self.facts(event_type)
        event_uuid = uuid.uuid4()
        sent_hottok = self.target.hottok if hottok is ... else hottok
        ctx = PayloadContext(
            event_id=str(event_uuid),
            event_type=event_type,
            created_ms=epoch_ms(self.now),
            facts=facts,
            hottok=sent_hottok or "",
        )
        version = version or self.target.payload_version
        if version == PayloadVersion.V1:
            pairs = payload_form(ctx)
            if sent_hottok is None:
                pairs = [(name, value) for name, value in pairs if name != "hottok"]
            if mutate is not None:
                pairs = mutate(pairs)
            body, content_type = urlencode(pairs), FORM
        elif sent_hottok is None or mutate is not None:
            payload = payload_build(ctx)
            if sent_hottok is None:
                payload.pop("hottok", None)  # UPDATE_SUBSCRIPTION_CHARGE_DATE carries it in the body too
            if mutate is not None:
                payload = mutate(payload)
            body, content_type = payload_serialize(payload), JSON
        else:
            encoded = payload_encode(ctx, version)
            body, content_type = encoded.text, encoded.content_type
        return Post(
            event_type=event_type,
            event_uuid=event_uuid,
            occurred_at=self.now,
            facts=facts,
            body=body,
            content_type=content_type,
            hottok=sent_hottok,
            note=note,
            forged=sent_hottok != self.target.hottok,
        )


def _replace(post: Post, **changes) -> Post:
    return replace(post, **changes)


def _size(post: Post) -> str:
    size = len(post.body.encode())
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} bytes"


def _earlier_facts(facts: dict, event_type: str) -> dict:
    """The same sale as it stood at ``event_type``: same transaction, buyer and subscription."""
    earlier = copy.deepcopy(facts)
    earlier["purchase"]["status"] = PURCHASE_STATUS.get(event_type, "APPROVED")
    if earlier.get("subscription"):
        earlier["subscription"]["status"] = "ACTIVE"
    return earlier


def _add_unknown_fields(payload):
    """Fields no receiver can know yet: at the top, in ``data`` and in ``data.purchase`` (JSON); one more form
    field (the 1.0 form)."""
    if isinstance(payload, list):
        return [*payload, (EXTRA_FIELD, "1")]
    payload[EXTRA_FIELD] = {"added": "by a future version of the payload", "ignore": True}
    data = payload.get("data")
    if isinstance(data, dict):
        data[EXTRA_FIELD] = ["a", "list", "of", "values"]
        if isinstance(data.get("purchase"), dict):
            data["purchase"][EXTRA_FIELD] = 42
    return payload


def _long(text: str) -> str:
    """``text`` padded to the catalogue's longest name, with accented letters (2 bytes each in UTF-8)."""
    filler = " · Formação Avançada em Gestão de Negócios Digitais, Edição Especial"
    return (text + filler * 8)[:LONG_NAME]


def _largest_facts(facts: dict) -> dict:
    """A sale as large as a real one gets: every name at its longest, a bundle of many products."""
    big = copy.deepcopy(facts)
    product = big["product"]
    product["name"] = _long("Produto de teste")
    product["content"] = [
        {**product["content"][0], "id": 9_000_000 + n, "name": _long(f"Módulo bônus nº {n + 1}")}
        for n in range(BUNDLE_SIZE)
    ]
    buyer = big["buyer"]
    buyer["name"] = _long("Maria da Conceição Araújo Gonçalves")
    buyer["first_name"] = _long("Maria da Conceição")
    buyer["last_name"] = _long("Araújo Gonçalves")
    address = buyer.get("address") or {}
    for key in ("street", "neighborhood", "city", "complement"):
        if key in address:
            address[key] = _long(str(address[key]))
    big["producer"]["name"] = _long("Produtora Exemplo")
    if big.get("subscription") and big["subscription"].get("plan"):
        big["subscription"]["plan"]["name"] = _long("Plano Anual Premium")
    return big
