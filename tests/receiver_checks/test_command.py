"""manage.py check-receiver: exit 0 when nothing failed, 1 when a check failed, 2 for bad input (one line)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from configurations.services import configuration_create
from receiver_checks.models import ReceiverCheck
from tests.dispatcher.test_commands import manage
from tests.factories import ConfigurationFactory
from tests.receiver_checks.receivers import Receiver


def check_receiver(*args: str) -> tuple[int, str]:
    """Run the command; answers its exit status and what it printed."""
    out = StringIO()
    try:
        call_command("check-receiver", *args, stdout=out, stderr=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_a_receiver_done_right_exits_0_with_every_check_passed(producer):
    with Receiver(producer.webhook_account.hottok) as receiver:
        status, out = check_receiver("--url", receiver.url, "--owner", producer.username, "--in-process")
    assert status == 0, out
    assert "  PASS  A wrong hottok is refused  [401]" in out
    assert "PASS: 0 failed, 0 warnings, 26 passed" in out
    assert producer.webhook_account.hottok not in out


@pytest.mark.django_db
def test_a_failed_check_exits_1_saying_how_to_fix_it(producer):
    with Receiver(producer.webhook_account.hottok, accepts_any_hottok=True) as receiver:
        status, out = check_receiver("--url", receiver.url, "--owner", producer.username, "--in-process")
    assert status == 1
    assert "  FAIL  A wrong hottok is refused  [200]" in out
    assert "fix: Compare the X-HOTMART-HOTTOK header" in out
    assert "FAIL: 2 failed" in out


@pytest.mark.django_db
def test_json_is_the_apis_report(producer):
    with Receiver(producer.webhook_account.hottok) as receiver:
        configuration = configuration_create(
            owner=producer, name="r", events=["PURCHASE_APPROVED"], url=receiver.url, payload_version="1.0"
        )
        status, out = check_receiver("--configuration", str(configuration.pk), "--json", "--in-process")
    report = json.loads(out)
    assert status == 0
    assert report["status"] == "done" and report["grade"] == "pass" and report["payload_version"] == "1.0"
    assert [c["key"] for c in report["checks"]][:2] == ["https", "event:PURCHASE_APPROVED"]
    shown = json.loads(check_receiver("--show", str(report["id"]), "--json")[1])
    assert shown == report


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "http://127.0.0.1:9/x"], "--url needs --owner"),
        (["--url", "http://127.0.0.1:9/x", "--owner", "nobody"], "Unknown owner 'nobody'"),
        (["--url", "ftp://x", "--owner", "{owner}"], "url: The URL must start with http:// or https://."),
        (["--configuration", "999999"], "No configuration 999999"),
        (["--show", "999999"], "No receiver check 999999"),
    ],
)
def test_bad_input_exits_2_with_one_line(producer, args, message):
    args = [a.replace("{owner}", producer.username) for a in args]
    with pytest.raises(CommandError) as refused:
        call_command("check-receiver", *args)
    assert refused.value.returncode == 2 and message in str(refused.value)
    assert not ReceiverCheck.objects.exists()


@pytest.mark.django_db
def test_a_configuration_with_a_version_or_someone_elses_owner_is_refused(producer, stranger):
    configuration = ConfigurationFactory(owner=producer)
    for args, message in (
        (["--payload-version", "1.0"], "--payload-version is for a --url check"),
        (["--owner", stranger.username], "is not"),
    ):
        with pytest.raises(CommandError, match=message) as refused:
            call_command("check-receiver", "--configuration", str(configuration.pk), *args)
        assert refused.value.returncode == 2


@pytest.mark.django_db
def test_the_real_command_line_exits_2_with_one_line_on_stderr():
    result = manage("check-receiver", "--url", "http://127.0.0.1:9/x")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "--url needs --owner" in result.stderr


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_without_in_process_the_worker_runs_it_and_the_command_follows(stack, producer):
    with Receiver(producer.webhook_account.hottok, fails_repeats=True) as receiver:
        configuration = configuration_create(
            owner=producer, name="r", events=["PURCHASE_APPROVED", "PURCHASE_REFUNDED"], url=receiver.url
        )
        status, out = check_receiver("--configuration", str(configuration.pk))
    assert status == 1
    assert "  FAIL  A repeated notification is accepted again  [200 500]" in out
    assert "notifications: #" in out
