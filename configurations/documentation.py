"""The Documentation tab: for each event type, its parameter table and an example payload, both from the event
catalogue, under the account's hottok card."""

from __future__ import annotations

import random
import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from catalogue import CATALOGUE, PayloadContext, payload_build
from catalogue.events import EVENT_GROUPS, EventType
from catalogue.facts import epoch_ms, test_sale_facts
from catalogue.schema import Affiliates
from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from core.hotmart import HOTTOK_HEADER
from core.secrets import mask_secret


@login_required
def documentation(request, event_type: str = EventType.PURCHASE_APPROVED):
    """For one event type: its parameter table and an example payload, both from the event catalogue."""
    if event_type not in CATALOGUE:
        raise Http404("No such event type.")
    account, _ = configuration_services.account_get_or_create(user=request.user)
    schema = CATALOGUE[event_type]
    now = timezone.now()
    # A stable example per event type; built by the real payload builder, with the hottok masked.
    facts = test_sale_facts(
        product=configuration_selectors.test_product(owner=request.user),
        producer=account,
        event_type=event_type,
        occurred_at=now,
        rng=random.Random(event_type),
    )
    example = payload_build(
        PayloadContext(
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"example:{event_type}")),
            event_type=event_type,
            created_ms=epoch_ms(now),
            facts=facts,
            hottok=mask_secret(account.hottok),
        )
    )
    context = {
        "event_type": event_type,
        "event_label": EventType(event_type).label,
        "schema": schema,
        "rows": schema.rows(),
        "example": example,
        "groups": [(group, [(e.value, e.label) for e in events]) for group, events in EVENT_GROUPS.items()],
        "account": account,
        "hottok_masked": mask_secret(account.hottok),
        "hottok_header": HOTTOK_HEADER,
        "affiliates_yes": Affiliates.YES,
        "affiliates_no": Affiliates.NO,
    }
    return render(request, "dashboard/documentation.html", context)
