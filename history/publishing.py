"""Recording events: one transaction saves the event and one notification per matching configuration, each in
its lane, and the lanes' doorbells ring once it commits (history/lanes.py).

``event_publish`` is the only place that fans an event out. Its recipients are the producer's matching
configurations and, for a sale made through an affiliate's hotlink, the affiliate's matching configurations;
each gets its own payload: in its configuration's version (JSON 2.0.0 or the legacy 1.0 form), with its own
hottok, and for an affiliate only the fields the catalogue marks as sent to affiliates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from catalogue import (
    PRODUCER,
    TEST_BUTTON,
    Audience,
    Body,
    PayloadContext,
    affiliate_audience,
    payload_encode,
)
from catalogue.events import AFFILIATE_EVENTS, PURCHASE_EVENTS, SUBSCRIPTION_EVENTS, EventType, PayloadVersion
from catalogue.facts import epoch_ms, sale_facts, test_sale_facts
from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.models import Account, Configuration, Product
from history import selectors as history_selectors
from history import services as history_services
from history.choices import NotificationStatus
from history.lanes import bulk_resends_enqueue, lane_for, ring
from history.models import BulkResend, Event, Notification


@dataclass(frozen=True)
class RecordedEvent:
    event: Event
    notifications: list[Notification]


def event_publish(
    *,
    owner: AbstractBaseUser,
    event_type: str,
    product: Product | None,
    facts: dict,
    occurred_at: datetime,
    transaction_code: str | None = None,
) -> RecordedEvent:
    """Save an event with its frozen facts and one pending notification per recipient configuration.

    Call it inside the transaction that saves the sale facts it reports; the lanes' doorbells ring once that
    transaction commits. The facts hold everything the payloads are built from, so the event alone
    rebuilds every payload sent (see ``notification_body``). ``transaction_code`` files a non-purchase event
    (a members-area one) under its transaction; purchase events are filed under theirs anyway.

    A webhook is never sent before the moment it is dated (its ``creation_date``): an event that occurs later
    than now is scheduled, its notifications due at ``occurred_at`` and not enqueued (the beat's sweep sends
    them when due; until then they are Pending posts).
    """
    account, _ = configuration_services.account_get_or_create(user=owner)
    now = timezone.now()
    send_at = occurred_at if occurred_at > now else None
    if transaction_code is None:
        transaction_code = facts["purchase"]["transaction"] if event_type in PURCHASE_EVENTS else ""
    with transaction.atomic():
        event = history_services.event_create(
            owner_id=owner.pk,
            event_type=event_type,
            product_id=product.pk if product else None,
            occurred_at=occurred_at,
            facts=facts,
            transaction_code=transaction_code,
            buyer_email=facts["buyer"]["email"],
        )
        recipients = list(_recipients(event=event, product=product, producer=account))
        items = [_new_notification(configuration, body) for configuration, body in recipients]
        notifications = history_services.notifications_create(event=event, items=items, now=now, send_at=send_at)
        lanes = [item.lane for item in items]
        if lanes and send_at is None:  # a scheduled one waits for its moment; the sweep rings then
            transaction.on_commit(lambda: ring(lanes))
    return RecordedEvent(event=event, notifications=notifications)


def _new_notification(configuration: Configuration, body: Body) -> history_services.NewNotification:
    """A notification for ``configuration``, owned by its owner (the producer, or an affiliate), in its lane: a
    failing configuration's waits in the retries lane, a tenant with its own queue gets it."""
    return history_services.NewNotification(
        configuration_id=configuration.pk,
        owner_id=configuration.owner_id,
        payload=body.text,
        content_type=body.content_type,
        lane=lane_for(failing=configuration.failing_since is not None, owner_id=configuration.owner_id),
    )


def _recipients(*, event: Event, product: Product | None, producer: Account):
    """(configuration, body) for each configuration that gets the event: the producer's, then each credited
    affiliate's, in id order."""
    product_id = product.pk if product else None
    for configuration in configuration_selectors.configurations_matching(
        owner_id=event.owner_id, event_type=event.event_type, product_id=product_id
    ):
        yield configuration, notification_body(event=event, configuration=configuration, hottok=producer.hottok)
    if event.event_type not in AFFILIATE_EVENTS:
        return
    for affiliate in event.facts.get("affiliates", []):
        account = configuration_selectors.account_by_affiliate_code(affiliate["code"])
        if account is None or account.user_id == event.owner_id:
            continue
        for configuration in configuration_selectors.configurations_matching(
            owner_id=account.user_id, event_type=event.event_type, product_id=product_id
        ):
            yield configuration, notification_body(event=event, configuration=configuration, hottok=account.hottok)


def notification_body(*, event: Event, configuration: Configuration, hottok: str):
    """The payload ``configuration`` gets for ``event``: in its version, with ``hottok``, and filtered to the
    affiliate's fields when the configuration is not the producer's."""
    audience: Audience = PRODUCER if configuration.owner_id == event.owner_id else affiliate_audience(event.facts)
    ctx = PayloadContext(
        event_id=str(event.uuid),
        event_type=event.event_type,
        created_ms=epoch_ms(event.occurred_at),
        facts=event.facts,
        hottok=hottok,
        audience=audience,
    )
    version = configuration.payload_version
    if version == PayloadVersion.V1 and event.event_type not in PURCHASE_EVENTS:
        version = PayloadVersion.V2  # unreachable through the services: 1.0 configurations take purchases only
    return payload_encode(ctx, version)


