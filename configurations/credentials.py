"""API credentials as Hotmart shows them: Client ID, Client Secret and the Basic value built from both."""

from __future__ import annotations

import base64
import uuid

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from oauth2_provider.generators import BaseHashGenerator

MASK = "••••••••"


class UUIDGenerator(BaseHashGenerator):
    """Client IDs and Secrets shaped like Hotmart's: random UUIDs (122 random bits)."""

    def hash(self) -> str:
        return str(uuid.uuid4())


class ClientSecretHasher(PBKDF2PasswordHasher):
    """How client secrets are stored: salted PBKDF2 with fewer rounds than a password gets.

    A password needs a million rounds because people choose guessable ones; a client secret is a random UUID
    (122 bits) that no number of rounds makes easier or harder to guess. Fewer rounds keep each token request
    cheap (about 3 ms instead of 250 ms of CPU), so the token endpoint cannot be used to burn the server's CPU.
    """

    algorithm = "pbkdf2_sha256_client_secret"
    iterations = 10_000


def basic_value(client_id: str, client_secret: str) -> str:
    """The ``Authorization`` value of Hotmart's token request: ``Basic base64(client_id:client_secret)``."""
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")


def basic_masked(client_id: str) -> str:
    """The Basic value without its secret part: the start encodes only the Client ID, the rest is hidden."""
    known = base64.b64encode(f"{client_id}:".encode()).decode("ascii")
    return "Basic " + known[: (len(client_id) // 3) * 4] + MASK
