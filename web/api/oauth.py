"""``POST /security/oauth/token`` in the shape of Hotmart's, served by django-oauth-toolkit.

Hotmart's clients call ``POST /security/oauth/token?grant_type=client_credentials&client_id=..&client_secret=..``
with ``Authorization: Basic base64(client_id:client_secret)`` and read ``{"access_token", "token_type":
"bearer", "expires_in", "scope"}``. django-oauth-toolkit (oauthlib) does the OAuth2 work: client
authentication, hashed secrets, token issue and expiry. Two adaptations here: the query string parameters
are handed to oauthlib as body parameters (it refuses a query string on a token request), and the answer's
``token_type`` is spelled in lower case, as Hotmart's is. Errors stay OAuth2's: ``{"error",
"error_description"}``, 401 for wrong credentials.
"""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.views import TokenView
from oauthlib.common import urlencode

from core.proxies import client_address
from web.api.errors import too_large_message

ERROR_DESCRIPTIONS = {
    "invalid_client": (
        "Client authentication failed: check the Client ID and Client Secret (or the Basic value) "
        "on the Credentials page, or create a new credential there."
    ),
    "unsupported_grant_type": "Only grant_type=client_credentials is supported.",
    "unauthorized_client": "This credential may only use grant_type=client_credentials.",
}


class QueryStringOAuthLibCore(OAuthLibCore):
    """Token request parameters from the query string too, as Hotmart's clients send them; the body wins."""

    def _extract_params(self, request: HttpRequest):
        uri, http_method, body, headers = super()._extract_params(request)
        if request.GET:
            params = dict(request.GET.items())
            params.update(dict(self.extract_body(request)))
            body = urlencode(list(params.items()))
            uri = urlunsplit(urlsplit(uri)._replace(query=""))
        return uri, http_method, body, headers


# client_id and client_secret are at most 255 characters where they are kept; longer is never right.
TOKEN_PARAMETER_MAX_LENGTH = 255


@method_decorator(csrf_exempt, name="dispatch")
class HotmartTokenView(TokenView):
    """Issue an access token for an API credential (OAuth2 client credentials grant)."""

    oauthlib_backend_class = QueryStringOAuthLibCore
    http_method_names = ["post", "options"]

    @method_decorator(sensitive_post_parameters("client_secret"))
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            request.POST  # noqa: B018 - parsed here, so that an oversized body is answered in OAuth's shape
        except RequestDataTooBig:
            return oauth_error(413, "invalid_request", too_large_message())
        grant_type = request.POST.get("grant_type") or request.GET.get("grant_type")
        if not grant_type:
            return oauth_error(400, "invalid_request", "Missing grant_type=client_credentials.")
        if grant_type != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", ERROR_DESCRIPTIONS["unsupported_grant_type"])
        for name in ("client_id", "client_secret", "scope"):
            value = request.POST.get(name) or request.GET.get(name) or ""
            if len(value) > TOKEN_PARAMETER_MAX_LENGTH:
                return oauth_error(
                    400, "invalid_request", f"{name} is longer than {TOKEN_PARAMETER_MAX_LENGTH} characters."
                )
        throttle = _FailureThrottle(request)
        if throttle.locked():
            response = oauth_error(
                429,
                "slow_down",
                f"Too many failed token requests for this Client ID from this address: "
                f"wait {throttle.window // 60} minutes.",
            )
            response["Retry-After"] = str(throttle.window)
            return response
        response = _hotmart_shape(super().post(request, *args, **kwargs))
        if response.status_code == 401:
            throttle.fail()
        return response

    def http_method_not_allowed(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = oauth_error(405, "invalid_request", f"{request.method} is not allowed: POST the token request.")
        response["Allow"] = "POST, OPTIONS"
        return response


class _FailureThrottle:
    """Failed token requests per Client ID and client address (the real one behind ``TRUSTED_PROXIES``),
    counted in the shared cache (Redis): past the limit that pair gets 429 for the rest of the window, so a
    Client Secret cannot be guessed by brute force. Only the pair that failed is slowed down: a credential used
    from elsewhere, and every other credential, still get their tokens, whoever else is failing."""

    def __init__(self, request: HttpRequest):
        pair = f"{_presented_client_id(request)}\n{client_address(request)}"
        self.key = f"oauth-token-failures:{hashlib.sha256(pair.encode('utf-8', 'replace')).hexdigest()}"
        self.limit = settings.API_TOKEN_FAILURE_LIMIT
        self.window = settings.API_TOKEN_FAILURE_WINDOW

    def locked(self) -> bool:
        try:
            return (cache.get(self.key) or 0) >= self.limit
        except Exception:  # noqa: BLE001 - the cache down must not stop the token endpoint
            return False

    def fail(self) -> None:
        try:
            cache.add(self.key, 0, timeout=self.window)
            cache.incr(self.key)
        except Exception:  # noqa: BLE001, S110
            pass


def _presented_client_id(request: HttpRequest) -> str:
    """The Client ID a token request names: its Basic value's, or else its ``client_id`` parameter."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            return ""
    return request.POST.get("client_id") or request.GET.get("client_id") or ""


def oauth_error(status: int, error: str, description: str) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


def _hotmart_shape(response: HttpResponse) -> HttpResponse:
    try:
        data = json.loads(response.content or b"{}")
    except ValueError:
        data = {}
    if response.status_code == 200:
        data["token_type"] = "bearer"
    else:
        error = data.get("error") or "invalid_request"
        data = {
            "error": error,
            "error_description": ERROR_DESCRIPTIONS.get(error) or data.get("error_description") or "Bad token request.",
        }
    shaped = JsonResponse(data, status=response.status_code)
    for header in ("Cache-Control", "Pragma", "WWW-Authenticate"):
        if response.has_header(header):
            shaped[header] = response[header]
    shaped.setdefault("Cache-Control", "no-store")
    return shaped
