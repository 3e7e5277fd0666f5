"""Who is calling: a bearer token from a producer's API credential, or the dashboard's own session."""

from __future__ import annotations

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import AccessToken
from oauth2_provider.settings import oauth2_settings
from rest_framework.authentication import get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS, BasePermission

TOKEN_HINT = "get one from POST /security/oauth/token and send it as `Authorization: Bearer <token>`"


class BearerTokenAuthentication(OAuth2Authentication):
    """``Authorization: Bearer <token>`` with a client-credentials token: the caller is the credential's owner.

    A client-credentials token belongs to no user in OAuth2 terms; here it acts for the producer who created
    the credential. A request without a bearer header is left to the other authenticators (the session).
    """

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise AuthenticationFailed(f"Malformed Authorization header; {TOKEN_HINT}.", code="invalid_token")
        result = super().authenticate(request)
        if result is None:
            raise AuthenticationFailed(
                f"The access token is invalid, expired or revoked; {TOKEN_HINT}.", code="invalid_token"
            )
        user, token = result
        owner = user or (token.application.user if token.application_id else None)
        if owner is None or not owner.is_active:
            raise AuthenticationFailed("The credential of this token no longer belongs to an active producer.")
        return owner, token


class IsProducer(BasePermission):
    """A signed-in producer, or a bearer token whose scope allows the method: ``read`` to look, ``write`` to change."""

    message = "This token's scope does not allow this request: reading needs 'read', changing needs 'write'."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if isinstance(request.auth, AccessToken):
            scope = oauth2_settings.READ_SCOPE if request.method in SAFE_METHODS else oauth2_settings.WRITE_SCOPE
            return request.auth.allow_scopes([scope])
        return True
