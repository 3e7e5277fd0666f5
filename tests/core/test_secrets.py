"""One masking helper for every surface: a secret, secret headers, and the hottok in a body of either payload
version (2.0.0 JSON, legacy 1.0 form), byte for byte around it."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import pytest

from core.documents import NOT_JSON, parse_json
from core.secrets import header_value, mask_answer, mask_body, mask_query_secrets, mask_secret, masked_headers

HOTTOK = "Eq49j6uUQyOfyHtF99tdPznClUcI0nTnkRz5pUoP"
MASKED = "Eq49…pUoP"


def test_a_secret_keeps_four_characters_each_side_and_a_short_one_none():
    assert mask_secret(HOTTOK) == MASKED
    assert mask_secret("short") == "****"
    assert mask_secret("") == "" and mask_secret(None) == ""


def test_secret_headers_are_masked_whatever_their_case_and_the_rest_kept():
    headers = {"x-hotmart-hottok": HOTTOK, "Authorization": "Bearer " + HOTTOK, "Content-Type": "application/json"}
    assert masked_headers(headers) == {
        "x-hotmart-hottok": MASKED,
        "Authorization": "Bear…pUoP",
        "Content-Type": "application/json",
    }
    assert header_value(headers, "X-HOTMART-HOTTOK") == HOTTOK and header_value(headers, "X-Missing") == ""


def test_a_json_body_masks_its_hottok_and_keeps_every_other_byte():
    body = '{"id":"e1", "hottok":"' + HOTTOK + '","data":{"n":1}}'
    assert mask_body(body) == body.replace(HOTTOK, MASKED)


def test_a_json_hottok_is_masked_at_any_depth_and_in_any_key_case():
    body = json.dumps({"data": {"subscriber": {"HotTok": HOTTOK}}, "list": [{"hottok": HOTTOK + "x"}]})
    masked = mask_body(body)
    assert HOTTOK not in masked
    assert json.loads(masked)["data"]["subscriber"]["HotTok"] == MASKED


def test_a_json_hottok_written_with_escapes_is_masked_in_a_rewritten_document():
    body = '{"hottok":"' + HOTTOK + '\\/x","n":1}'  # "\/" is "/": the text never spells the value itself
    masked = mask_body(body)
    assert HOTTOK not in masked and json.loads(masked) == {"hottok": mask_secret(HOTTOK + "/x"), "n": 1}


def test_a_form_body_masks_only_the_hottok_value():
    body = urlencode([("callback_type", "1"), ("hottok", HOTTOK), ("name", "Ana Lúcia"), ("status", "approved")])
    masked = mask_body(body)
    assert masked == body.replace(f"hottok={HOTTOK}", f"hottok={MASKED}")
    assert dict(parse_qsl(masked))["hottok"] == MASKED and dict(parse_qsl(masked))["name"] == "Ana Lúcia"


def test_a_body_that_does_not_parse_still_hides_a_known_secret_in_any_spelling():
    cut = '{"hottok":"' + HOTTOK + '","pad":"xxxx'  # cut at a cap: no longer JSON
    assert mask_body(cut) == cut, "nothing known, nothing parsed: shown as it is"
    assert mask_body(cut, known=[HOTTOK]) == cut.replace(HOTTOK, MASKED)
    assert mask_body("x=short", known=["", "short"]) == "x=short", "empty and short known values mask nothing"


def test_a_known_secret_is_masked_url_encoded_too():
    secret = "abc+def/ghi=jkl mno"
    body = "copy=" + "abc%2Bdef%2Fghi%3Djkl+mno" + "&other=1"
    assert mask_body(body, known=[secret]) == f"copy={mask_secret(secret)}&other=1"


def test_junk_and_deeply_nested_json_are_text_not_errors():
    deep = "[" * 100_000 + "]" * 100_000
    assert parse_json(deep) is NOT_JSON and mask_body(deep) == deep
    nested = json.dumps({"hottok": HOTTOK, "a": [[[[[[[[[[1]]]]]]]]]]})
    assert parse_json(nested) is not NOT_JSON
    assert parse_json("not json") is NOT_JSON and mask_body("not json") == "not json"


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("/security/oauth/token?client_id=a&client_secret=b", "/security/oauth/token?client_id=a&client_secret=****"),
        (f"/postback?hottok={HOTTOK}&x=1", "/postback?hottok=****&x=1"),
    ],
)
def test_secrets_in_query_strings_are_masked(line, masked):
    assert mask_query_secrets(line) == masked


def test_an_answer_that_echoes_the_requests_secrets_keeps_them_masked():
    sent = {"X-HOTMART-HOTTOK": HOTTOK, "Content-Type": "application/json"}
    headers, body = mask_answer(
        {"X-Echo": HOTTOK, "Authorization": "Bearer " + HOTTOK, "Server": "echo"},
        '{"headers": {"X-Hotmart-Hottok": "' + HOTTOK + '"}, "note": "ok"}',
        sent=sent,
    )
    assert headers == {"X-Echo": MASKED, "Authorization": "Bear…pUoP", "Server": "echo"}
    assert body == '{"headers": {"X-Hotmart-Hottok": "' + MASKED + '"}, "note": "ok"}'
    assert mask_answer({}, "thanks", sent=sent) == ({}, "thanks"), "an ordinary answer is kept as it came"
