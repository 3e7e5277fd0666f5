"""API resource: receiver checks (start one, read its report), always the caller's own. Thin views over
``receiver_checks.services`` and ``receiver_checks.selectors``; another producer's check answers 404."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from configurations import selectors as configuration_selectors
from receiver_checks import selectors, services
from receiver_checks.models import ReceiverCheck
from receiver_checks.serializers import (
    IDEMPOTENCY_HELP,
    ReceiverCheckCreateSerializer,
    ReceiverCheckListSerializer,
    ReceiverCheckQuerySerializer,
    ReceiverCheckSerializer,
    ReceiverCheckSummarySerializer,
)
from web.api.errors import service_errors, validated
from web.api.views import OwnedObjectViewSet

IDEMPOTENCY_HEADER = "Idempotency-Key"


@extend_schema(tags=["receiver checks"])
class ReceiverCheckViewSet(OwnedObjectViewSet):
    """Receiver checks: grade a receiver (a configuration's URL, or a bare URL) against Hotmart's contract."""

    queryset = ReceiverCheck.objects.none()
    object_name = "receiver check"
    http_method_names = ["get", "post", "options"]

    def fetch(self, *, owner_id: int, object_id: int) -> ReceiverCheck | None:
        return selectors.receiver_check_get(owner_id=owner_id, check_id=object_id)

    @extend_schema(
        parameters=[ReceiverCheckQuerySerializer],
        responses=ReceiverCheckListSerializer,
        summary="List your receiver checks",
    )
    def list(self, request: Request) -> Response:
        """Newest first, without their reports (read one for its checks)."""
        query = validated(ReceiverCheckQuerySerializer, request.query_params.dict())
        runs = selectors.receiver_check_list(
            owner_id=request.user.pk, configuration_id=query.get("configuration"), limit=query["max_results"]
        )
        return Response({"items": ReceiverCheckSummarySerializer(runs, many=True).data})

    @extend_schema(
        request=ReceiverCheckCreateSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                {"type": "string", "maxLength": services.MAX_KEY_LENGTH},
                OpenApiParameter.HEADER,
                description=IDEMPOTENCY_HELP,
            )
        ],
        responses={202: ReceiverCheckSerializer, 200: ReceiverCheckSerializer},
        summary="Start a receiver check",
    )
    def create(self, request: Request) -> Response:
        """Start a check of one of your configurations (`configuration`) or of a bare URL (`url`); it runs in the
        background on the workers (a few seconds, about a minute at most against a slow receiver). Answers `202`
        with the check, queued; `GET /api/v1/receiver-checks/{id}` reads its report as it fills in. Asking again
        with the same `Idempotency-Key`, or while a check of the same receiver is queued or running, answers
        that check with `200`: it never runs twice."""
        data = validated(ReceiverCheckCreateSerializer, request.data)
        configuration = None
        if data["configuration"] is not None:
            configuration = configuration_selectors.configuration_get(
                owner_id=request.user.pk, configuration_id=data["configuration"]
            )
            if configuration is None:
                raise ValidationError({"configuration": [f"You have no configuration {data['configuration']}."]})
        with service_errors(idempotency_key=IDEMPOTENCY_HEADER):
            run, created = services.receiver_check_start(
                owner=request.user,
                configuration=configuration,
                url=data["url"],
                payload_version=data["payload_version"],
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER, ""),
            )
        run = self.fetch(owner_id=request.user.pk, object_id=run.pk)
        return Response(
            ReceiverCheckSerializer(run).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
            headers={"Location": f"/api/v1/receiver-checks/{run.pk}"},
        )

    @extend_schema(responses=ReceiverCheckSerializer, summary="Read a receiver check and its report")
    def retrieve(self, request: Request, pk: str) -> Response:
        """The check's status and, check by check: its grade (`pending` until answered), what was sent, what came
        back (each POST's notification in History), why it matters and how to fix it."""
        return Response(ReceiverCheckSerializer(self.get_object()).data)
