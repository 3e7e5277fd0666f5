"""What the API's viewsets share: objects are always the caller's own."""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets

from dispatcher.api.errors import not_found

ID_PATTERN = r"[0-9]{1,18}"  # ids that fit the database's 64-bit integers; anything else is a 404


class OwnedObjectViewSet(viewsets.GenericViewSet):
    """A viewset over the caller's objects: ``get_object`` asks a selector scoped to the caller, so another
    producer's id answers 404 exactly like an id that does not exist."""

    lookup_value_regex = ID_PATTERN
    object_name = "object"  # in the 404's message: "No configuration 12."

    def fetch(self, *, owner_id: int, object_id: int) -> Any | None:
        raise NotImplementedError

    def get_object(self):
        object_id = int(self.kwargs["pk"])
        found = self.fetch(owner_id=self.request.user.pk, object_id=object_id)
        if found is None:
            raise not_found(self.object_name, object_id)
        return found
