"""The inbox from the command line: create, list, set, read what it caught (masked unless revealed), follow."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
from django.core.management.base import CommandError

from inbox.models import Inbox
from tests.conftest import ROOT, _test_database_url
from tests.dispatcher.test_commands import run, run_json


def test_create_list_set_reset_remove(demo):
    created = run_json("inbox", "create", "--owner", "demo", "--name", "flaky", "--fail-first", "2", "--delay", "0.5")
    assert created["fail_first"] == 2 and created["delay_ms"] == 500 and created["status_code"] == 200
    assert created["url"].endswith(f"/inbox/{Inbox.objects.get(pk=created['id']).token}/")

    listed = run_json("inbox", "list", "--owner", "demo")
    assert {row["name"] for row in listed} == {"Demo inbox", "flaky"}
    changed = run_json("inbox", "set", str(created["id"]), "--owner", "demo", "--status", "410", "--body", "gone")
    assert changed["status_code"] == 410 and changed["response_body"] == "gone" and changed["fail_first"] == 2
    text = run("inbox", "list", "--owner", "demo")
    assert "410 after 0.5 s, but 500 to the first 2 requests" in text
    assert "forgotten" in run("inbox", "reset", str(created["id"]), "--owner", "demo")
    run("inbox", "remove", str(created["id"]), "--owner", "demo")
    assert not Inbox.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["inbox", "create", "--owner", "demo", "--name", "x", "--status", "99"], "status_code: From 200 to 599"),
        (["inbox", "create", "--owner", "demo", "--name", "x", "--delay", "600"], "delay_ms: From 0 to 60000"),
        (["inbox", "create", "--owner", "demo", "--name", "Demo inbox"], "already have an inbox"),
        (["inbox", "set", "424242", "--owner", "demo", "--status", "500"], "No inbox 424242"),
        (["inbox", "show", "424242", "--owner", "demo"], "No caught request 424242"),
        (["inbox", "requests", "1", "--owner", "ghost"], "Unknown owner 'ghost'"),
    ],
)
def test_bad_input_exits_2(demo, args, message):
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2 and message in str(caught.value)


def test_another_owners_inbox_is_not_found(demo):
    from inbox.services import inbox_create
    from tests.factories import UserFactory

    theirs = inbox_create(owner=UserFactory(username="other"), name="private")
    with pytest.raises(CommandError) as caught:
        run("inbox", "requests", str(theirs.pk), "--owner", "demo")
    assert "No inbox" in str(caught.value)


@pytest.mark.django_db(transaction=True)
def test_caught_requests_are_listed_shown_masked_and_followed(live_server):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    inbox = Inbox.objects.get(name="Demo inbox")
    url = f"{live_server.url}/inbox/{inbox.token}/hook"
    command = ["inbox", "requests", str(inbox.pk), "--owner", "demo", "--follow", "--stop-after", "2"]
    follower = subprocess.Popen(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _test_database_url()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "Waiting for requests" in follower.stdout.readline(), "the follower is watching"
        body = "hottok=abcdefghijklmnopqrstuvwxyz&status=approved&transaction=HP0102030405"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-HOTMART-HOTTOK": "abcdefghijklmnopqrstuvwxyz",
        }
        requests.post(url, data=body, headers=headers, timeout=5)
        requests.get(url + "?ping=1", timeout=5)
        out, err = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0, err
    lines = [line for line in out.splitlines() if "/hook" in line]
    assert len(lines) == 2 and "POST" in lines[0] and "GET" in lines[1] and "-> 200" in lines[0]
    assert lines[0].endswith("-> 200  1.0 approved HP0102030405"), "what the notification is about"
    assert lines[1].endswith("-> 200"), "a request that is no notification says nothing more"

    listed = run_json("inbox", "requests", str(inbox.pk), "--owner", "demo")
    assert [r["method"] for r in listed] == ["GET", "POST"]
    assert (listed[1]["event_type"], listed[1]["subject"]) == ("1.0 approved", "HP0102030405")
    shown = run_json("inbox", "show", str(listed[1]["id"]), "--owner", "demo")
    assert shown["headers"]["X-Hotmart-Hottok"] == "abcd…wxyz"
    assert "abcdefghijklmnopqrstuvwxyz" not in json.dumps(shown)
    revealed = run_json("inbox", "show", str(listed[1]["id"]), "--owner", "demo", "--reveal")
    assert revealed["body"] == body and revealed["headers"]["X-Hotmart-Hottok"] == "abcdefghijklmnopqrstuvwxyz"
    assert "answered 200" in run("inbox", "show", str(listed[1]["id"]), "--owner", "demo")
