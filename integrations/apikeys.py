"""`Authorization: Api-Key <key>` for integrators (keys made by `manage.py create_api_key`).

A key authenticates as its service account (ApiKey.user), so the request is scoped and audited
exactly like a person of that role and scope, under the key's name. An unknown, revoked or
expired key answers 401. Each key is throttled on its own (BANKWATCH_API_KEY_RATE).
"""

from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_api_key.permissions import KeyParser

from accounts.models import User
from integrations.models import ApiKey

KEYWORD = "Api-Key"
LAST_USED_EVERY = timedelta(minutes=1)


def key_in(request: Request) -> str | None:
    return KeyParser().get_from_authorization(cast(HttpRequest, request))  # it reads request.META only


def usable_key(key: str) -> ApiKey | None:
    """The key's row when it exists, is not revoked and has not expired."""
    try:
        api_key = cast(ApiKey, ApiKey.objects.get_from_key(key))
    except ApiKey.DoesNotExist:
        return None
    if api_key.has_expired or not api_key.user.is_active:
        return None
    return api_key


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        key = key_in(request)
        if key is None:
            return None
        api_key = usable_key(key)
        if api_key is None:
            raise AuthenticationFailed("unknown, revoked or expired API key")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_EVERY:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str | None:
        # 401 with a challenge only to a request that tried a key: sign-in sessions keep their 403.
        return f'{KEYWORD} realm="bankwatch"' if key_in(request) is not None else None


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.apikeys.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Api-Key <key> (manage.py create_api_key); scoped like a user of the key's role",
        }


class ApiKeyThrottle(SimpleRateThrottle):
    """Requests per key (BANKWATCH_API_KEY_RATE, e.g. 600/minute); sessions and cameras are not counted here."""

    scope = "api_key"

    def get_rate(self) -> str:
        return str(settings.API_KEY_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
