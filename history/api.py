"""API resources: record events, read notifications with their attempts, resend one or many.

Thin views over ``history.publishing`` (which write) and ``history.selectors`` (which read), scoped to the
caller: another producer's id answers 404, like an id that does not exist.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from configurations import selectors as configuration_selectors
from configurations.api import product_or_400, product_rule
from history import selectors
from history.models import BulkResend, Event, Notification
from history.publishing import bulk_resend_start, event_record, notification_resend
from history.serializers import (
    BulkResendCreateSerializer,
    BulkResendListSerializer,
    BulkResendSerializer,
    EventCreateSerializer,
    EventRecordedSerializer,
    EventSerializer,
    NotificationDetailSerializer,
    NotificationPageSerializer,
    NotificationQuerySerializer,
    NotificationSummarySerializer,
    RevealSerializer,
)
from web.api.errors import Conflict, ErrorSerializer, service_errors, validated
from web.api.views import OwnedObjectViewSet, page_body


@extend_schema(tags=["events"])
class EventViewSet(viewsets.GenericViewSet):
    queryset = Event.objects.none()

    @extend_schema(request=EventCreateSerializer, responses={201: EventRecordedSerializer}, summary="Record an event")
    def create(self, request: Request) -> Response:
        """Simulate that an event happened to a sale of one of your products; every active configuration that
        wants it gets a notification, sent at once by the workers."""
        data = validated(EventCreateSerializer, request.data, rules=product_rule(request.user.pk))
        product = product_or_400(request.user.pk, data["product"])
        with service_errors():
            recorded = event_record(
                owner=request.user, event_type=data["event_type"], product=product, buyer_email=data["buyer_email"]
            )
        body = {
            "event": EventSerializer(recorded.event).data,
            "notifications": NotificationSummarySerializer(recorded.notifications, many=True).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["notifications"])
class NotificationViewSet(OwnedObjectViewSet):
    """Notifications: one event sent to one configuration, with every attempt to deliver it."""

    queryset = Notification.objects.none()
    object_name = "notification"

    def fetch(self, *, owner_id: int, object_id: int) -> Notification | None:
        return selectors.notification_get(notification_id=object_id, owner_id=owner_id)

    @extend_schema(
        parameters=[NotificationQuerySerializer], responses=NotificationPageSerializer, summary="Search notifications"
    )
    def list(self, request: Request) -> Response:
        """Your notifications, newest first, filtered like the History page; follow `page_info.next_page_token`."""
        query = validated(NotificationQuerySerializer, request.query_params.dict())
        if query.get("since") and query.get("until") and query["since"] > query["until"]:
            raise ValidationError({"since": ["`since` is after `until`."]})
        filters = selectors.NotificationFilters(
            status=query.get("status"),
            event_type=query.get("event_type"),
            configuration_id=query.get("configuration"),
            since=query.get("since"),
            until=query.get("until"),
            query=query.get("q"),
            is_test=query["is_test"],
        )
        with service_errors(cursor="page_token"):
            page = selectors.notification_search(
                owner_id=request.user.pk, filters=filters, cursor=query.get("page_token"), limit=query["max_results"]
            )
        items = NotificationSummarySerializer(page.items, many=True).data
        return Response(page_body(items, next_cursor=page.next_cursor, max_results=query["max_results"]))

    @extend_schema(parameters=[RevealSerializer], responses=NotificationDetailSerializer, summary="Read a notification")
    def retrieve(self, request: Request, pk: str) -> Response:
        reveal = validated(RevealSerializer, request.query_params.dict())["reveal"]
        return Response(NotificationDetailSerializer(self.get_object(), context={"reveal": reveal}).data)

    @extend_schema(
        request=None, responses={202: NotificationSummarySerializer, 409: ErrorSerializer}, summary="Resend one"
    )
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str) -> Response:
        """One more, manual, attempt now, whatever the status; asking again while it waits changes nothing."""
        notification = self.get_object()
        try:
            notification = notification_resend(owner=request.user, notification_id=notification.pk)
        except DjangoValidationError as exc:
            [error] = exc.error_dict["notification"]  # configuration_removed, or scheduled (not due yet)
            raise Conflict(" ".join(exc.messages), code=error.code) from None
        return Response(NotificationSummarySerializer(notification).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["notifications"])
class BulkResendViewSet(OwnedObjectViewSet):
    """Background jobs resending a configuration's failed notifications of a time window."""

    queryset = BulkResend.objects.none()
    object_name = "bulk resend job"

    def fetch(self, *, owner_id: int, object_id: int) -> BulkResend | None:
        return selectors.bulk_resend_get(owner_id=owner_id, job_id=object_id)

    @extend_schema(responses=BulkResendListSerializer, summary="List your bulk resend jobs (newest 20)")
    def list(self, request: Request) -> Response:
        jobs = selectors.bulk_resend_list(owner_id=request.user.pk)
        return Response({"items": BulkResendSerializer(jobs, many=True).data})

    @extend_schema(
        request=BulkResendCreateSerializer, responses={202: BulkResendSerializer}, summary="Start a bulk resend job"
    )
    def create(self, request: Request) -> Response:
        """Start a job resending the configuration's notifications of `statuses` (default failed) created in the
        window; answers the job, whose progress `GET /api/v1/bulk-resends/{id}` reads."""
        data = validated(BulkResendCreateSerializer, request.data)
        configuration = configuration_selectors.configuration_get(
            owner_id=request.user.pk, configuration_id=data["configuration"]
        )
        if configuration is None:
            raise ValidationError({"configuration": [f"You have no configuration {data['configuration']}."]})
        with service_errors():
            job = bulk_resend_start(
                owner=request.user,
                configuration=configuration,
                window_start=data["window_start"],
                window_end=data.get("window_end") or timezone.now(),
                statuses=tuple(data["statuses"]),
            )
        return Response(BulkResendSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=BulkResendSerializer, summary="Read a bulk resend job's progress")
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(BulkResendSerializer(self.get_object()).data)