def event_record(
    *,
    owner: AbstractBaseUser,
    event_type: str,
    product: Product | None = None,
    buyer_email: str | None = None,
    occurred_at: datetime | None = None,
) -> RecordedEvent:
    """Record a one-off sample of ``event_type`` for ``product`` (made-up sale facts, no tracked transaction)
    and notify who wants it.

    Without a product the owner's first one is used (their first subscription product for subscription
    events). Bad input raises ValidationError naming the field; nothing is saved then. Tracked purchases
    and their lifecycle are ``sales.services``.
    """
    event_type = (event_type or "").strip().upper()
    if event_type not in EventType.values:
        raise ValidationError({"event_type": f"Unknown event {event_type!r}; valid: {', '.join(EventType.values)}."})
    product = _product_for(owner=owner, event_type=event_type, product=product)
    if buyer_email:
        try:
            validate_email(buyer_email)
        except ValidationError:
            raise ValidationError({"buyer_email": f"{buyer_email!r} is not a valid e-mail address."}) from None
    account, _ = configuration_services.account_get_or_create(user=owner)
    occurred_at = occurred_at or timezone.now()
    facts = sale_facts(
        event_type=event_type, product=product, producer=account, occurred_at=occurred_at, buyer_email=buyer_email
    )
    return event_publish(owner=owner, event_type=event_type, product=product, facts=facts, occurred_at=occurred_at)


def _product_for(*, owner: AbstractBaseUser, event_type: str, product: Product | None) -> Product:
    needs_subscription = event_type in SUBSCRIPTION_EVENTS
    if product is None:
        products = configuration_selectors.product_list(owner_id=owner.pk)
        if needs_subscription:
            products = products.filter(is_subscription=True)
        product = products.first()
        if product is None:
            kind = "subscription product" if needs_subscription else "product"
            raise ValidationError({"product": f"{owner} has no {kind}; create one first."})
    elif product.owner_id != owner.pk:
        raise ValidationError({"product": f"Product {product.hotmart_id} does not belong to {owner}."})
    if needs_subscription and not product.is_subscription:
        message = f"{event_type} happens to subscriptions; product {product.hotmart_id} is not sold by subscription."
        raise ValidationError({"product": message})
    return product


def configuration_stop(*, configuration_id: int, reason: str, now: datetime | None = None) -> int | None:
    """Disable a configuration and stop its open notifications; answers how many, None if already disabled."""
    now = now or timezone.now()
    with transaction.atomic():
        if not configuration_services.configuration_disable(configuration_id=configuration_id, reason=reason, now=now):
            return None
        return history_services.notifications_cancel_for_configuration(
            configuration_id=configuration_id, reason=f"Configuration disabled: {reason}", now=now
        )


def configuration_remove(*, configuration: Configuration, reason: str = "Configuration removed.") -> None:
    """Delete a configuration; its open notifications stop (with ``reason``) and its history stays."""
    with transaction.atomic():
        history_services.notifications_cancel_for_configuration(configuration_id=configuration.pk, reason=reason)
        configuration_services.configuration_delete(configuration=configuration)


def configuration_gone(*, owner_id: int, configuration_id: int, reason: str, now: datetime | None = None) -> str:
    """The receiver answered 410 Gone: do what the rules say with its configuration; answers what was done
    ("unsubscribed", "disabled", or "" when it was already gone or disabled).

    A REST hook subscription (created by an integration) is unsubscribed, i.e. removed, as the REST Hooks
    pattern expects: the tool asked for it through the API and would otherwise never learn it is dead. Any
    other configuration is disabled with the reason, so that its owner sees it and can fix the URL.
    """
    configuration = configuration_selectors.configuration_get(owner_id=owner_id, configuration_id=configuration_id)
    if configuration is None:
        return ""
    if configuration.created_by_integration:
        configuration_remove(configuration=configuration, reason=f"REST hook unsubscribed: {reason}")
        return "unsubscribed"
    return (
        "disabled" if configuration_stop(configuration_id=configuration_id, reason=reason, now=now) is not None else ""
    )


