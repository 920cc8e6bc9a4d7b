import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from accounts.twofactor import requires_second_factor, session_device


class UserLanguageMiddleware:
    """Activate the language a signed-in user chose, over the browser's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "language", ""):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class SessionLimitsMiddleware:
    """End a session SESSION_IDLE_SECONDS after its last request, or SESSION_COOKIE_AGE after sign-in,
    whichever comes first. Activity is written at most once a minute to spare the session store."""

    STARTED, SEEN = "bw_session_started", "bw_session_seen"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            started = request.session.get(self.STARTED)
            seen = request.session.get(self.SEEN, now)
            if started is None:
                request.session[self.STARTED] = request.session[self.SEEN] = now
            elif now - seen > settings.SESSION_IDLE_SECONDS or now - started > settings.SESSION_COOKIE_AGE:
                logout(request)
            elif now - seen >= 60:
                request.session[self.SEEN] = now
        return self.get_response(request)


class TwoFactorMiddleware:
    """The one place the second factor is required over HTTP: a user who needs one
    (accounts.twofactor.requires_second_factor) and has not given it this session reaches only
    the two-factor page, sign-out and static files. Pages redirect there; the API answers 403."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if requires_second_factor(user) and not user.is_verified() and not self._exempt(request.path):  # type: ignore[union-attr]
            if request.path.startswith("/api/"):
                return JsonResponse({"error": "two-factor verification required"}, status=403)
            return redirect(f"{reverse('two-factor')}?next={quote(request.get_full_path())}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        allowed = (reverse("two-factor"), reverse("logout"), reverse("login"), settings.STATIC_URL, "/i18n/")
        return path.startswith(allowed) or path == "/healthz"


class TwoFactorASGIMiddleware:
    """Sockets: a user who needs a second factor and has not given it is treated as anonymous.
    Goes inside channels' AuthMiddlewareStack, which has loaded scope["user"] and scope["session"]."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        user = scope.get("user")
        if user is not None and requires_second_factor(user):
            device = await database_sync_to_async(session_device)(scope.get("session"), user)
            if device is None:
                scope = {**scope, "user": AnonymousUser()}
        return await self.inner(scope, receive, send)
