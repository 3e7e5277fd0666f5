"""What the management commands of every app share: one-line errors with exit status 2, JSON output.

Every command's parser, and each of its sub-commands' (``configurations add``), is a ``OneLineParser``: a bad
argument prints one line and exits 2. It also refuses what no command can use: text that is not UTF-8 (a
shell passes any bytes; Python keeps them as lone surrogates, which no database, page or terminal takes),
whole numbers no database integer holds, and numbers that are not finite (``--delay nan``: use the ``number``
type, not ``float``). (The ``--owner`` lookup is ``configurations.cli.owner_or_error``.)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.numbers import NotANumber, finite_float

USAGE_ERROR = 2


def number(text: str) -> float:
    """The argparse type of a numeric option: a finite number (``nan`` and ``inf`` are refused)."""
    try:
        return finite_float(text)
    except NotANumber as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def file_path(text: str) -> str:
    """The argparse type of a file name: any bytes the file system takes, so it is not checked as UTF-8 text."""
    return text


INT_MAX = 2**63 - 1  # what a database integer holds: ids, counts and limits beyond it match nothing


def _listed(value: object) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def _too_large(value: object) -> bool:
    return any(isinstance(item, int) and abs(item) > INT_MAX for item in _listed(value))


def _not_utf8(value: object) -> bool:
    for item in _listed(value):
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class OneLineParser(CommandParser):
    """A bad option prints one line (``prog: error: ...``) and exits 2, instead of the whole usage text."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        for action in self._actions:
            value = getattr(namespace, action.dest, None)
            name = "/".join(action.option_strings) or action.metavar or action.dest
            if action.type is not file_path and _not_utf8(value):
                self.error(f"argument {name}: not valid UTF-8 text; check the terminal's encoding")
            if _too_large(value):
                self.error(f"argument {name}: {value} is out of range")
        return namespace, extras

    def error(self, message):
        if self.called_from_command_line:
            sys.stderr.write(f"{self.prog}: error: {message}\n")
            sys.exit(USAGE_ERROR)
        raise CommandError(f"Error: {message}", returncode=USAGE_ERROR)


def _one_line(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` and every sub-command's parser under it a OneLineParser."""
    parser.__class__ = OneLineParser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _one_line(sub)


class Command(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        _one_line(parser)  # the same parsers, with one-line errors
        return parser


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=USAGE_ERROR)


def validation_message(exc: ValidationError) -> str:
    """One line out of a ValidationError: ``field: message; field: message``."""
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def dump_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
