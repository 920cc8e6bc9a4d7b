"""The entrance display's socket: frames, face boxes and "covered" for one camera, to one paired display.

1. The socket is accepted only with the cookie of a device paired to this camera as a display
   (cameras.devices.device_from_scope); a signed-in user, a capture device, a display of another
   camera or a revoked one is closed at once.
2. It joins only its camera's display group and forwards display messages as they are
   (entrance.display builds them, with no identity in them). It reads nothing from the client.
3. The device is checked again every RECHECK_SECONDS, so revoking it closes its socket.
"""

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cameras.devices import device_from_scope
from cameras.models import DeviceKind
from entrance.display import display_group

RECHECK_SECONDS = 10.0


class EntranceDisplayConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        self.camera_id = int(self.scope["url_route"]["kwargs"]["camera_id"])
        if not await self.device_is_paired():
            await self.close(code=4403)
            return
        self.checked_at = time.monotonic()
        self.group = display_group(self.camera_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        return  # a display only listens

    @database_sync_to_async
    def device_is_paired(self) -> bool:
        return device_from_scope(self.scope, self.camera_id, DeviceKind.DISPLAY) is not None

    async def display_frame(self, event: dict[str, Any]) -> None:
        if time.monotonic() - self.checked_at > RECHECK_SECONDS:
            if not await self.device_is_paired():
                await self.close(code=4403)
                return
            self.checked_at = time.monotonic()
        await self.send_json(event["message"])
