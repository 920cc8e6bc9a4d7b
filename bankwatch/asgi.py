import os

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankwatch.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from accounts.middleware import TwoFactorASGIMiddleware  # noqa: E402
from bankwatch.bodylimit import BodyLimitMiddleware, guard_daphne  # noqa: E402
from bankwatch.events import remember_server_loop  # noqa: E402
from bankwatch.jobs import load_models_in_background  # noqa: E402
from bankwatch.origin import ExactOriginValidator  # noqa: E402
from bankwatch.routing import websocket_urlpatterns  # noqa: E402
from cameras.supervisor import start_embedded_supervisor  # noqa: E402
from retention.scheduler import start_embedded_beat  # noqa: E402

guard_daphne()
router = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(django_asgi_app),
        "websocket": ExactOriginValidator(
            AllowedHostsOriginValidator(AuthMiddlewareStack(TwoFactorASGIMiddleware(URLRouter(websocket_urlpatterns))))
        ),
    }
)


async def application(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    remember_server_loop()
    start_embedded_beat()
    start_embedded_supervisor()
    load_models_in_background()
    await router(scope, receive, send)
