"""Publishing live events to the channel layer, from any thread or process.

With the in-memory layer (embedded mode) the layer lives on the server's event loop; a
job thread that sent through async_to_sync reached a waiting consumer only when its loop
woke for some other reason. So sends are scheduled onto the server's loop, which the
ASGI application records when it starts serving. With Redis any loop will do.
"""

import asyncio
import contextlib
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)
_server_loop: asyncio.AbstractEventLoop | None = None


def remember_server_loop() -> None:
    global _server_loop
    with contextlib.suppress(RuntimeError):
        _server_loop = asyncio.get_running_loop()


def publish(groups: list[str], event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group in groups:
            await layer.group_send(group, event)

    loop = _server_loop
    in_memory = layer.__class__.__name__ == "InMemoryChannelLayer"
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if in_memory and loop is not None and loop.is_running() and running is not loop:
        asyncio.run_coroutine_threadsafe(send_all(), loop).result(timeout=5)
    elif running is not None:
        running.create_task(send_all())
    else:
        async_to_sync(send_all)()
