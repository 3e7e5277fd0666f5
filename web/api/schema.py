"""The OpenAPI 3 contract, generated from the code by drf-spectacular (``/api/schema/``, ``/api/docs/``).

Added here what the views cannot say themselves: the error answers every operation can give (all in the one
error format), the bearer-token security scheme with its scopes, and the token endpoint, which is a plain
Django view served by django-oauth-toolkit.
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from oauth2_provider.settings import oauth2_settings
from rest_framework.permissions import SAFE_METHODS

from web.api.errors import ErrorSerializer
from web.api.oauth import TOKEN_PARAMETER_MAX_LENGTH

TOKEN_URL = "/security/oauth/token"

ERRORS = {
    "400": "Bad input: `field` names what to fix.",
    "401": "No valid bearer token (or session).",
    "403": "The token's scope does not allow this (reading needs `read`, changing needs `write`).",
    "404": "No such object among yours (another producer's id answers the same).",
    "409": "The request conflicts with the object's state.",
    "415": "The body is not JSON.",
}


class AutoSchema(openapi.AutoSchema):
    """Every operation documents the errors it can answer, in the one error format."""

    def _is_list_view(self, serializer=None) -> bool:
        if serializer is not None:
            return False  # our lists answer an object, {"items": [...]}: never wrap the body in an array
        return super()._is_list_view()  # still "list" in operation ids

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        codes = ["401", "403"]
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            codes.append("400")
        if any(p["in"] == "path" for p in parameters):
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")
        responses = operation["responses"]
        for code in codes:
            if code not in responses or not responses[code].get("content"):
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
            responses[code]["description"] = ERRORS[code]
        return operation


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "web.api.auth.BearerTokenAuthentication"
    name = "oauth2"

    def get_security_requirement(self, auto_schema):
        scope = oauth2_settings.READ_SCOPE if auto_schema.method in SAFE_METHODS else oauth2_settings.WRITE_SCOPE
        return {self.name: [scope]}

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": (
                "OAuth2 client credentials: create a credential on the Credentials page (/credentials/), then "
                f"`POST {TOKEN_URL}?grant_type=client_credentials&client_id=..&client_secret=..` with "
                "`Authorization: Basic <base64(client_id:client_secret)>`, and send the token as "
                "`Authorization: Bearer <access_token>`."
            ),
            "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": dict(oauth2_settings.SCOPES)}},
        }


def _oauth_error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}},
    }


def document_token_endpoint(result, generator, request, public):
    """Postprocessing hook: add ``POST /security/oauth/token`` and its answers to the schema."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemes = result["components"].setdefault("securitySchemes", {})
    schemes["basicAuth"] = {
        "type": "http",
        "scheme": "basic",
        "description": "The credential's Basic value: `Basic base64(client_id:client_secret)`.",
    }
    schemas["AccessToken"] = {
        "type": "object",
        "properties": {
            "access_token": {"type": "string"},
            "token_type": {"type": "string", "enum": ["bearer"]},
            "expires_in": {"type": "integer", "description": "Seconds the token stays valid."},
            "scope": {"type": "string", "example": "read write"},
        },
        "required": ["access_token", "token_type", "expires_in", "scope"],
    }
    schemas["OAuthError"] = {
        "type": "object",
        "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
        "required": ["error", "error_description"],
    }
    query = [
        {
            "name": "grant_type",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "enum": ["client_credentials"]},
        },
        {
            "name": "client_id",
            "in": "query",
            "schema": {"type": "string", "maxLength": TOKEN_PARAMETER_MAX_LENGTH},
            "description": "The credential's Client ID.",
        },
        {
            "name": "client_secret",
            "in": "query",
            "schema": {"type": "string", "maxLength": TOKEN_PARAMETER_MAX_LENGTH},
            "description": "Its Client Secret.",
        },
        {
            "name": "scope",
            "in": "query",
            "schema": {"type": "string", "default": "read write", "maxLength": TOKEN_PARAMETER_MAX_LENGTH},
            "description": "Space-separated; ask for `read` alone for a token that cannot change anything.",
        },
    ]
    result["paths"][TOKEN_URL] = {
        "post": {
            "operationId": "oauth_token",
            "summary": "Get an access token (OAuth2 client credentials, Hotmart's shape)",
            "tags": ["authentication"],
            "parameters": query,
            "security": [{"basicAuth": []}, {}],
            "responses": {
                "200": {
                    "description": "A bearer token for `Authorization: Bearer <access_token>`.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AccessToken"}}},
                },
                "400": _oauth_error("A malformed request, an unsupported grant type or scope."),
                "401": _oauth_error("Wrong or missing client credentials (`invalid_client`)."),
                "429": {
                    **_oauth_error(
                        "Too many failed token requests from this address (`slow_down`): wait `Retry-After` seconds."
                    ),
                    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
                },
            },
        }
    }
    return result