def notification_resend(*, owner: AbstractBaseUser, notification_id: int) -> Notification:
    """Ask for one more, manual, attempt of a notification, whatever its status; it goes out at once.

    Asking again while that attempt is waiting changes nothing. A notification whose configuration was
    removed has nowhere to go, and one of a scheduled event cannot go out before the moment its payload is
    dated: ValidationError.
    """
    notification = history_selectors.notification_get(notification_id=notification_id, owner_id=owner.pk)
    if notification is None:
        raise ValidationError({"notification": f"No notification {notification_id}."})
    if notification.configuration_id is None and notification.target_url:
        raise ValidationError(
            {"notification": "A receiver check of a bare URL sent it: it has no configuration to resend it to."}
        )
    if notification.configuration_id is None:
        raise ValidationError(
            {
                "notification": ValidationError(
                    "Its configuration was removed: there is no URL to send it to.", code="configuration_removed"
                )
            }
        )
    dated = notification.event.occurred_at
    if dated > timezone.now():
        when = dated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = f"It is scheduled: its event happens at {when} and is sent then, never before."
        raise ValidationError({"notification": ValidationError(message, code="scheduled")})
    lane = lane_for(failing=notification.configuration.failing_since is not None, owner_id=notification.owner_id)
    with transaction.atomic():
        fresh = history_services.notifications_request_resend(
            notification_ids=[notification.pk], now=timezone.now(), lane=lane
        )
        if fresh:
            transaction.on_commit(lambda: ring([lane]))
    notification.refresh_from_db()
    return notification


def configuration_test_post(*, owner: AbstractBaseUser, configuration: Configuration, event_type: str) -> Notification:
    """Send a sample payload of ``event_type`` to one configuration now, marked as a test.

    Like Hotmart's "send test" button: a test product and a test buyer, one attempt, listed in the history
    as a test. It goes out even while the configuration is disabled, to check a URL before enabling it. The
    payload is in that configuration's version, with its owner's hottok.
    """
    event_type = (event_type or "").strip().upper()
    if event_type not in EventType.values:
        raise ValidationError({"event_type": f"Unknown event {event_type!r}; valid: {', '.join(EventType.values)}."})
    if configuration.owner_id != owner.pk:
        raise ValidationError({"configuration": "No such configuration."})
    if configuration.payload_version == PayloadVersion.V1 and event_type not in PURCHASE_EVENTS:
        raise ValidationError(
            {"event_type": f"This configuration uses the legacy 1.0 postback, which has no {event_type}."}
        )
    account, _ = configuration_services.account_get_or_create(user=owner)
    occurred_at = timezone.now()
    facts = test_sale_facts(
        product=configuration_selectors.test_product(owner=owner),
        producer=account,
        event_type=event_type,
        occurred_at=occurred_at,
    )
    facts["variant"] = TEST_BUTTON  # spelled as Hotmart's own test button spells it (docs/payloads.md)
    with transaction.atomic():
        event = history_services.event_create(
            owner_id=owner.pk,
            event_type=event_type,
            product_id=None,
            occurred_at=occurred_at,
            facts=facts,
            transaction_code=facts["purchase"]["transaction"] if event_type in PURCHASE_EVENTS else "",
            buyer_email=facts["buyer"]["email"],
        )
        body = notification_body(event=event, configuration=configuration, hottok=account.hottok)
        item = _new_notification(configuration, body)
        [notification] = history_services.notifications_create(
            event=event, items=[item], now=timezone.now(), is_test=True
        )
        transaction.on_commit(lambda: ring([item.lane]))
    return notification


def bulk_resend_start(
    *,
    owner: AbstractBaseUser,
    configuration: Configuration,
    window_start: datetime,
    window_end: datetime,
    statuses: tuple[str, ...] = (NotificationStatus.FAILED,),
) -> BulkResend:
    """Start a background job resending the configuration's notifications of ``statuses`` in the window."""
    errors = {}
    if configuration.owner_id != owner.pk:
        errors["configuration"] = "No such configuration."
    if window_start > window_end:
        errors["window_start"] = "The window starts after it ends."
    unknown = [status for status in statuses if status not in NotificationStatus.values]
    if unknown or not statuses:
        errors["statuses"] = f"Choose among {', '.join(NotificationStatus.values)}."
    if errors:
        raise ValidationError(errors)
    total = history_selectors.bulk_resend_candidates_count(
        configuration_id=configuration.pk, window_start=window_start, window_end=window_end, statuses=statuses
    )
    with transaction.atomic():
        job = history_services.bulk_resend_create(
            owner_id=owner.pk,
            configuration_id=configuration.pk,
            window_start=window_start,
            window_end=window_end,
            statuses=statuses,
            total=total,
            now=timezone.now(),
        )
        if set(history_selectors.RESEND_OFFER_STATUSES) <= set(statuses):
            configuration_services.configuration_resend_offer_clear(
                configuration=configuration, covered_by=(window_start, window_end)
            )
        transaction.on_commit(lambda: bulk_resends_enqueue([job.pk]))
    return job


def configuration_reenable(
    *, configuration: Configuration, now: datetime | None = None
) -> history_selectors.ResendOffer | None:
    """Enable a configuration; when notifications failed or were cancelled since its deliveries last worked,
    offer their bulk resend (shown on the Configurations page until it is taken or declined) and answer it."""
    now = now or timezone.now()
    with transaction.atomic():
        configuration_services.configuration_enable(configuration=configuration)
        missed = history_selectors.resend_offer_window(configuration=configuration, now=now)
        if missed is None:
            return None
        since, count = missed
        configuration_services.configuration_resend_offer_set(configuration=configuration, since=since, until=now)
    return history_selectors.ResendOffer(since=since, until=now, count=count)
