"""What the management commands of every app share: one-line errors with exit status 2, JSON output.

(The ``--owner`` lookup is ``configurations.cli.owner_or_error``.)"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

USAGE_ERROR = 2


class OneLineParser(CommandParser):
    """A bad option prints one line (``prog: error: ...``) and exits 2, instead of the whole usage text."""

    def error(self, message):
        if self.called_from_command_line:
            sys.stderr.write(f"{self.prog}: error: {message}\n")
            sys.exit(USAGE_ERROR)
        raise CommandError(f"Error: {message}", returncode=USAGE_ERROR)


class Command(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = OneLineParser  # same parser, one-line errors; subparsers inherit the class
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
