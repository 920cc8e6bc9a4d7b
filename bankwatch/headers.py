"""Response headers every page and API answer gets (one middleware, after the view):

- Content-Security-Policy: scripts only from our own origin (no inline script, no eval), no
  framing, no plugins, forms to our own origin only, and connections (fetch, WebSocket) only to
  our own origin and its socket (`ws://` or `wss://` of the same host and port: older browsers
  do not count a socket as 'self'), so an injected script could not send data elsewhere. Styles
  and images are left to the same-origin pages themselves (the admin's style attributes).
- Cache-Control: private, no-store on every response to a signed-in user and on every API
  response: alerts, watchlists, subjects and face images must not stay in a browser's or a
  proxy's cache. It overrides what a view set (the admin's photo view said max-age=60).
"""

from collections.abc import Callable

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def policy(request: HttpRequest) -> str:
    """POLICY plus connect-src for this request's own origin and the socket at the same host."""
    try:
        host = request.get_host()
    except DisallowedHost:  # answered 400 already; the policy then names no socket
        return f"{POLICY}; connect-src 'self'"
    socket = ("wss://" if request.is_secure() else "ws://") + host
    return f"{POLICY}; connect-src 'self' {socket}"


NO_STORE = "private, no-store"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", policy(request))
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/api/"):
            response["Cache-Control"] = NO_STORE
            response.headers.pop("Expires", None)
        return response
