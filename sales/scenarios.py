"""Scenarios: a customer story written as a YAML or JSON list of steps, replayed through the simulator's
services (``python manage.py scenario FILE``; ``docs/scenarios.md`` describes the format).

A scenario has its own clock. ``wait: 8d`` moves it forward without waiting; by default the story is dated so
that its last step happens now, so a purchase that "waited" eight days was made eight days ago. ``sleep: 2``
really pauses (to pace deliveries). A scenario is checked by a dry run first (every step, rolled back): one
that would fail at step 4 records nothing, and its error names the step.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalogue.events import AFFILIATE_EVENTS, EventType
from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.models import Configuration
from core.documents import too_deep
from core.numbers import NotANumber, finite_float
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services
from sales import services
from sales.lifecycle import PurchaseStatus
from sales.services import SaleOutcome

MAX_SLEEP = 60.0  # seconds a single ``sleep`` step may pause
MAX_STEPS = 500
MAX_FILE_BYTES = 1024 * 1024  # a story of MAX_STEPS steps is a few dozen KiB
MAX_DEPTH = 10  # mappings and lists within each other: a scenario needs 4
MAX_NODES = 20_000  # values in the whole file, an alias counted each time it is used
MAX_STORY = timedelta(days=3650)  # what all the waits may add up to
START_EARLIEST, START_LATEST = datetime(1970, 1, 1), datetime(2100, 12, 31)  # payloads date events in epoch ms

_TRANSITIONS = {
    "approve": PurchaseStatus.APPROVED,
    "complete": PurchaseStatus.COMPLETED,
    "cancel": PurchaseStatus.CANCELED,
    "refund": PurchaseStatus.REFUNDED,
    "chargeback": PurchaseStatus.CHARGEBACK,
    "dispute": PurchaseStatus.DISPUTE,
    "delay": PurchaseStatus.DELAYED,
    "expire": PurchaseStatus.EXPIRED,
}

# Each action: the options it takes, and the option a bare value fills (``refund: ana``).
ACTIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "buy": (
        frozenset(
            {
                "product",
                "payment",
                "refused",
                "buyer_email",
                "buyer_name",
                "installments",
                "affiliate",
                "coupon",
                "src",
                "sck",
                "xcod",
                "plan",
                "as",
            }
        ),
        None,
    ),
    **{name: (frozenset({"transaction"}), "transaction") for name in _TRANSITIONS},
    "renew": (frozenset({"subscription", "refused", "as"}), "subscription"),
    "cancel_subscription": (frozenset({"subscription", "by"}), "subscription"),
    "switch_plan": (frozenset({"subscription", "plan"}), "plan"),
    "change_charge_day": (frozenset({"subscription", "day"}), "day"),
    "abandon_cart": (frozenset({"product", "buyer_email", "buyer_name", "buyer_phone", "affiliate"}), None),
    "first_access": (frozenset({"transaction"}), "transaction"),
    "complete_module": (frozenset({"transaction", "module"}), "transaction"),
    "affiliate": (frozenset({"username", "name", "product", "commission", "inbox", "as"}), "username"),
    "share_buyer_data": (frozenset({"allowed"}), "allowed"),
    "wait": (frozenset({"duration"}), "duration"),
    "sleep": (frozenset({"seconds"}), "seconds"),
}

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


class ScenarioError(Exception):
    """A scenario that cannot be run, with one line saying where and why."""


@dataclass(frozen=True)
class Step:
    number: int
    action: str
    options: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    owner: str | None
    product: int | None
    start: datetime | None
    steps: list[Step]

    @property
    def story_length(self) -> timedelta:
        """What the waits add up to; ScenarioError past MAX_STORY (the story would be dated before the calendar)."""
        length = timedelta()
        for step in self.steps:
            if step.action == "wait":
                length += _duration(step.options["duration"], step.number)
                if length > MAX_STORY:
                    raise ScenarioError(f"step {step.number} (wait): the waits add up to more than 10 years.")
        return length


@dataclass
class StepResult:
    step: Step
    at: datetime
    outcome: SaleOutcome | None = None
    note: str = ""


def duration_parse(value: Any) -> timedelta | None:
    """``90`` (seconds), ``"30s"``, ``"15m"``, ``"2h"``, ``"8d"``, ``"1w"``, ``"1d12h"``; None if not a duration
    (also ``.nan``, ``.inf``, or longer than MAX_STORY)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value
    else:
        text = str(value).strip().lower().replace(" ", "")
        if not text or _DURATION.sub("", text):
            return None
        seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(text))
    try:
        seconds = finite_float(seconds)
    except NotANumber:
        return None
    if not 0 <= seconds <= MAX_STORY.total_seconds():
        return None
    return timedelta(seconds=seconds)


