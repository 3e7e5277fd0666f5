"""API resources: inboxes (request catchers served by the sandbox) and the requests they caught, always the
caller's own. Thin views over ``inbox.services`` and ``inbox.selectors``; another producer's inbox answers 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from inbox import selectors, services
from inbox.models import Inbox
from inbox.serializers import (
    InboxListSerializer,
    InboxRequestListSerializer,
    InboxRequestQuerySerializer,
    InboxRequestSerializer,
    InboxResetSerializer,
    InboxSerializer,
    InboxWriteSerializer,
)
from web.api.errors import service_errors, validated
from web.api.views import OwnedObjectViewSet


@extend_schema(tags=["inboxes"])
class InboxViewSet(OwnedObjectViewSet):
    """Inboxes: URLs served by the sandbox that record every request and answer with the status, body and delay
    you choose (and fail the first N on purpose); give one to a configuration to see deliveries arrive."""

    queryset = Inbox.objects.none()
    object_name = "inbox"
    http_method_names = ["get", "post", "patch", "delete", "options"]

    def fetch(self, *, owner_id: int, object_id: int) -> Inbox | None:
        return selectors.inbox_get(owner_id=owner_id, inbox_id=object_id)

    def _read(self, inbox: Inbox) -> Inbox:
        """The inbox as the selector reads it (with its request count)."""
        return self.fetch(owner_id=self.request.user.pk, object_id=inbox.pk)

    @extend_schema(responses=InboxListSerializer, summary="List your inboxes")
    def list(self, request: Request) -> Response:
        return Response({"items": InboxSerializer(selectors.inbox_list(owner_id=request.user.pk), many=True).data})

    @extend_schema(request=InboxWriteSerializer, responses={201: InboxSerializer}, summary="Create an inbox")
    def create(self, request: Request) -> Response:
        """A new inbox with a fresh secret URL; by default it answers 200 `{"received": true}` at once."""
        data = validated(InboxWriteSerializer, request.data)
        with service_errors():
            inbox = services.inbox_create(owner=request.user, **data)
        return Response(InboxSerializer(self._read(inbox)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=InboxSerializer, summary="Read an inbox")
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(InboxSerializer(self.get_object()).data)

    @extend_schema(request=InboxWriteSerializer, responses=InboxSerializer, summary="Configure an inbox")
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change its name or how it answers (status, body, content type, delay, fail-first-N); what is left out
        stays. Changing `fail_first` starts its count again."""
        inbox = self.get_object()
        data = validated(InboxWriteSerializer, request.data, partial=True)
        with service_errors():
            inbox = services.inbox_update(inbox=inbox, **data)
        return Response(InboxSerializer(self._read(inbox)).data)

    @extend_schema(responses={204: None}, summary="Delete an inbox and what it caught")
    def destroy(self, request: Request, pk: str) -> Response:
        services.inbox_delete(inbox=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=InboxResetSerializer, summary="Reset an inbox")
    @action(detail=True, methods=["post"])
    def reset(self, request: Request, pk: str) -> Response:
        """Forget its requests and start its count (and its fail-first-N) again; numbers restart at 1."""
        inbox = self.get_object()
        forgotten = services.inbox_reset(inbox=inbox)
        return Response(InboxResetSerializer({"forgotten": forgotten, "inbox": self._read(inbox)}).data)

    @extend_schema(
        parameters=[InboxRequestQuerySerializer],
        responses=InboxRequestListSerializer,
        summary="List the requests an inbox caught",
    )
    @action(detail=True, methods=["get"])
    def requests(self, request: Request, pk: str) -> Response:
        """Without `after`: the newest requests, newest first. With `after` (a request's `id`): only those that came
        after it, oldest first, so polling with each answer's `next_after` never misses one. Headers and bodies
        as received, the hottok masked unless `reveal=true`."""
        inbox = self.get_object()
        query = validated(InboxRequestQuerySerializer, request.query_params.dict())
        after = query.get("after")
        rows = selectors.inbox_requests(
            inbox_id=inbox.pk,
            after_id=after,
            limit=query["max_results"],
            oldest_first=after is not None,
            with_bodies=True,
        )
        views = [selectors.inbox_request_view(row, reveal=query["reveal"]) for row in rows]
        next_after = max([after or 0, *(row.pk for row in rows)])
        return Response({"items": InboxRequestSerializer(views, many=True).data, "next_after": next_after})
