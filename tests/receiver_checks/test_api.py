"""/api/v1/receiver-checks: start a check (once, however often asked), read its report; scopes and errors like
every other resource."""

from __future__ import annotations

import pytest

from configurations import services as configuration_services
from receiver_checks.choices import Grade, RunStatus
from receiver_checks.models import ReceiverCheck
from tests.api.conftest import Api, assert_error, bearer_token
from tests.conftest import wait_until
from tests.factories import ConfigurationFactory, UserFactory
from tests.receiver_checks.receivers import Receiver

BASE = "/api/v1/receiver-checks"


@pytest.fixture
def api(producer) -> Api:
    return Api(producer, bearer_token(producer))


@pytest.mark.django_db
def test_starting_a_check_answers_it_queued_and_asking_again_answers_the_same(api, producer):
    configuration = ConfigurationFactory(owner=producer, name="Members area")

    started = api.post(BASE, {"configuration": configuration.pk}, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert started.status_code == 202, started.content
    body = started.json()
    assert started["Location"] == f"{BASE}/{body['id']}"
    assert body["status"] == RunStatus.QUEUED and body["grade"] is None and body["checks"] == []
    assert body["configuration"] == {"id": configuration.pk, "name": "Members area"}
    assert body["url"] == configuration.url and body["events"] == configuration.events
    hottok = producer.webhook_account.hottok
    assert body["hottok"] == f"{hottok[:4]}…{hottok[-4:]}" and hottok not in started.content.decode()

    retried = api.post(BASE, {"configuration": configuration.pk}, HTTP_IDEMPOTENCY_KEY="retry-me")
    double = api.post(BASE, {"configuration": configuration.pk})
    assert (retried.status_code, retried.json()["id"]) == (200, body["id"])
    assert (double.status_code, double.json()["id"]) == (200, body["id"])
    assert ReceiverCheck.objects.count() == 1

    read = api.get(f"{BASE}/{body['id']}")
    assert read.status_code == 200 and read.json()["id"] == body["id"]
    listed = api.get(BASE, {"configuration": configuration.pk})
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]
    assert "checks" not in listed.json()["items"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "headers", "field"),
    [
        ({}, {}, "url"),
        ({"url": "ftp://example.com/x"}, {}, "url"),
        ({"url": "x" * 2001}, {}, "url"),
        ({"url": "http://127.0.0.1:9/x", "payload_version": "3"}, {}, "payload_version"),
        ({"configuration": 999999}, {}, "configuration"),
        ({"configuration": "twelve"}, {}, "configuration"),
        ({"url": "http://127.0.0.1:9/x"}, {"HTTP_IDEMPOTENCY_KEY": "k" * 101}, "Idempotency-Key"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, payload, headers, field):
    assert_error(api.post(BASE, payload, **headers), 400, field=field)
    assert not ReceiverCheck.objects.exists()


@pytest.mark.django_db
def test_a_configuration_and_a_url_at_once_is_refused(api, producer):
    configuration = ConfigurationFactory(owner=producer)
    body = assert_error(api.post(BASE, {"configuration": configuration.pk, "url": "http://127.0.0.1:9/x"}), 400)
    assert body["field"] == "url" and "not both" in body["message"]


@pytest.mark.django_db
def test_production_mode_refuses_a_private_url(api, settings):
    settings.DISPATCHER = {**settings.DISPATCHER, "MODE": "production"}
    body = assert_error(api.post(BASE, {"url": "http://10.0.0.7/hook"}), 400, field="url")
    assert "public address" in body["message"]


@pytest.mark.django_db
def test_scopes_read_to_look_write_to_start(producer):
    reader = Api(producer, bearer_token(producer, scope="read"))
    assert_error(reader.post(BASE, {"url": "http://127.0.0.1:9/x"}), 403)
    assert reader.get(BASE).status_code == 200
    assert_error(Api(producer, None).get(BASE), 401)
    assert not ReceiverCheck.objects.exists()


@pytest.mark.django_db
def test_another_producers_check_does_not_exist(api):
    stranger = UserFactory()
    configuration_services.account_get_or_create(user=stranger)
    theirs = Api(stranger, bearer_token(stranger)).post(BASE, {"url": "http://127.0.0.1:9/theirs"}).json()
    assert_error(api.get(f"{BASE}/{theirs['id']}"), 404)
    assert api.get(BASE).json()["items"] == []
    their_configuration = ConfigurationFactory(owner=stranger)
    assert_error(api.post(BASE, {"configuration": their_configuration.pk}), 400, field="configuration")
    assert ReceiverCheck.objects.filter(owner=api.user).count() == 0


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_check_started_over_the_api_is_read_back_graded_with_links_to_its_notifications(stack, api, producer):
    with Receiver(producer.webhook_account.hottok, accepts_any_hottok=True) as receiver:
        started = api.post(BASE, {"url": receiver.url}).json()
        report = wait_until(
            lambda: (body := api.get(f"{BASE}/{started['id']}").json())["status"] == RunStatus.DONE and body,
            timeout=90,
            message="the check to finish",
        )

    assert report["grade"] == Grade.FAIL
    assert report["counts"] == {"passed": 24, "warnings": 0, "failed": 2, "skipped": 0, "pending": 0}
    by_key = {check["key"]: check for check in report["checks"]}
    wrong = by_key["hottok_wrong"]
    assert wrong["grade"] == Grade.FAIL and "fake sales" in wrong["summary"] and wrong["fix"]
    [answer] = wrong["answers"]
    assert answer["status_code"] == 200 and answer["notification"] == wrong["notifications"][0]
    notification = api.get(f"/api/v1/notifications/{answer['notification']}").json()
    assert notification["is_test"] and notification["configuration"] is None
    assert notification["target_url"] == receiver.url
    refused = api.post(f"/api/v1/notifications/{answer['notification']}/resend")
    assert_error(refused, 409)
    assert "receiver check" in refused.json()["message"]