def _duration(value: Any, number: int) -> timedelta:
    parsed = duration_parse(value)
    if parsed is None:
        raise ScenarioError(
            f"step {number} (wait): {value!r} is not a duration such as 30s, 15m, 2h or 8d (at most 10 years)."
        )
    return parsed


def scenario_parse(text: str, *, source: str = "scenario") -> Scenario:
    """Read a scenario from YAML (JSON is YAML too); ScenarioError names the first problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML or JSON"
        raise ScenarioError(f"{source}: {problem}{where}.") from None
    except RecursionError:
        raise ScenarioError(f"{source}: nested too deeply; a scenario is a list of steps.") from None
    if too_deep(data, max_depth=MAX_DEPTH, max_nodes=MAX_NODES):
        raise ScenarioError(
            f"{source}: nested deeper than {MAX_DEPTH} levels, or more than {MAX_NODES} values (an alias counts "
            "each time it is used); a scenario is a short list of steps."
        )
    if isinstance(data, list):
        data = {"steps": data}
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping with a `steps` list.")
    unknown = set(data) - {"name", "description", "owner", "product", "start", "steps"}
    if unknown:
        raise ScenarioError(
            f"{source}: unknown key {sorted(unknown)[0]!r}; use name, description, owner, product, start, steps."
        )
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError(f"{source}: `steps` must be a non-empty list.")
    if len(raw_steps) > MAX_STEPS:
        raise ScenarioError(f"{source}: at most {MAX_STEPS} steps.")
    product = data.get("product")
    if product is not None and (not isinstance(product, int) or isinstance(product, bool)):
        raise ScenarioError(f"{source}: `product` is a Hotmart product id (a number).")
    start = None
    if data.get("start") is not None:
        start = data["start"] if isinstance(data["start"], datetime) else parse_datetime(str(data["start"]))
        if start is None or timezone.is_naive(start):
            raise ScenarioError(f"{source}: `start` is a date-time with its zone, e.g. 2026-11-01T10:00:00Z.")
        if not START_EARLIEST.year <= start.year <= START_LATEST.year:
            raise ScenarioError(f"{source}: `start` is a date-time from 1970 to 2100.")
    steps = [_step(raw, number) for number, raw in enumerate(raw_steps, start=1)]
    scenario = Scenario(
        name=str(data.get("name") or source),
        description=str(data.get("description") or ""),
        owner=str(data["owner"]) if data.get("owner") is not None else None,
        product=product,
        start=start,
        steps=steps,
    )
    scenario.story_length  # noqa: B018 - every wait is checked now, not halfway through
    return scenario


def _step(raw: Any, number: int) -> Step:
    if isinstance(raw, str):
        action, value = raw.strip(), None
    elif isinstance(raw, dict) and len(raw) == 1:
        [(action, value)] = raw.items()
        action = str(action).strip()
    else:
        raise ScenarioError(f"step {number}: write one action per step, e.g. `- refund: ana` or `- wait: 2d`.")
    if action not in ACTIONS:
        raise ScenarioError(f"step {number}: unknown action {action!r}; actions: {', '.join(ACTIONS)}.")
    allowed, bare = ACTIONS[action]
    if isinstance(value, dict):
        options = {str(k): v for k, v in value.items()}
        unknown = set(options) - allowed
        if unknown:
            raise ScenarioError(
                f"step {number} ({action}): unknown option {sorted(unknown)[0]!r}; "
                f"options: {', '.join(sorted(allowed))}."
            )
    elif value is None:
        options = {}
    elif bare is not None:
        options = {bare: value}
    else:
        raise ScenarioError(f"step {number} ({action}): give its options as a mapping, e.g. `{{payment: pix}}`.")
    required = {
        "wait": "duration",
        "sleep": "seconds",
        "affiliate": "username",
        "switch_plan": "plan",
        "change_charge_day": "day",
        "share_buyer_data": "allowed",
    }.get(action)
    if required and options.get(required) is None:
        raise ScenarioError(f"step {number} ({action}): it needs `{required}`.")
    if action == "sleep":
        seconds = options["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_SLEEP:
            raise ScenarioError(f"step {number} (sleep): a number of seconds from 0 to {MAX_SLEEP:g}.")
    return Step(number=number, action=action, options=options)


def path_shown(path: str) -> str:
    """A file name as text any terminal takes: a name of bytes that are not UTF-8 with them replaced."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def scenario_load(path: str) -> Scenario:
    """Read a scenario file: at most MAX_FILE_BYTES of UTF-8 (an endless file, ``/dev/zero``, is refused)."""
    shown = path_shown(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{shown}: {exc.strerror or exc}.") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{shown}: larger than {MAX_FILE_BYTES // 1024} KiB; a scenario is a short list of steps.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{shown}: not UTF-8 text.") from None
    return scenario_parse(text, source=shown)


