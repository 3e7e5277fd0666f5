"""/api/v1/inboxes: create, list, read, configure, reset and delete request catchers, and read what they caught
(polling with `after`, the hottok masked unless revealed); always the caller's own."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from inbox.models import Inbox, InboxRequest
from inbox.selectors import inbox_url
from inbox.services import inbox_create
from tests.api.conftest import Api, assert_error, bearer_token

pytestmark = pytest.mark.django_db

HOTTOK = "hottok-0123456789-abcdefghij"


def catch(inbox_id: int, body: dict | None = None, **headers):
    """A request to the inbox's own URL, as a receiver of notifications gets it."""
    inbox = Inbox.objects.get(pk=inbox_id)
    payload = json.dumps(body if body is not None else {"hottok": HOTTOK, "event": "PURCHASE_APPROVED"})
    return Client().post(
        f"/inbox/{inbox.token}/", payload, content_type="application/json", HTTP_X_HOTMART_HOTTOK=HOTTOK, **headers
    )


def create(api: Api, **data) -> dict:
    response = api.post("/api/v1/inboxes", {"name": "flaky", **data})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_an_inbox_and_give_its_url_to_a_configuration(api):
    body = create(api, fail_first=2, delay_ms=250)

    inbox = Inbox.objects.get(pk=body["id"])
    assert inbox.owner == api.user and body["url"] == inbox_url(inbox) and inbox.token in body["url"]
    assert body["status_code"] == 200 and body["response_body"] == '{"received": true}'
    assert body["fail_first"] == 2 and body["fail_status"] == 500 and body["delay_ms"] == 250
    assert body["received_count"] == 0 and body["request_count"] == 0
    configuration = api.post(
        "/api/v1/configurations", {"name": "to my inbox", "events": ["PURCHASE_APPROVED"], "url": body["url"]}
    )
    assert configuration.status_code == 201, configuration.content


def test_list_and_read_only_your_inboxes(api, other_api):
    mine = create(api)
    theirs = inbox_create(owner=other_api.user, name="theirs")
    catch(mine["id"])

    listed = api.get("/api/v1/inboxes").json()["items"]
    read = api.get(f"/api/v1/inboxes/{mine['id']}").json()

    assert [i["id"] for i in listed] == [mine["id"]] and listed[0]["request_count"] == 1
    assert read["received_count"] == 1 and read["request_count"] == 1 and read["name"] == "flaky"
    for response in (
        api.get(f"/api/v1/inboxes/{theirs.pk}"),
        api.patch(f"/api/v1/inboxes/{theirs.pk}", {"status_code": 500}),
        api.post(f"/api/v1/inboxes/{theirs.pk}/reset"),
        api.get(f"/api/v1/inboxes/{theirs.pk}/requests"),
        api.delete(f"/api/v1/inboxes/{theirs.pk}"),
    ):
        assert_error(response, 404, code="not_found")
    assert Inbox.objects.filter(pk=theirs.pk, status_code=200).exists()


def test_configure_how_it_answers_and_the_catching_url_obeys(api):
    inbox = create(api)

    changed = api.patch(
        f"/api/v1/inboxes/{inbox['id']}",
        {"status_code": 410, "response_body": "gone", "response_content_type": "text/plain"},
    )

    assert changed.status_code == 200, changed.content
    assert changed.json()["status_code"] == 410 and changed.json()["name"] == "flaky", "what is left out stays"
    answer = catch(inbox["id"])
    assert answer.status_code == 410 and answer.content == b"gone" and answer["Content-Type"] == "text/plain"


def test_fail_first_n_then_succeed_and_changing_n_restarts_the_count(api):
    inbox = create(api, fail_first=1, fail_status=503)
    assert [catch(inbox["id"]).status_code for _ in range(2)] == [503, 200]

    api.patch(f"/api/v1/inboxes/{inbox['id']}", {"fail_first": 1})

    assert catch(inbox["id"]).status_code == 503
    assert api.get(f"/api/v1/inboxes/{inbox['id']}").json()["received_count"] == 1


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"name": ""}, "name", "blank"),
        ({"name": "n" * 101}, "name", "max_length"),
        ({"status_code": 600}, "status_code", "max_value"),
        ({"status_code": 199}, "status_code", "min_value"),
        ({"fail_status": 99}, "fail_status", "min_value"),
        ({"delay_ms": -1}, "delay_ms", "min_value"),
        ({"delay_ms": 61_000}, "delay_ms", "invalid"),  # beyond INBOX_MAX_DELAY
        ({"fail_first": 10_001}, "fail_first", "max_value"),
        ({"response_body": "é" * 40_000}, "response_body", "invalid"),  # over 64 KiB once encoded
        ({"response_content_type": ""}, "response_content_type", "blank"),
    ],
)
def test_bad_inbox_settings_are_named(api, data, field, code):
    assert_error(api.post("/api/v1/inboxes", {"name": "x", **data}), 400, field=field, code=code)
    assert not Inbox.objects.exists()
    existing = inbox_create(owner=api.user, name="kept")
    assert_error(api.patch(f"/api/v1/inboxes/{existing.pk}", data), 400, field=field, code=code)
    existing.refresh_from_db()
    assert existing.name == "kept" and existing.status_code == 200 and existing.delay_ms == 0


def test_a_name_you_already_use_is_refused(api):
    create(api)
    body = assert_error(api.post("/api/v1/inboxes", {"name": "flaky"}), 400, field="name")
    assert "already have an inbox" in body["message"]


