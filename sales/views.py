"""The Simulator page: create purchases and move them through their lifecycle, act on subscriptions, abandon
carts, enter the members area, record one-off samples; and see where each event went, live.

Every action is one service (``sales.services``, ``history.publishing.event_record``): a view parses the form,
calls it, and redirects to the page that shows what it recorded (``?recorded=<event id>``). A service's
ValidationError is shown under the field it names, on the page the form is on (after a redirect: every POST
answers with one), never as an error page; every form acts once (``web.dashboard.once``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from configurations import selectors as configuration_selectors
from configurations.models import Configuration
from core.numbers import whole_number
from history import publishing
from history import selectors as history_selectors
from history.choices import OPEN_STATUSES
from history.models import Event, Notification
from sales import selectors as sales_selectors
from sales import services as sales_services
from sales.forms import (
    CancelForm,
    CartForm,
    ChargeDayForm,
    ModuleForm,
    MoveForm,
    PurchaseForm,
    RenewForm,
    SampleForm,
    SwitchPlanForm,
)
from sales.lifecycle import PaymentType, PurchaseStatus
from sales.models import Purchase, Subscription
from web.dashboard.forms import apply_errors, form_keep, form_kept
from web.dashboard.http import fingerprint, is_htmx, live_url, unchanged
from web.dashboard.once import acts_once

RECENT = 20  # transactions and subscriptions listed on the page

# How each move's button looks: the sale goes through (primary), is undone (danger), or waits (plain).
_MOVE_TONE = {
    PurchaseStatus.APPROVED: "primary",
    PurchaseStatus.COMPLETED: "primary",
    PurchaseStatus.REFUNDED: "danger",
    PurchaseStatus.CHARGEBACK: "danger",
    PurchaseStatus.CANCELED: "danger",
    PurchaseStatus.EXPIRED: "danger",
}


# --- What an action recorded ------------------------------------------------------------------------------


def _recorded_ids(request) -> list[int]:
    """The events the page was sent back to show (``?recorded=12`` or ``12,13``); junk is ignored."""
    raw = request.GET.get("recorded", "")
    return [n for n in map(whole_number, raw.split(",")[:10]) if n is not None]


def _deliveries(events: list[Event]) -> list[dict]:
    """Each of the owner's events with the notifications it created (the owner's and affiliates'), and whether
    it is scheduled (its webhooks wait for the moment it is dated)."""
    found = history_selectors.event_deliveries(events=events)
    return [
        {"event": event, "notifications": found.get(event.pk, []), "scheduled": sales_services.is_scheduled(event)}
        for event in events
    ]


def _live_print(groups: list[dict], *extra) -> tuple[str, bool]:
    """The fingerprint of the notifications shown, and whether any is in flight (a scheduled one is not yet)."""
    notifications = [n for group in groups for n in group["notifications"]]
    now = timezone.now()
    live = any(
        (n.status in OPEN_STATUSES and n.next_attempt_at is not None and n.next_attempt_at <= now)
        or n.resend_requested_at
        for n in notifications
    )
    print_ = fingerprint(
        [(n.pk, n.status, n.attempt_count, n.last_status_code, bool(n.resend_requested_at)) for n in notifications],
        *extra,
    )
    return print_, live


def _went_to(notifications: list[Notification], owner_id: int) -> str:
    """Where an event went, for people: "sent to 2 configurations: “Inbox”, “CRM”"."""
    own = [n for n in notifications if n.owner_id == owner_id]
    others = len(notifications) - len(own)
    if not notifications:
        return "no active configuration wants it, so nothing was sent"
    names = ", ".join(f"“{n.configuration.name}”" for n in own if n.configuration_id)
    text = f"sent to {len(own)} configuration{'s' if len(own) != 1 else ''}"
    if own:
        text += f": {names}"
    if others:
        text += f"; and to {others} of the affiliate's"
    return text


def _announce_outcome(request, events, notes=()) -> str:
    """Say what was recorded, where it went and what to know about it (a message on the next page, with the
    outcome's notes: a move made before its real moment, a scheduled one); answers ``?recorded=...``."""
    for recorded in events:
        event = recorded.event
        subject = f" ({event.transaction})" if event.transaction else ""
        messages.success(
            request, f"{event.event_type}{subject} recorded, {_went_to(recorded.notifications, request.user.pk)}."
        )
    for note in notes:
        messages.info(request, note[0].upper() + note[1:] + ".")
    return "recorded=" + ",".join(str(recorded.event.pk) for recorded in events)


# --- The page ---------------------------------------------------------------------------------------------


def _affiliates(owner_id: int) -> list[dict]:
    """The producer's affiliates for the affiliate selects: code, label and the products each sells."""
    by_code: dict[str, dict] = {}
    for affiliation in configuration_selectors.affiliation_list(producer_id=owner_id):
        account = getattr(affiliation.affiliate, "webhook_account", None)
        code = account.affiliate_code if account else None
        if not code:
            continue
        entry = by_code.setdefault(
            code, {"code": code, "name": affiliation.affiliate.get_username(), "products": [], "product_ids": []}
        )
        entry["products"].append(affiliation.product.name)
        entry["product_ids"].append(affiliation.product_id)
    return [
        {**entry, "label": f"{entry['name']} ({entry['code']}): sells {', '.join(entry['products'])}"}
        for entry in by_code.values()
    ]


# The Simulator page's forms: (context name, the key their errors are kept under, class, its own arguments).
_INDEX_FORMS = (
    ("purchase_form", "simulator:purchase", PurchaseForm, {}),
    ("cart_form", "simulator:cart", CartForm, {"prefix": "cart"}),
    ("sample_form", "simulator:sample", SampleForm, {"prefix": "sample"}),
)


def _forms(request, affiliates) -> dict:
    """Each form of the page: the one a redirect brought back with its errors, or a fresh one."""
    choices = [(a["code"], a["label"]) for a in affiliates]
    found = {}
    for name, key, form_class, extra in _INDEX_FORMS:
        arguments = {"owner": request.user, **extra}
        if form_class is not SampleForm:
            arguments["affiliate_choices"] = choices
        found[name] = form_kept(request, key, form_class, **arguments) or form_class(**arguments)
    return found


def _back_with_errors(request, key: str, form, url: str):
    """A form with errors goes back to its page, which shows them (Post/Redirect/Get)."""
    form_keep(request, key, form)
    return redirect(url)


def _index(request) -> HttpResponse:
    owner_id = request.user.pk
    affiliates = _affiliates(owner_id)
    products = list(configuration_selectors.product_list(owner_id=owner_id))
    events = history_selectors.event_list(owner_id=owner_id, event_ids=_recorded_ids(request))
    groups = _deliveries(events)
    context = {
        **_forms(request, affiliates),
        "products": products,
        "plan_options": [
            {**plan, "product_id": product.pk, "currency": product.currency}
            for product in products
            for plan in sales_selectors.product_plans(product=product)
        ],
        "affiliates": affiliates,
        "transactions": sales_selectors.transaction_list(owner_id=owner_id, limit=RECENT),
        "subscriptions": sales_selectors.subscription_list(owner_id=owner_id, limit=RECENT),
        "has_configurations": configuration_selectors.configuration_list(owner_id=owner_id)
        .filter(status=Configuration.Status.ACTIVE)
        .exists(),
        "groups": groups,
        **_recorded_live(request, groups),
    }
    return render(request, "simulator/index.html", context)


def _recorded_live(request, groups: list[dict]) -> dict:
    """The live card of what was just recorded: polled at ``simulator:deliveries`` while it is in flight."""
    if not groups:
        return {"recorded_live": False, "recorded_url": ""}
    print_, live = _live_print(groups)
    ids = ",".join(str(group["event"].pk) for group in groups)
    return {"recorded_live": live, "recorded_url": f"{reverse('simulator:deliveries')}?events={ids}&fp={print_}"}


@login_required
def simulator(request):
    """The forms to start a story (a purchase, a cart abandonment, a sample event) and the recent sales."""
    return _index(request)


@login_required
def deliveries(request):
    """The live card of recorded events (``?events=1,2``): where each went and how its delivery stands."""
    raw = request.GET.get("events", "")
    ids = [n for n in map(whole_number, raw.split(",")[:10]) if n is not None]
    events = history_selectors.event_list(owner_id=request.user.pk, event_ids=ids)
    if not events:
        raise Http404("No such events.")
    groups = _deliveries(events)
    print_, live = _live_print(groups)
    if unchanged(request, print_):
        return HttpResponse(status=204)
    context = {"groups": groups, "recorded_live": live, "recorded_url": live_url(request, print_)}
    return render(request, "simulator/_recorded.html", context)


@login_required
@require_POST
@acts_once
def purchase_create(request):
    affiliates = _affiliates(request.user.pk)
    form = PurchaseForm(
        request.POST, owner=request.user, affiliate_choices=[(a["code"], a["label"]) for a in affiliates]
    )
    if form.is_valid():
        try:
            outcome = sales_services.transaction_create(owner=request.user, **form.service_arguments())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            query = _announce_outcome(request, outcome.events, outcome.notes)
            return redirect(f"{reverse('simulator:transaction', args=[outcome.purchase.transaction])}?{query}")
    return _back_with_errors(request, "simulator:purchase", form, reverse("simulator:index") + "#purchase-form")


@login_required
@require_POST
@acts_once
def cart_abandon(request):
    affiliates = _affiliates(request.user.pk)
    choices = [(a["code"], a["label"]) for a in affiliates]
    form = CartForm(request.POST, owner=request.user, affiliate_choices=choices, prefix="cart")
    if form.is_valid():
        try:
            outcome = sales_services.cart_abandon(owner=request.user, **form.service_arguments())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(f"{reverse('simulator:index')}?{_announce_outcome(request, outcome.events)}#recorded")
    return _back_with_errors(request, "simulator:cart", form, reverse("simulator:index") + "#cart-form")


@login_required
@require_POST
@acts_once
def sample_record(request):
    form = SampleForm(request.POST, owner=request.user, prefix="sample")
    if form.is_valid():
        try:
            recorded = publishing.event_record(owner=request.user, **form.service_arguments())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(f"{reverse('simulator:index')}?{_announce_outcome(request, [recorded])}#recorded")
    return _back_with_errors(request, "simulator:sample", form, reverse("simulator:index") + "#sample-form")


# --- One transaction --------------------------------------------------------------------------------------


def _owned_transaction(request, code: str) -> Purchase:
    purchase = sales_selectors.transaction_get(owner_id=request.user.pk, transaction=code)
    if purchase is None:
        raise Http404("No such transaction.")
    return purchase


def _timeline(request, purchase: Purchase) -> tuple[list[dict], str, bool]:
    events = sales_selectors.transaction_timeline(owner_id=request.user.pk, transaction=purchase.transaction)
    groups = _deliveries(events)
    print_, live = _live_print(groups, purchase.status, len(events))
    return groups, print_, live


def _transaction_page(request, purchase: Purchase):
    groups, print_, live = _timeline(request, purchase)
    now = timezone.now()
    moves = [
        {
            "move": move,
            "tone": _MOVE_TONE.get(move.target, "plain"),
            "waits": move.not_before is not None and move.not_before > now,
        }
        for move in sales_selectors.transaction_moves(purchase=purchase, now=now)
    ]
    progress = sales_selectors.member_progress(purchase=purchase)
    code = purchase.transaction
    context = {
        "purchase": purchase,
        "moves": moves,
        "move_form": form_kept(request, f"simulator:move:{code}", MoveForm) or MoveForm(),
        "module_form": form_kept(request, f"simulator:members:{code}", ModuleForm) or ModuleForm(),
        "progress": progress,
        "modules_left": [m for m in progress["modules"] if not m["completed"]],
        "groups": groups,
        "recorded": set(_recorded_ids(request)),
        "live": live,
        "live_url": live_url(request, print_),
        "is_card": purchase.payment_type == PaymentType.CREDIT_CARD,
    }
    return render(request, "simulator/transaction.html", context)


@login_required
def transaction_detail(request, code: str):
    """A transaction: where it stands, the moves it offers now, the members area, and its timeline (live)."""
    purchase = _owned_transaction(request, code)
    if is_htmx(request):
        groups, print_, live = _timeline(request, purchase)
        if unchanged(request, print_):
            return HttpResponse(status=204)
        context = {
            "purchase": purchase,
            "groups": groups,
            "recorded": set(_recorded_ids(request)),
            "live": live,
            "live_url": live_url(request, print_),
        }
        return render(request, "simulator/_timeline.html", context)
    return _transaction_page(request, purchase)


def _transaction_errors(request, key: str, form, code: str):
    return _back_with_errors(request, f"simulator:{key}:{code}", form, reverse("simulator:transaction", args=[code]))


@login_required
@require_POST
@acts_once
def transaction_move(request, code: str):
    """One of the transaction's buttons: move it to ``to`` (only a legal move is accepted)."""
    purchase = _owned_transaction(request, code)
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            outcome = sales_services.transaction_transition(
                owner=request.user, transaction=purchase.transaction, **form.service_arguments()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _after_transaction_action(request, outcome)
    return _transaction_errors(request, "move", form, purchase.transaction)


@login_required
@require_POST
@acts_once
def member_first_access(request, code: str):
    purchase = _owned_transaction(request, code)
    try:
        outcome = sales_services.member_first_access(owner=request.user, transaction=purchase.transaction)
    except ValidationError as exc:
        form = ModuleForm({})
        form.add_error(None, exc.messages)
        return _transaction_errors(request, "members", form, purchase.transaction)
    return _after_transaction_action(request, outcome)


@login_required
@require_POST
@acts_once
def member_module_complete(request, code: str):
    purchase = _owned_transaction(request, code)
    form = ModuleForm(request.POST)
    if form.is_valid():
        try:
            outcome = sales_services.member_module_complete(
                owner=request.user, transaction=purchase.transaction, module=form.cleaned_data["module"] or None
            )
        except ValidationError as exc:
            if "module" in getattr(exc, "error_dict", {}):
                apply_errors(form, exc)
            else:
                form.add_error(None, exc.messages)
        else:
            return _after_transaction_action(request, outcome)
    return _transaction_errors(request, "members", form, purchase.transaction)


def _after_transaction_action(request, outcome):
    query = _announce_outcome(request, outcome.events, outcome.notes)
    url = reverse("simulator:transaction", args=[outcome.purchase.transaction])
    return redirect(f"{url}?{query}#timeline")


# --- One subscription -------------------------------------------------------------------------------------


def _owned_subscription(request, code: str) -> Subscription:
    subscription = sales_selectors.subscription_get(owner_id=request.user.pk, subscriber_code=code)
    if subscription is None:
        raise Http404("No such subscription.")
    return subscription


def _subscription_page(request, subscription: Subscription):
    owner_id = request.user.pk
    events = history_selectors.event_list(owner_id=owner_id, event_ids=_recorded_ids(request))
    groups = _deliveries(events)
    plans = sales_selectors.product_plans(product=subscription.product)
    fresh = {
        "renew_form": RenewForm(),
        "cancel_form": CancelForm(),
        "plan_form": SwitchPlanForm(
            initial={"plan": next((p["key"] for p in plans if p["key"] != subscription.plan_key), "")}
        ),
        "day_form": ChargeDayForm(),
    }
    code = subscription.subscriber_code
    forms_ = {
        name: form_kept(request, f"simulator:{action}:{code}", form_class) or fresh[name]
        for action, (form_class, name, _) in SUBSCRIPTION_ACTIONS.items()
    }
    context = {
        "subscription": subscription,
        "actions": sales_selectors.subscription_actions(subscription=subscription),
        "charges": list(sales_selectors.subscription_purchases(subscription=subscription)),
        "plans": plans,
        "groups": groups,
        **_recorded_live(request, groups),
        "is_card": subscription.payment_type == PaymentType.CREDIT_CARD,
        **forms_,
    }
    return render(request, "simulator/subscription.html", context)


@login_required
def subscription_detail(request, code: str):
    """A subscription: its plan, charge day and charges, and the actions possible now."""
    return _subscription_page(request, _owned_subscription(request, code))


# Each subscription action: the form that parses it (its fields are the service's arguments), the name the page
# gives that form (where its errors show), and the service.
SUBSCRIPTION_ACTIONS = {
    "renew": (RenewForm, "renew_form", sales_services.subscription_renew),
    "cancel": (CancelForm, "cancel_form", sales_services.subscription_cancel),
    "switch_plan": (SwitchPlanForm, "plan_form", sales_services.subscription_switch_plan),
    "charge_day": (ChargeDayForm, "day_form", sales_services.subscription_change_charge_day),
}


@login_required
@require_POST
@acts_once
def subscription_action(request, code: str, action: str):
    """Renew, cancel, switch the plan or change the charge day of a subscription."""
    form_class, _, service = SUBSCRIPTION_ACTIONS[action]
    subscription = _owned_subscription(request, code)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            outcome = service(owner=request.user, subscriber_code=subscription.subscriber_code, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            query = _announce_outcome(request, outcome.events, outcome.notes)
            url = reverse("simulator:subscription", args=[outcome.subscription.subscriber_code])
            return redirect(f"{url}?{query}#recorded")
    url = reverse("simulator:subscription", args=[subscription.subscriber_code])
    return _back_with_errors(request, f"simulator:{action}:{subscription.subscriber_code}", form, url)
