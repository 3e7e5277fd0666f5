"""Bad command-line arguments get one line and exit 2, from every command and sub-command: text that is not
UTF-8 (a shell passes any bytes), numbers that are not finite or no database holds, and missing arguments. Run
as a user meets them: the real command line, in a subprocess."""

from __future__ import annotations

import argparse
from io import StringIO

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

from core.cli import Command, OneLineParser, file_path, number
from tests.dispatcher.test_commands import manage

NOT_UTF8 = b"caf\xe9"  # Latin-1, as a terminal in another encoding sends it

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo():
    """The demo account; ``{configuration}`` and ``{inbox}`` in arguments stand for its configuration and inbox."""
    from configurations.models import Configuration
    from inbox.models import Inbox

    call_command("seed_demo", stdout=StringIO())
    return {"configuration": str(Configuration.objects.get().pk), "inbox": str(Inbox.objects.get().pk)}


def filled(args, demo) -> list:
    return [arg.format(**demo) if isinstance(arg, str) else arg for arg in args]


def one_line(result, *words: str) -> str:
    """The command failed as a user should see it: exit 2, one line on stderr (no usage, no traceback)."""
    assert result.returncode == 2, (result.returncode, result.stderr[-800:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr[-800:]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["configurations", "add", "--owner", "demo", "--name", NOT_UTF8, "--event", "ALL", "--url", "http://a.com"],
         "--name"),
        (["configurations", "disable", "{configuration}", "--reason", NOT_UTF8], "--reason"),
        (["simulate", "--transaction", NOT_UTF8, "--to", "refunded"], "--transaction"),
        (["products", "add", "--owner", "demo", "--name", NOT_UTF8], "--name"),
        (["credentials", "add", "--owner", "demo", "--name", NOT_UTF8], "--name"),
        (["check-receiver", "--url", b"http://" + NOT_UTF8 + b".com/", "--owner", "demo"], "--url"),
        (["hottok", "--owner", NOT_UTF8], "--owner"),
        (["inbox", "create", "--owner", "demo", "--name", NOT_UTF8], "--name"),
        (["simulate", "PURCHASE_APPROVED", "--owner", "demo", "--buyer-name", NOT_UTF8], "--buyer-name"),
    ],
)  # fmt: skip
def test_text_that_is_not_utf8_gets_one_line(demo, args, option):
    one_line(manage(*filled(args, demo)), option, "not valid UTF-8")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["inbox", "create", "--owner", "demo", "--name", "n", "--delay", "nan"], ["--delay", "'nan' is not a finite"]),
        (["products", "add", "--owner", "demo", "--name", "n", "--price", "nan"], ["price: 'nan' is not a price"]),
        (["configurations", "add", "--owner", "demo"], ["the following arguments are required: --name"]),
        (["inbox", "requests", "--owner", "demo"], ["the following arguments are required: id"]),
    ],
)  # fmt: skip
def test_the_issues_bad_arguments_get_one_line_from_the_real_command_line(demo, args, words):
    one_line(manage(*filled(args, demo)), *words)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["inbox", "set", "{inbox}", "--owner", "demo", "--delay", "inf"], ["--delay", "'inf' is not a finite"]),
        (["configurations", "signing", "{configuration}", "--rotate", "--overlap-hours", "-inf"], ["--overlap-hours"]),
        (["configurations", "signing", "{configuration}", "--rotate", "--overlap-hours", "1e300"],
         ["overlap: The overlap is at most"]),
        (["products", "add", "--owner", "demo", "--name", "n", "--price", "Infinity"], ["price:"]),
        (["products", "add", "--owner", "demo", "--name", "n", "--id", "9" * 20], ["--id", "out of range"]),
        (["products", "add", "--owner", "demo", "--name", "n", "--id", "9" * 18], ["hotmart_id:"]),
        (["affiliates", "add", "--owner", "demo", "--product", "4001001", "--username", "a", "--commission", "nan"],
         ["commission_percent:"]),
        (["notifications", "list", "--limit", "9" * 20], ["--limit", "out of range"]),
        (["notifications", "bulk-resend", "--configuration", "{configuration}", "--since", "2026-13-45"], ["--since"]),
        (["configurations", "show", "x"], ["invalid int value: 'x'"]),
    ],
)  # fmt: skip
def test_every_numeric_option_refuses_what_is_not_a_usable_number(demo, args, words):
    with pytest.raises(CommandError) as caught:
        call_command(*filled(args, demo), stdout=StringIO())
    assert caught.value.returncode == 2 and "\n" not in str(caught.value)
    for word in words:
        assert word in str(caught.value)


def our_commands():
    """Every command of the project's apps (those on core.cli's kit); Django's and libraries' aside."""
    names = sorted(name for name, app in get_commands().items() if not app.startswith(("django", "rest_framework")))
    ours = [name for name in names if isinstance(load_command_class(get_commands()[name], name), Command)]
    assert len(ours) >= 12, ours
    return ours


def parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parsers(sub)


@pytest.mark.parametrize("name", our_commands())
def test_every_parser_of_every_command_is_one_line_and_reads_numbers_with_the_one_parser(name):
    command = load_command_class(get_commands()[name], name)
    walked = list(parsers(command.create_parser("manage.py", name)))
    assert all(isinstance(parser, OneLineParser) for parser in walked), name
    for parser in walked:
        for action in parser._actions:
            assert action.type is not float, f"{name} {action.option_strings}: use core.cli.number"
            if action.type is number:
                with pytest.raises(SystemExit):
                    parser.called_from_command_line = True
                    parser.parse_args([*action.option_strings[:1], "nan"])
            if action.type is file_path:
                assert action.dest == "file", "only file names skip the UTF-8 check"
