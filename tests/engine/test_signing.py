"""Optional Standard Webhooks signing, verified with the independent `standardwebhooks` package."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from configurations.models import SigningSecret
from configurations.selectors import signing_secrets_active
from configurations.services import configuration_create, signing_disable, signing_secret_rotate
from core.hotmart import sign
from tests.engine.test_delivery import final, requests_to, simulate

BODY = b'{"id":"2f3c","event":"PURCHASE_APPROVED","data":{"buyer":{"name":"Jo\xc3\xa3o"}}}'


def test_signatures_verify_with_an_independent_implementation():
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = sign(secrets=[secret], message_id="msg_1", timestamp=int(time.time()), body=BODY)
    assert Webhook(secret).verify(BODY, headers)["event"] == "PURCHASE_APPROVED"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"PURCHASE", b"PURCHASE_"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(BODY, headers)


def test_rotation_signs_with_old_and_new_secrets_until_the_overlap_ends(producer):
    configuration = configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url="http://a.com/")
    old = signing_secret_rotate(configuration=configuration)
    assert configuration.signing_enabled
    now = timezone.now()
    new = signing_secret_rotate(configuration=configuration, overlap_seconds=3600, now=now)

    assert signing_secrets_active(configuration_id=configuration.pk, now=now) == [new.secret, old.secret]
    later = now + timedelta(hours=2)
    assert signing_secrets_active(configuration_id=configuration.pk, now=later) == [new.secret]
    headers = sign(
        secrets=signing_secrets_active(configuration_id=configuration.pk, now=now),
        message_id="m",
        timestamp=int(time.time()),
        body=BODY,
    )
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old.secret, new.secret):
        Webhook(secret).verify(BODY, headers)

    signing_disable(configuration=configuration)
    assert not configuration.signing_enabled and not SigningSecret.objects.exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_signed_deliveries_verify_at_the_receiver(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration = configuration_create(
        owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook")
    )
    secret = signing_secret_rotate(configuration=configuration).secret

    done = final(simulate(producer, product))

    [request] = requests_to(httpserver, "/hook")
    payload = Webhook(secret).verify(request.get_data(), dict(request.headers))
    assert payload["id"] == request.headers["webhook-id"] == str(done.event.uuid)
    assert request.headers["X-HOTMART-HOTTOK"], "Hotmart's token is still sent"
    assert secret not in str(done.attempts.get().request_headers)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_unsigned_configurations_send_no_signature(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    final(simulate(producer, product))
    [request] = requests_to(httpserver, "/hook")
    assert "webhook-signature" not in request.headers
