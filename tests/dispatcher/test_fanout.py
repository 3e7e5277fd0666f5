"""Recording an event saves one notification per matching active configuration, and nothing else."""

import json

import pytest
from django.core.exceptions import ValidationError

from configurations.models import Configuration
from history.choices import NotificationStatus
from history.models import Event, Notification
from history.publishing import configuration_remove, configuration_stop, event_record
from tests.factories import ConfigurationFactory, ProductFactory, UserFactory


@pytest.fixture
def other_product(producer):
    return ProductFactory(owner=producer)


def record(owner, event_type="PURCHASE_APPROVED", product=None, **kwargs):
    return event_record(owner=owner, event_type=event_type, product=product, **kwargs)


def test_each_matching_configuration_gets_one_notification(producer, product, django_capture_on_commit_callbacks):
    all_products = ConfigurationFactory(owner=producer, events=["PURCHASE_APPROVED", "PURCHASE_REFUNDED"])
    this_product = ConfigurationFactory(owner=producer, product=product, events=["PURCHASE_APPROVED"])

    with django_capture_on_commit_callbacks() as callbacks:
        recorded = record(producer, product=product, buyer_email="buyer@example.com")

    assert {n.configuration_id for n in recorded.notifications} == {all_products.pk, this_product.pk}
    assert all(n.status == NotificationStatus.PENDING for n in recorded.notifications)
    assert len(callbacks) == 1, "the lane's doorbell rings once the transaction commits"
    event = Event.objects.get()
    assert event.buyer_email == "buyer@example.com"
    assert event.transaction.startswith("HP")
    bodies = {n.payload for n in recorded.notifications}
    assert len(bodies) == 1
    payload = json.loads(bodies.pop())
    assert payload["id"] == str(event.uuid)
    assert payload["data"]["buyer"]["email"] == "buyer@example.com"
    assert payload["data"]["product"]["id"] == product.hotmart_id


def test_no_notification_for_a_disabled_configuration(producer, product):
    ConfigurationFactory(owner=producer, status=Configuration.Status.DISABLED, disabled_reason="off")
    assert record(producer, product=product).notifications == []


def test_no_notification_for_another_products_configuration(producer, product, other_product):
    ConfigurationFactory(owner=producer, product=other_product)
    assert record(producer, product=product).notifications == []


def test_no_notification_for_another_owners_configuration(producer, product):
    stranger = UserFactory()
    ConfigurationFactory(owner=stranger)
    assert record(producer, product=product).notifications == []


def test_no_notification_for_an_event_the_configuration_does_not_want(producer, product):
    ConfigurationFactory(owner=producer, events=["PURCHASE_REFUNDED"])
    assert record(producer, product=product).notifications == []
    assert Event.objects.count() == 1, "the event is recorded even when nobody listens"


def test_without_a_product_the_owners_first_one_is_used(producer, product, other_product):
    recorded = record(producer)
    assert recorded.event.product == product


def test_subscription_event_picks_a_subscription_product(producer, product):
    subscription = ProductFactory(owner=producer, is_subscription=True)
    assert record(producer, "SWITCH_PLAN").event.product == subscription


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"event_type": "PURCHASE_EXPLODED"}, "event_type"),
        ({"buyer_email": "not-an-email"}, "buyer_email"),
        ({"event_type": "SWITCH_PLAN"}, "product"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(producer, product, kwargs, field):
    ConfigurationFactory(owner=producer, events=["PURCHASE_APPROVED", "SWITCH_PLAN"])
    with pytest.raises(ValidationError) as caught:
        record(producer, product=product, **{"event_type": "PURCHASE_APPROVED", **kwargs})
    assert field in caught.value.message_dict
    assert Event.objects.count() == 0 and Notification.objects.count() == 0


def test_another_owners_product_is_refused(producer):
    stranger_product = ProductFactory(owner=UserFactory())
    with pytest.raises(ValidationError) as caught:
        record(producer, product=stranger_product)
    assert "product" in caught.value.message_dict


def test_owner_without_products_gets_a_clear_error(db):
    with pytest.raises(ValidationError, match="has no product"):
        record(UserFactory())


def test_stopping_a_configuration_cancels_its_open_notifications(producer, product):
    configuration = ConfigurationFactory(owner=producer)
    other = ConfigurationFactory(owner=producer)
    record(producer, product=product)
    record(producer, product=product)

    stopped = configuration_stop(configuration_id=configuration.pk, reason="Broken URL")

    assert stopped == 2
    configuration.refresh_from_db()
    assert configuration.status == Configuration.Status.DISABLED
    assert configuration.disabled_reason == "Broken URL" and configuration.disabled_at
    mine = Notification.objects.filter(configuration=configuration)
    assert set(mine.values_list("status", flat=True)) == {NotificationStatus.CANCELLED}
    assert set(Notification.objects.filter(configuration=other).values_list("status", flat=True)) == {
        NotificationStatus.PENDING
    }
    assert configuration_stop(configuration_id=configuration.pk, reason="again") is None
    configuration.refresh_from_db()
    assert configuration.disabled_reason == "Broken URL", "the first reason stays"


def test_removing_a_configuration_keeps_its_history(producer, product):
    configuration = ConfigurationFactory(owner=producer)
    notification = record(producer, product=product).notifications[0]
    configuration_remove(configuration=configuration)
    notification.refresh_from_db()
    assert notification.configuration_id is None
    assert notification.status == NotificationStatus.CANCELLED
    assert not Configuration.objects.filter(pk=configuration.pk).exists()
