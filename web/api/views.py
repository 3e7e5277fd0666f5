"""What the API's viewsets share: objects are always the caller's own."""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets

from web.api.errors import not_found

ID_PATTERN = r"[0-9]{1,18}"  # ids that fit the database's 64-bit integers; anything else is a 404


class OwnedObjectViewSet(viewsets.GenericViewSet):
    """A viewset over the caller's objects: ``get_object`` asks a selector scoped to the caller, so another
    producer's id answers 404 exactly like an id that does not exist.

    Objects are found by their id (``pk`` in the URL); a viewset whose objects are named by a code (a
    transaction's ``HP...``) sets ``lookup_field``, ``lookup_value_regex`` and ``lookup``.
    """

    lookup_value_regex = ID_PATTERN
    object_name = "object"  # in the 404's message: "No configuration 12."

    def lookup(self, raw: str) -> Any:
        """The URL's value as ``fetch`` takes it."""
        return int(raw)

    def fetch(self, *, owner_id: int, object_id: Any) -> Any | None:
        raise NotImplementedError

    def get_object(self):
        object_id = self.lookup(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        found = self.fetch(owner_id=self.request.user.pk, object_id=object_id)
        if found is None:
            raise not_found(self.object_name, object_id)
        return found


def page_body(items: list, *, next_cursor: str | None, max_results: int) -> dict:
    """A page of a list, Hotmart-style: ``items`` and ``page_info`` with the token of the next page."""
    return {"items": items, "page_info": {"next_page_token": next_cursor, "results_per_page": max_results}}
