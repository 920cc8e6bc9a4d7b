from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.scope import feed_groups


class AlertFeedConsumer(AsyncJsonWebsocketConsumer):
    """Live alert feed: a user joins only the groups of their own scope."""

    groups_joined: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = await database_sync_to_async(feed_groups)(user)
        if not self.groups_joined:
            await self.close(code=4403)
            return
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def alert_created(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "alert.created", "alert": event["alert"]})

    async def alert_updated(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "alert.updated", "alert": event["alert"]})
