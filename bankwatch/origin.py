"""WebSocket Origin, checked exactly: scheme, host and port.

channels' AllowedHostsOriginValidator compares the Origin's host name with ALLOWED_HOSTS and
ignores the port, so a page on another port of the same host (another service, a developer's
tool) could open the feed with the user's cookie. Here the Origin must equal the page's own
origin — http(s) for ws(s), the Host header, with default ports made explicit — or be one of
CSRF_TRUSTED_ORIGINS. Behind a TLS proxy, SECURE_PROXY_SSL_HEADER says the page was https.
"""

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return scheme, parts.hostname.lower(), port


def _parse(origin: str) -> tuple[str, str, int] | None:
    scheme, _, netloc = origin.partition("://")
    return _origin(scheme.lower(), netloc) if netloc else None


def _headers(scope: dict[str, Any]) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def page_origin(scope: dict[str, Any]) -> tuple[str, str, int] | None:
    headers = _headers(scope)
    secure = scope.get("scheme") in ("wss", "https")
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
        secure = secure or headers.get(name, b"").decode("latin-1").split(",")[0].strip() == proxy[1]
    scheme = "https" if secure else "http"
    host = headers.get(b"host", b"").decode("latin-1")
    if not host and scope.get("server"):
        server_host, server_port = scope["server"][0], scope["server"][1]
        host = f"{server_host}:{server_port}" if server_port else server_host
    return _origin(scheme, host) if host else None


def origin_allowed(scope: dict[str, Any]) -> bool:
    origin = _headers(scope).get(b"origin", b"").decode("latin-1")
    parsed = _parse(origin)
    if parsed is None:
        return False
    trusted = {_parse(o) for o in settings.CSRF_TRUSTED_ORIGINS}
    own = page_origin(scope)
    if own is None:  # no Host header (not a browser): only the default port of an allowed host
        return parsed[2] == DEFAULT_PORTS.get(parsed[0]) or parsed in trusted
    return parsed == own or parsed in trusted


class ExactOriginValidator:
    """Close the handshake unless origin_allowed(scope); wrap AllowedHostsOriginValidator with it."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