def test_caught_requests_are_listed_newest_first_with_the_hottok_masked(api):
    inbox = create(api)
    catch(inbox["id"], {"hottok": HOTTOK, "n": 1})
    catch(inbox["id"], {"hottok": HOTTOK, "n": 2})

    response = api.get(f"/api/v1/inboxes/{inbox['id']}/requests")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["number"] for r in body["items"]] == [2, 1]
    assert body["next_after"] == body["items"][0]["id"] == InboxRequest.objects.latest("id").pk
    newest = body["items"][0]
    assert newest["method"] == "POST" and newest["path"] == "/" and newest["response_status"] == 200
    sent = json.dumps({"hottok": HOTTOK, "n": 2}).encode()
    assert newest["content_type"] == "application/json" and newest["body_size"] == len(sent)
    assert json.loads(newest["body"])["n"] == 2
    assert HOTTOK not in json.dumps(body), "the hottok is masked in headers and bodies"
    assert newest["headers"]["X-Hotmart-Hottok"] != HOTTOK and json.loads(newest["body"])["hottok"] != HOTTOK


def test_reveal_shows_the_hottok_to_its_owner(api):
    inbox = create(api)
    catch(inbox["id"])

    [caught] = api.get(f"/api/v1/inboxes/{inbox['id']}/requests", {"reveal": "true"}).json()["items"]

    assert caught["headers"]["X-Hotmart-Hottok"] == HOTTOK and json.loads(caught["body"])["hottok"] == HOTTOK


def sent_numbers(page: dict) -> list[int]:
    return [json.loads(r["body"])["n"] for r in page["items"]]


def test_polling_with_after_gets_only_what_came_next_in_order(api):
    inbox = create(api)
    for n in range(1, 4):
        catch(inbox["id"], {"n": n})
    path = f"/api/v1/inboxes/{inbox['id']}/requests"

    first = api.get(path, {"after": 0, "max_results": 2}).json()
    second = api.get(path, {"after": first["next_after"], "max_results": 2}).json()
    catch(inbox["id"], {"n": 4})
    third = api.get(path, {"after": second["next_after"]}).json()
    idle = api.get(path, {"after": third["next_after"]}).json()

    assert sent_numbers(first) == [1, 2] and sent_numbers(second) == [3] and sent_numbers(third) == [4]
    assert first["next_after"] == first["items"][-1]["id"]
    assert idle == {"items": [], "next_after": third["next_after"]}


def test_polling_misses_nothing_and_repeats_nothing_when_the_count_restarts(api):
    """Changing fail-first-N or resetting starts the numbers again; the `after` cursor is the id, which only grows."""
    inbox = create(api)
    path = f"/api/v1/inboxes/{inbox['id']}"
    for n in range(1, 4):
        catch(inbox["id"], {"n": n})
    cursor = api.get(f"{path}/requests", {"after": 0}).json()["next_after"]

    api.patch(path, {"fail_first": 1})
    catch(inbox["id"], {"n": 4})
    after_change = api.get(f"{path}/requests", {"after": cursor}).json()
    api.post(f"{path}/reset")
    catch(inbox["id"], {"n": 5})
    after_reset = api.get(f"{path}/requests", {"after": after_change["next_after"]}).json()

    assert sent_numbers(after_change) == [4] and after_change["items"][0]["number"] == 1
    assert after_change["items"][0]["response_status"] == 500
    assert sent_numbers(after_reset) == [5] and after_reset["items"][0]["number"] == 1


def test_reset_forgets_the_requests_and_starts_the_count_again(api):
    inbox = create(api)
    for _ in range(3):
        catch(inbox["id"])
    path = f"/api/v1/inboxes/{inbox['id']}"

    reset = api.post(f"{path}/reset")

    assert reset.status_code == 200, reset.content
    assert reset.json()["forgotten"] == 3 and reset.json()["inbox"]["received_count"] == 0
    assert reset.json()["inbox"]["request_count"] == 0 and not InboxRequest.objects.exists()
    assert api.get(f"{path}/requests").json() == {"items": [], "next_after": 0}


def test_delete_an_inbox_and_what_it_caught(api):
    inbox = create(api)
    catch(inbox["id"])

    assert api.delete(f"/api/v1/inboxes/{inbox['id']}").status_code == 204

    assert not Inbox.objects.exists() and not InboxRequest.objects.exists()
    assert_error(api.get(f"/api/v1/inboxes/{inbox['id']}"), 404)


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"after": -1}, "after", "min_value"),
        ({"after": "last"}, "after", "invalid"),
        ({"max_results": 101}, "max_results", "max_value"),
        ({"reveal": "please"}, "reveal", "invalid"),
    ],
)
def test_bad_request_queries_are_named(api, params, field, code):
    inbox = create(api)
    assert_error(api.get(f"/api/v1/inboxes/{inbox['id']}/requests", params), 400, field=field, code=code)


def test_put_is_not_an_inbox_method(api):
    inbox = create(api)
    assert_error(api.put(f"/api/v1/inboxes/{inbox['id']}", {"name": "x"}), 405, code="method_not_allowed")


def test_a_read_only_token_reads_inboxes_but_changes_nothing(producer):
    inbox = inbox_create(owner=producer, name="mine")
    reader = Api(producer, bearer_token(producer, scope="read"))

    assert reader.get("/api/v1/inboxes").status_code == 200
    assert reader.get(f"/api/v1/inboxes/{inbox.pk}/requests").status_code == 200
    for response in (
        reader.post("/api/v1/inboxes", {"name": "new"}),
        reader.patch(f"/api/v1/inboxes/{inbox.pk}", {"status_code": 500}),
        reader.post(f"/api/v1/inboxes/{inbox.pk}/reset"),
        reader.delete(f"/api/v1/inboxes/{inbox.pk}"),
    ):
        assert_error(response, 403, code="permission_denied")
    assert list(Inbox.objects.values_list("name", "status_code")) == [("mine", 200)]
