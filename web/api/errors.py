"""The API's one error format, for every error of every endpoint:

``{"code": "invalid", "message": "Give the configuration a name.", "field": "name", "errors": [...]}``

``code`` is machine-readable, ``message`` says what to do, ``field`` names the offending input (``null`` when
the error is about the request as a whole) and ``errors`` lists every problem found, the first one repeated at
the top. Services raise Django's ``ValidationError`` keyed by field; it becomes a 400 here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import structlog
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.fields import SkipField
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler, set_rollback

from web.api.auth import TOKEN_HINT

log = structlog.get_logger(__name__)


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. `required`, `invalid`, `not_found`.")
    message = serializers.CharField(help_text="What is wrong and what to do about it.")
    field = serializers.CharField(
        allow_null=True, help_text="The offending input, e.g. `url` or `events.0`; null for the whole request."
    )


class ErrorSerializer(ErrorItemSerializer):
    errors = ErrorItemSerializer(many=True, help_text="Every problem found; the first one is also at the top.")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def too_large_message() -> str:
    return f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KiB; send less."


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self):
        super().__init__(too_large_message())


def error_body(items: list[dict]) -> dict:
    return {**items[0], "errors": items}


def _items(detail, field: str | None = None) -> Iterator[dict]:
    """Flatten DRF's nested error details into ``{code, message, field}`` items with dotted field paths."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in (api_settings.NON_FIELD_ERRORS_KEY, "__all__"):
                yield from _items(value, field)
            else:
                yield from _items(value, f"{field}.{key}" if field else str(key))
    elif isinstance(detail, list):
        for value in detail:
            yield from _items(value, field)
    else:
        yield {"code": getattr(detail, "code", None) or "invalid", "message": str(detail), "field": field}


def validation_error(exc: DjangoValidationError, rename: dict[str, str] | None = None) -> exceptions.ValidationError:
    """A service's ValidationError as DRF's, with fields named as the request names them."""
    rename = rename or {}
    if not hasattr(exc, "error_dict"):
        return exceptions.ValidationError([exceptions.ErrorDetail(m, code="invalid") for m in exc.messages])
    detail = {}
    for field, errors in exc.error_dict.items():
        name = rename.get(field, field)
        detail[name] = [
            exceptions.ErrorDetail(message, code=error.code or "invalid") for error in errors for message in error
        ]
    return exceptions.ValidationError(detail)


@contextmanager
def service_errors(**rename: str):
    """Run a service call; its ValidationError becomes a 400 whose fields are renamed, e.g. hotmart_id='id'."""
    try:
        yield
    except DjangoValidationError as exc:
        raise validation_error(exc, rename) from None


def _message(exc: exceptions.APIException, items: list[dict]) -> list[dict]:
    if isinstance(exc, exceptions.NotAuthenticated):
        return [{**items[0], "message": f"Authentication credentials were not provided; {TOKEN_HINT}."}]
    return items


def api_exception_handler(exc, context):
    """DRF's handler, then every answer reshaped into the one error format; unexpected errors become a JSON 500."""
    if isinstance(exc, DjangoValidationError):
        exc = validation_error(exc)
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    response = exception_handler(exc, context)
    if response is None:
        request = context.get("request")
        log.exception("api_unexpected_error", path=getattr(request, "path", None), error=type(exc).__name__)
        set_rollback()
        body = error_body([{"code": "server_error", "message": "Something went wrong on our side.", "field": None}])
        return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    # The response's data, not the exception's: DRF has turned Django's Http404 and PermissionDenied into its own.
    items = list(_items(response.data)) or [{"code": "error", "message": "Request failed.", "field": None}]
    if not isinstance(exc, exceptions.ValidationError):
        items = [{**item, "field": None} for item in _message(exc, items)]
    response.data = error_body(items)
    return response


@csrf_exempt  # nothing to protect, and a CSRF refusal would be an HTML page
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """A JSON 404 for any path under /api/ that names no endpoint (Django's would be an HTML page)."""
    body = error_body(
        [{"code": "not_found", "message": f"No endpoint at {request.path}; see /api/docs/.", "field": None}]
    )
    return JsonResponse(body, status=404)


def validated(
    serializer_class: type[serializers.Serializer], data, *, rules: Callable[[dict], object] | None = None, **kwargs
) -> dict:
    """The request's data checked by the serializer, or a 400 naming every offending field.

    ``rules`` is the service's own check of the values (it raises a ValidationError keyed by field). It runs
    even when the serializer refused some fields, with the values of the others, so that one 400 names every
    bad field at once, not only those of the first stage; what it says of a field already refused is dropped.
    """
    serializer = serializer_class(data=data, **kwargs)
    valid = serializer.is_valid()
    detail = {} if valid else dict(serializer.errors)
    values = serializer.validated_data if valid else _passing_values(serializer, detail)
    if rules is not None:
        try:
            rules(values)
        except (DjangoValidationError, exceptions.ValidationError) as exc:
            found = validation_error(exc).detail if isinstance(exc, DjangoValidationError) else exc.detail
            if not isinstance(found, dict):
                found = {api_settings.NON_FIELD_ERRORS_KEY: found}
            for field, problems in found.items():
                detail.setdefault(field, problems)
    if detail:
        raise exceptions.ValidationError(detail)
    return values


def _passing_values(serializer: serializers.Serializer, refused: dict) -> dict:
    """The validated values of the fields the serializer did not refuse (an invalid serializer keeps none)."""
    values = {}
    if not isinstance(serializer.initial_data, Mapping):  # a list or a string where an object belongs
        return values
    for name, field in serializer.fields.items():
        if name in refused or field.read_only:
            continue
        try:
            values[field.source] = field.run_validation(field.get_value(serializer.initial_data))
        except (SkipField, exceptions.ValidationError, DjangoValidationError):
            continue
    return values


def not_found(kind: str, identifier) -> exceptions.NotFound:
    return exceptions.NotFound(f"No {kind} {identifier}.")
