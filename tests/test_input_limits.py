"""Every input has a size limit: each API request field (walked from the OpenAPI schema), each dashboard form
field, and the request body as a whole; an oversized request gets a clear error and changes nothing."""

from __future__ import annotations

import importlib
import inspect
import json

import pytest
from django import forms
from django.conf import settings
from django.test import Client

from configurations.models import Configuration
from tests.api.conftest import Api, bearer_token
from tests.factories import UserFactory

# Strings whose format bounds them already (a date parser refuses a megabyte).
BOUNDED_FORMATS = {"date-time", "date", "uuid", "decimal", "uri"}
FORM_MODULES = [
    "configurations.forms",
    "configurations.credentials_views",
    "sales.forms",
    "inbox.forms",
    "history.forms",
]


def _unbounded(schema: dict, components: dict, where: str) -> list[str]:
    """The places in ``schema`` where a client could send unbounded text or an unbounded list."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    found = []
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            found += _unbounded(sub, components, where)
    kind = schema.get("type")
    if kind == "string" and not ({"maxLength", "enum"} & set(schema) or schema.get("format") in BOUNDED_FORMATS):
        found.append(where)
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where} (number of items)")
        found += _unbounded(schema.get("items", {}), components, f"{where}[]")
    for name, field in schema.get("properties", {}).items():
        if not field.get("readOnly"):
            found += _unbounded(field, components, f"{where}.{name}")
    if isinstance(schema.get("additionalProperties"), dict):
        found.append(f"{where} (free-form keys)")
    return found


@pytest.mark.django_db
def test_every_api_input_has_a_size_limit():
    document = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = document["components"]["schemas"]
    unbounded = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":  # bounded by the request line; an unknown one answers 404
                    continue
                unbounded += _unbounded(parameter.get("schema", {}), components, f"{where} ?{parameter['name']}")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded(media["schema"], components, f"{where} body")
    assert sorted(set(unbounded)) == []


def test_every_dashboard_text_field_has_a_size_limit():
    unbounded = []
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for name, form in inspect.getmembers(module, inspect.isclass):
            if not (issubclass(form, forms.BaseForm) and form.__module__ == module_name):
                continue
            for field_name, field in form.base_fields.items():
                if isinstance(field, forms.CharField) and not field.max_length:
                    unbounded.append(f"{name}.{field_name}")
    assert unbounded == []


@pytest.mark.django_db
def test_an_oversized_api_body_is_refused_with_a_json_error_and_saves_nothing(producer):
    api = Api(producer, bearer_token(producer))
    body = {"name": "big", "events": ["PURCHASE_APPROVED"], "url": "https://example.com/hook"}
    body["padding"] = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = api.client.post("/api/v1/configurations", json.dumps(body), content_type="application/json")
    assert response.status_code == 413
    error = response.json()
    assert error["code"] == "request_too_large" and error["field"] is None
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KiB" in error["message"]
    assert not Configuration.objects.exists()


@pytest.mark.django_db
def test_a_body_within_the_limit_is_still_accepted(producer):
    api = Api(producer, bearer_token(producer))
    body = {"name": "fits", "events": ["PURCHASE_APPROVED"], "url": "https://example.com/hook"}
    body["padding"] = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2)  # unknown keys are ignored
    response = api.client.post("/api/v1/configurations", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert Configuration.objects.get().name == "fits"


@pytest.mark.django_db
def test_an_oversized_dashboard_form_is_refused_and_saves_nothing():
    user = UserFactory()
    client = Client()
    client.force_login(user)
    data = {
        "name": "big",
        "events": ["PURCHASE_APPROVED"],
        "scope": "all",
        "url": "https://example.com/hook",
        "padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
    }
    response = client.post("/configurations/new/", data)
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    assert not Configuration.objects.exists()


DEEP_BODIES = {
    "arrays": "[" * 1000 + "]" * 1000,  # 2 KB
    "objects": '{"a":' * 50_000 + "1" + "}" * 50_000,  # 300 KB, within the body limit
    "in a field": '{"name": "x", "events": ' + "[" * 40 + "]" * 40 + "}",
}


@pytest.mark.django_db
@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_a_deeply_nested_body_gets_a_400_on_every_write_operation(producer, body):
    document = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    api = Api(producer, bearer_token(producer))
    answers = {}
    for path, operations in document["paths"].items():
        if "{" in path:  # an unknown id answers 404 before any body is read; the collections take bodies
            continue
        for method in set(operations) & {"post", "put", "patch"}:
            send = getattr(api.client, method)
            response = send(path, body, content_type="application/json")
            answers[f"{method.upper()} {path}"] = response.status_code
            if response.status_code == 400 and path.startswith("/api/"):
                error = response.json()
                assert error["code"] == "parse_error" and "nests more than" in error["message"], error
            elif response.status_code == 400:  # the token endpoint answers in OAuth's shape
                assert response.json()["error"] == "invalid_request"
    assert answers, "the schema lists write operations"
    assert {where: status for where, status in answers.items() if status != 400} == {}
    assert not Configuration.objects.exists()