class _Story:
    """The state of a run: the clock, and what the aliases stand for."""

    def __init__(self, scenario: Scenario, owner: AbstractBaseUser, start: datetime):
        self.scenario, self.owner, self.clock = scenario, owner, start
        self.transactions: dict[str, str] = {}
        self.subscriptions: dict[str, str] = {}
        self.affiliates: dict[str, str] = {}
        self.last_transaction: str | None = None
        self.last_subscription: str | None = None


def scenario_run(
    *,
    scenario: Scenario,
    owner: AbstractBaseUser,
    now: datetime | None = None,
    dry_run: bool = False,
    sleep: Callable[[float], None] | None = time.sleep,
    on_step: Callable[[StepResult], None] | None = None,
) -> list[StepResult]:
    """Replay the scenario for ``owner``; answers one result per step.

    Every step is first run in a transaction that is rolled back (nothing recorded, nothing sent, no sleeping),
    so a scenario that would fail records nothing; ``dry_run`` stops there. ``sleep`` None skips ``sleep`` steps.
    Raises ScenarioError naming the step.
    """
    now = now or timezone.now()
    start = scenario.start or now - scenario.story_length
    try:
        with db_transaction.atomic():
            checked = _play(scenario, owner, start, sleep=None, on_step=None)
            db_transaction.set_rollback(True)
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} (nothing was recorded)") from None
    if dry_run:
        return checked
    return _play(scenario, owner, start, sleep=sleep, on_step=on_step, recording=True)


def _play(scenario, owner, start, *, sleep, on_step, recording=False) -> list[StepResult]:
    story = _Story(scenario, owner, start)
    results = []
    for step in scenario.steps:
        try:
            result = _do(story, step, sleep)
        except ValidationError as exc:
            message = f"step {step.number} ({step.action}): {_one_line(exc)}"
            if recording and step.number > 1:
                message += f" (steps 1 to {step.number - 1} were recorded)"
            raise ScenarioError(message) from None
        results.append(result)
        if on_step is not None:
            on_step(result)
    return results


