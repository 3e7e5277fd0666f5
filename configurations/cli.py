"""What the commands of every app share about accounts: the ``--owner`` lookup, with a one-line error."""

from __future__ import annotations

from configurations.selectors import owner_by_username
from core.cli import usage_error


def owner_or_error(username: str):
    owner = owner_by_username(username)
    if owner is None:
        raise usage_error(f"Unknown owner {username!r}; create the account first (e.g. `manage.py seed_demo`).")
    return owner
