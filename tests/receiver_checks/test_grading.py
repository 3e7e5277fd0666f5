"""The grading rules, case by case: pure functions from what came back to pass, warn or fail."""

from __future__ import annotations

import pytest

from receiver_checks import grading
from receiver_checks.choices import Grade
from receiver_checks.grading import Answer, Limits

LIMITS = Limits(connect_timeout=5, read_timeout=15, total_timeout=30)
URL = "http://example.com/webhook"
JSON = "application/json"

OK = Answer(200, 12)
CREATED = Answer(201, 12)
REFUSED = Answer(401, 3)
CRASH = Answer(500, 40)
MOVED = Answer(301, 2, location="https://example.com/webhook")
LATE = Answer(-1, 15_000, "read_timeout", "timed out waiting for the response")
DOWN = Answer(-1, 1, "connection_refused", "connection refused")


@pytest.mark.parametrize(
    ("answer", "grade", "says", "fix_says"),
    [
        (OK, Grade.PASS, "Answered 200", ""),
        (CREATED, Grade.PASS, "201", ""),
        (Answer(204, 1), Grade.PASS, "204", ""),
        (MOVED, Grade.FAIL, "does not follow redirects", "Use the https URL, https://example.com/webhook"),
        (Answer(302, 1, location=URL + "/"), Grade.FAIL, "302", "Add the trailing slash"),
        (REFUSED, Grade.FAIL, "right hottok", "no Authorization header"),
        (Answer(404, 1), Grade.FAIL, "disables the configuration", "path"),
        (Answer(410, 1), Grade.FAIL, "at once", "no longer want"),
        (Answer(405, 1), Grade.FAIL, "does not accept POST", "Accept POST"),
        (Answer(413, 1), Grade.FAIL, "too large", "client_max_body_size"),
        (Answer(422, 1), Grade.FAIL, "invalid", "ignore the others"),
        (Answer(429, 1), Grade.FAIL, "Rate limited", "bursts"),
        (CRASH, Grade.FAIL, "retries a 5xx", "logs"),
        (LATE, Grade.FAIL, "Got no answer (timed out", "background job"),
        (DOWN, Grade.FAIL, "Nothing listens at example.com", "Start your receiver"),
        (Answer(-1, 1, "dns", "host name does not resolve"), Grade.FAIL, "does not resolve", "host name"),
        (Answer(-1, 1, "tls", "TLS error: bad cert"), Grade.FAIL, "TLS error", "certificate"),
        (Answer(-1, 1, "blocked_address", "127.0.0.1: not public"), Grade.FAIL, "production mode", "ALLOWED"),
    ],
)
def test_a_notification_hotmart_would_send_passes_on_any_2xx_only(answer, grade, says, fix_says):
    verdict = grading.grade_delivery(answer, url=URL, content_type=JSON, limits=LIMITS)
    assert verdict.grade == grade
    assert says in verdict.summary
    assert fix_says in verdict.fix
    assert (verdict.fix == "") == (grade == Grade.PASS)


@pytest.mark.parametrize(
    ("forged", "control", "grade"),
    [
        (OK, OK, Grade.FAIL),  # accepts a forgery: anyone can fake sales
        (OK, CRASH, Grade.FAIL),  # accepting a forgery is wrong whatever else it does
        (REFUSED, OK, Grade.PASS),
        (Answer(403, 1), OK, Grade.PASS),
        (Answer(404, 1), OK, Grade.PASS),  # hiding the endpoint is a refusal too
        (REFUSED, REFUSED, Grade.WARN),  # refuses everything: the hottok is not shown to be checked
        (REFUSED, None, Grade.WARN),
        (CRASH, OK, Grade.WARN),  # refused, but as an outage
        (LATE, OK, Grade.WARN),
        (MOVED, MOVED, Grade.WARN),
    ],
)
def test_a_forged_notification_must_be_refused_with_a_4xx(forged, control, grade):
    verdict = grading.grade_forged(forged, control)
    assert verdict.grade == grade
    if grade == Grade.FAIL:
        assert "fake sales" in verdict.summary and "401" in verdict.fix


@pytest.mark.parametrize(
    ("first", "second", "grade"),
    [(OK, OK, Grade.PASS), (OK, CRASH, Grade.FAIL), (OK, Answer(409, 1), Grade.FAIL), (CRASH, CRASH, Grade.WARN)],
)
def test_a_repeat_must_get_a_2xx_again(first, second, grade):
    verdict = grading.grade_repeat(first, second)
    assert verdict.grade == grade
    if grade == Grade.FAIL:
        assert "`id`" in verdict.fix