def _one_line(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def _do(story: _Story, step: Step, sleep) -> StepResult:
    options, action, owner = step.options, step.action, story.owner
    if action == "wait":
        story.clock += _duration(options["duration"], step.number)
        return StepResult(step, story.clock, note=f"the story's clock is now {story.clock.isoformat()}")
    if action == "sleep":
        if sleep is not None:
            sleep(float(options["seconds"]))
        return StepResult(step, story.clock, note=f"paused {options['seconds']} s")
    at = story.clock
    if action == "buy":
        outcome = services.transaction_create(
            owner=owner,
            product=_product(story, options.get("product"), step),
            payment_type=str(options.get("payment", "credit_card")),
            refused=_flag(options.get("refused"), "refused"),
            buyer_email=options.get("buyer_email"),
            buyer_name=options.get("buyer_name"),
            installments=_integer(options.get("installments"), "installments"),
            affiliate_code=_affiliate(story, options.get("affiliate")),
            coupon_code=str(options.get("coupon") or ""),
            src=str(options.get("src") or ""),
            sck=str(options.get("sck") or ""),
            xcod=str(options.get("xcod") or ""),
            plan=options.get("plan"),
            at=at,
        )
        _remember(story, outcome, options.get("as"))
    elif action in _TRANSITIONS:
        outcome = services.transaction_transition(
            owner=owner, transaction=_transaction(story, options.get("transaction")), to=_TRANSITIONS[action], at=at
        )
    elif action == "renew":
        outcome = services.subscription_renew(
            owner=owner,
            subscriber_code=_subscription(story, options.get("subscription")),
            refused=_flag(options.get("refused"), "refused"),
            at=at,
        )
        _remember(story, outcome, options.get("as"))
    elif action == "cancel_subscription":
        outcome = services.subscription_cancel(
            owner=owner,
            subscriber_code=_subscription(story, options.get("subscription")),
            by=str(options.get("by", "customer")),
            at=at,
        )
    elif action == "switch_plan":
        outcome = services.subscription_switch_plan(
            owner=owner,
            subscriber_code=_subscription(story, options.get("subscription")),
            plan=str(options["plan"]),
            at=at,
        )
    elif action == "change_charge_day":
        outcome = services.subscription_change_charge_day(
            owner=owner,
            subscriber_code=_subscription(story, options.get("subscription")),
            day=_integer(options["day"], "day"),
            at=at,
        )
    elif action == "abandon_cart":
        outcome = services.cart_abandon(
            owner=owner,
            product=_product(story, options.get("product"), step),
            buyer_email=options.get("buyer_email"),
            buyer_name=options.get("buyer_name"),
            buyer_phone=str(options["buyer_phone"]) if options.get("buyer_phone") is not None else None,
            affiliate_code=_affiliate(story, options.get("affiliate")),
            at=at,
        )
    elif action == "first_access":
        outcome = services.member_first_access(
            owner=owner, transaction=_transaction(story, options.get("transaction")), at=at
        )
    elif action == "complete_module":
        module = options.get("module")
        outcome = services.member_module_complete(
            owner=owner,
            transaction=_transaction(story, options.get("transaction")),
            module=str(module) if module is not None else None,
            at=at,
        )
    elif action == "affiliate":
        return StepResult(step, at, note=_affiliate_setup(story, step))
    else:  # share_buyer_data
        allowed = _flag(options["allowed"], "allowed")
        account, _ = configuration_services.account_get_or_create(user=owner)
        configuration_services.account_buyer_data_sharing_set(account=account, allowed=allowed)
        return StepResult(step, at, note=f"affiliates {'see' if allowed else 'do not see'} buyer data")
    return StepResult(step, outcome.event.occurred_at, outcome=outcome)


def _flag(value: Any, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise ValidationError({name: f"true or false; got {value!r}."})


def _integer(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({name: f"a whole number; got {value!r}."})
    return value


def _product(story: _Story, wanted: Any, step: Step):
    hotmart_id = wanted if wanted is not None else story.scenario.product
    if hotmart_id is None:
        return None  # the owner's first product
    if isinstance(hotmart_id, bool) or not isinstance(hotmart_id, int):
        raise ValidationError({"product": f"a Hotmart product id (a number); got {hotmart_id!r}."})
    product = configuration_selectors.product_get(owner_id=story.owner.pk, hotmart_id=hotmart_id)
    if product is None:
        raise ValidationError({"product": f"{story.owner} has no product {hotmart_id}."})
    return product


def _transaction(story: _Story, wanted: Any) -> str:
    if wanted is None:
        if story.last_transaction is None:
            raise ValidationError({"transaction": "no purchase yet: start with a `buy` step."})
        return story.last_transaction
    return story.transactions.get(str(wanted), str(wanted))


def _subscription(story: _Story, wanted: Any) -> str:
    if wanted is None:
        if story.last_subscription is None:
            raise ValidationError({"subscription": "no subscription yet: `buy` a subscription product first."})
        return story.last_subscription
    return story.subscriptions.get(str(wanted), str(wanted))


def _affiliate(story: _Story, wanted: Any) -> str | None:
    if wanted is None:
        return None
    return story.affiliates.get(str(wanted), str(wanted))


def _remember(story: _Story, outcome: SaleOutcome, alias: Any) -> None:
    if outcome.purchase is not None:
        story.last_transaction = outcome.purchase.transaction
    if outcome.subscription is not None:
        story.last_subscription = outcome.subscription.subscriber_code
    if alias is not None:
        if outcome.purchase is not None:
            story.transactions[str(alias)] = outcome.purchase.transaction
        if outcome.subscription is not None:
            story.subscriptions[str(alias)] = outcome.subscription.subscriber_code


def _affiliate_setup(story: _Story, step: Step) -> str:
    """An affiliate of the scenario's product: created if missing, affiliated if not yet; its code is remembered."""
    options = step.options
    username = str(options["username"])
    product = (
        _product(story, options.get("product"), step)
        or configuration_selectors.product_list(owner_id=story.owner.pk).first()
    )
    if product is None:
        raise ValidationError({"product": f"{story.owner} has no product; create one first."})
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = configuration_services.affiliate_register(username=username, name=str(options.get("name") or ""))
    if configuration_selectors.affiliation_get(affiliate_code=_code_of(user), product_id=product.pk) is None:
        configuration_services.affiliation_create(
            affiliate=user, product=product, commission_percent=options.get("commission", 50)
        )
    code = _code_of(user)
    story.affiliates[str(options.get("as") or username)] = code
    note = f"affiliate {username} ({code}) sells product {product.hotmart_id}"
    if _flag(options.get("inbox"), "inbox"):
        note += f"; its notifications go to {_affiliate_inbox(user)}"
    return note


def _affiliate_inbox(user) -> str:
    """An inbox of the affiliate and a configuration sending it the events affiliates get (created once)."""
    name = f"{user.get_username()} inbox"
    inbox = inbox_selectors.inbox_get_by_name(owner_id=user.pk, name=name) or inbox_services.inbox_create(
        owner=user, name=name
    )
    url = inbox_selectors.inbox_url(inbox)
    if not Configuration.objects.filter(owner=user, name="Hotlink sales").exists():
        events = [event for event in EventType.values if event in AFFILIATE_EVENTS]
        configuration_services.configuration_create(owner=user, name="Hotlink sales", events=events, url=url)
    return url


def _code_of(user) -> str:
    account, _ = configuration_services.account_get_or_create(user=user)
    return configuration_services.account_affiliate_code_ensure(account=account).affiliate_code


def scenario_to_json(results: list[StepResult]) -> list[dict[str, Any]]:
    """The run as plain data: one entry per step (the command's ``--json``)."""
    rows = []
    for result in results:
        row: dict[str, Any] = {"step": result.step.number, "action": result.step.action, "at": result.at.isoformat()}
        if result.note:
            row["note"] = result.note
        if result.outcome is not None:
            row["events"] = [
                {
                    "id": str(recorded.event.uuid),
                    "type": recorded.event.event_type,
                    "notifications": [n.pk for n in recorded.notifications],
                }
                for recorded in result.outcome.events
            ]
            if result.outcome.purchase is not None:
                row["transaction"] = result.outcome.purchase.transaction
                row["status"] = result.outcome.purchase.status
            if result.outcome.subscription is not None:
                row["subscription"] = result.outcome.subscription.subscriber_code
                row["subscription_status"] = result.outcome.subscription.status
        rows.append(row)
    return rows


__all__ = ["ScenarioError", "path_shown", "scenario_load", "scenario_parse", "scenario_run", "scenario_to_json"]