@pytest.mark.parametrize(
    ("answer", "control", "grade"),
    [(OK, OK, Grade.PASS), (OK, CRASH, Grade.PASS), (CRASH, OK, Grade.FAIL), (CRASH, CRASH, Grade.WARN)],
)
def test_a_variation_fails_only_when_the_plain_notification_was_accepted(answer, control, grade):
    verdict = grading.grade_tolerant(answer, control, compared="the same event without them", fix="Ignore them.")
    assert verdict.grade == grade
    if grade == Grade.FAIL:
        assert verdict.fix == "Ignore them." and "the same event without them got 200" in verdict.summary


def test_a_receiver_that_reads_the_other_format_is_told_which():
    fails = grading.grade_format(
        Answer(400, 1), OK, configured="JSON 2.0.0", other_version="legacy 1.0 form", configured_type=JSON
    )
    assert fails.grade == Grade.FAIL
    assert "accepted the legacy 1.0 form" in fails.summary and "php://input" in fails.fix
    form = grading.grade_format(
        Answer(400, 1),
        OK,
        configured="the legacy 1.0 form",
        other_version="JSON 2.0.0",
        configured_type="application/x-www-form-urlencoded",
    )
    assert form.grade == Grade.FAIL and "form fields" in form.fix
    assert grading.grade_format(OK, CRASH, configured="x", other_version="y", configured_type=JSON).grade == Grade.PASS
    both = grading.grade_format(CRASH, CRASH, configured="x", other_version="y", configured_type=JSON)
    assert both.grade == Grade.WARN


@pytest.mark.parametrize(
    ("url", "location", "advice"),
    [
        ("http://a.example/hook", "https://a.example/hook", "Use the https URL, https://a.example/hook"),
        ("https://a.example/hook", "https://a.example/hook/", "Add the trailing slash"),
        ("https://a.example/hook/", "https://a.example/hook", "Remove the trailing slash"),
        ("https://a.example/hook", "https://b.example/x", "Use the URL it redirects to (https://b.example/x)"),
        ("https://a.example/hook", "", "does not follow redirects"),
    ],
)
def test_a_redirect_says_which_url_to_use_instead(url, location, advice):
    assert advice in grading.redirect_fix(url, location)


def test_a_long_list_of_posts_is_cut_short():
    late = [(f"EVENT_{n}", LATE) for n in range(9)]
    verdict = grading.grade_speed(late, limits=LIMITS)
    assert "9 POSTs got no answer in time" in verdict.summary
    assert "EVENT_0, EVENT_1, EVENT_2, EVENT_3, EVENT_4 and 4 more." in verdict.summary


def test_redirects_fail_naming_where_they_lead():
    assert grading.grade_redirects([], url=URL).grade == Grade.PASS
    verdict = grading.grade_redirects([("PURCHASE_APPROVED", MOVED), ("SWITCH_PLAN", MOVED)], url=URL)
    assert verdict.grade == Grade.FAIL
    assert "2 answers were redirects (301 to https://example.com/webhook)" in verdict.summary
    assert "PURCHASE_APPROVED, SWITCH_PLAN" in verdict.summary


@pytest.mark.parametrize(
    ("answers", "grade"),
    [
        ([("a", OK), ("b", Answer(200, 7_499))], Grade.PASS),  # under half of the 15 s read timeout
        ([("a", OK), ("b", Answer(200, 7_500))], Grade.WARN),  # half of it: a busier moment would time out
        ([("a", OK), ("b", LATE)], Grade.FAIL),
        ([("a", OK), ("b", Answer(-1, 30_000, "total_timeout", "no complete answer"))], Grade.FAIL),
        ([("a", Answer(-1, 5_000, "connect_timeout", "timed out connecting"))], Grade.FAIL),
        ([("a", DOWN)], Grade.SKIP),  # nothing answered: nothing to time
    ],
)
def test_speed_warns_near_the_time_limit_and_fails_past_it(answers, grade):
    verdict = grading.grade_speed(answers, limits=LIMITS)
    assert verdict.grade == grade


def test_the_slow_threshold_follows_the_transport_limits():
    assert Limits(2, 4, 30).slow_after == 2
    assert Limits(2, 15, 6).slow_after == 3


@pytest.mark.parametrize(
    ("url", "local", "grade"),
    [
        ("https://example.com/hook", False, Grade.PASS),
        ("http://127.0.0.1:9000/hook", True, Grade.PASS),
        ("http://example.com/hook", False, Grade.WARN),
    ],
)
def test_plain_http_is_a_warning_except_on_your_own_machine(url, local, grade):
    assert grading.grade_https(url, local=local).grade == grade


@pytest.mark.parametrize(
    ("grades", "overall"),
    [
        ([Grade.PASS, Grade.SKIP], Grade.PASS),
        ([Grade.PASS, Grade.WARN], Grade.WARN),
        ([Grade.WARN, Grade.FAIL, Grade.PASS], Grade.FAIL),
    ],
)
def test_a_run_fails_when_any_check_failed(grades, overall):
    assert grading.overall(grades) == overall
