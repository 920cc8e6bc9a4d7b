"""The live alert feed over WebSockets, with replay so that a dropped connection loses nothing.

1. An anonymous socket is closed; a role without a feed is refused (the origin was
   checked by AllowedHostsOriginValidator before we get here).
2. The user joins the channel-layer groups of their scope *before* anything is replayed,
   so an event emitted during the replay is queued, not lost.
3. A client that saw events before sends the last event id it saw (`?last_event_id=N`
   on the URL, or `{"type": "resume", "last_event_id": N}`); it gets every event of its
   scope after N from the AlertEvent log, oldest first.
4. Live events follow. Each event id is sent at most once per socket, so an event that
   arrives both by replay and live reaches the client once.
5. A socket lives no longer than its session (BANKWATCH_SESSION_SECONDS after sign-in): past
   that it is closed at the next event, and the page sends its user to sign in again. An open
   dashboard counts as activity, so the idle limit does not apply to the socket.
6. At every event and every resume the session must still exist and belong to the user, and
   the user must still be active: after sign-out, deactivation or a deleted session the socket
   is closed (4401) and gets nothing more.
7. Resumes are rate-limited (BANKWATCH_FEED_RESUMES_PER_MINUTE per socket; beyond,
   `{"type": "resume.refused", "retry_after": s}`), and replays run one at a time: the consumer
   handles one message after the other, so a resume waits for the replay before it.
8. Camera health is a state, not a log: before `replay.done` a replay sends one
   `camera.updated` for each camera of the user's scope that is in a tamper state now or
   changed state since the last event the client saw, so a tamper alert raised (or cleared)
   while the socket was down is on the dashboard after the reconnect.
"""

import time
from collections import deque
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db.models import Q

from accounts.middleware import SessionLimitsMiddleware
from accounts.models import User
from accounts.scope import feed_groups
from alerts.access import events_visible_to
from alerts.models import AlertEvent
from cameras.access import cameras_visible_to
from cameras.health import serialize_cameras
from cameras.models import Camera

REPLAY_PAGE = 500  # events per query while replaying
SENT_IDS_KEPT = 10_000


def _last_event_id(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


class AlertFeedConsumer(AsyncJsonWebsocketConsumer):
    """Live alert feed: a user joins only the groups of their own scope."""

    groups_joined: list[str]

    async def connect(self) -> None:
        self.sent_ids: set[int] = set()
        self.resumes: deque[float] = deque()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.session_ends_at = await self.session_end()
        if time.time() >= self.session_ends_at:
            await self.close(code=4401)
            return
        self.groups_joined = await database_sync_to_async(feed_groups)(user)
        if not self.groups_joined:
            await self.close(code=4403)
            return
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        last_seen = _last_event_id(query.get("last_event_id", [None])[0])
        if last_seen is not None:
            await self.replay(last_seen)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "resume":
            last_seen = _last_event_id(content.get("last_event_id"))
            if last_seen is None:
                return
            now = time.monotonic()
            while self.resumes and self.resumes[0] <= now - 60:
                self.resumes.popleft()
            if len(self.resumes) >= settings.FEED_RESUMES_PER_MINUTE:
                retry_after = max(1, int(self.resumes[0] + 60 - now) + 1)
                await self.send_json({"type": "resume.refused", "retry_after": retry_after})
                return
            self.resumes.append(now)
            await self.replay(last_seen)

    async def replay(self, after_id: int) -> None:
        cursor = after_id
        while True:  # in pages, so a client far behind is not one huge query
            if not await self.still_signed_in():
                await self.close(code=4401)
                return
            events = await self.missed_events(cursor)
            for event in events:
                await self.send_event({"type": event["kind"], "event_id": event["id"], "alert": event["payload"]})
            if len(events) < REPLAY_PAGE:
                break
            cursor = events[-1]["id"]
        for camera in await self.camera_states(after_id):
            await self.send_json({"type": "camera.updated", "camera": camera})
        await self.send_json({"type": "replay.done", "after": after_id})

    @database_sync_to_async
    def camera_states(self, after_id: int) -> list[dict[str, Any]]:
        """The cameras a reconnecting client must hear of: tampered now, or changed since its last event."""
        seen = AlertEvent.objects.filter(pk=after_id).values_list("created_at", flat=True).first()
        changed = Q(health__in=Camera.TAMPER_STATES, health_since__isnull=False)  # as serialize_camera's "tampered"
        if seen is not None:
            changed |= Q(health_since__gte=seen)
        return serialize_cameras(cameras_visible_to(self.scope["user"]).filter(changed))

    @database_sync_to_async
    def missed_events(self, after_id: int) -> list[dict[str, Any]]:
        events = events_visible_to(self.scope["user"]).filter(id__gt=after_id).order_by("id")
        return [dict(row) for row in events.values("id", "kind", "payload")[:REPLAY_PAGE]]

    @database_sync_to_async
    def session_end(self) -> float:
        session = self.scope.get("session")
        started = session.get(SessionLimitsMiddleware.STARTED) if session is not None else None
        return float(started or time.time()) + settings.SESSION_COOKIE_AGE

    @database_sync_to_async
    def still_signed_in(self) -> bool:
        """The session still exists in the store, still names this user, and the user is active."""
        user, session = self.scope.get("user"), self.scope.get("session")
        key = getattr(session, "session_key", None)
        if user is None or not key or time.time() >= self.session_ends_at:
            return False
        stored = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key).load()
        if stored.get("_auth_user_id") != str(user.pk):
            return False
        return User.objects.filter(pk=user.pk, is_active=True).exists()

    async def send_event(self, event: dict[str, Any]) -> None:
        if not await self.still_signed_in():
            await self.close(code=4401)
            return
        message = {"type": event["type"], "alert": event["alert"]}
        event_id = event.get("event_id")
        if event_id is not None:
            if event_id in self.sent_ids:
                return
            self.sent_ids.add(event_id)
            if len(self.sent_ids) > SENT_IDS_KEPT:  # a socket stays open all day: forget the oldest half
                self.sent_ids = set(sorted(self.sent_ids)[SENT_IDS_KEPT // 2 :])
            message["event_id"] = event_id
        await self.send_json(message)

    async def alert_created(self, event: dict[str, Any]) -> None:
        await self.send_event(event)

    async def alert_updated(self, event: dict[str, Any]) -> None:
        await self.send_event(event)

    async def alert_unacknowledged(self, event: dict[str, Any]) -> None:
        """Still new past its watchlist's acknowledgement deadline: the dashboard announces it again."""
        await self.send_event(event)

    async def camera_updated(self, event: dict[str, Any]) -> None:
        """A camera of the user's branches changed health (cameras/health.py); not logged for replay:
        a replay sends the cameras' current state instead (point 8 above)."""
        if not await self.still_signed_in():
            await self.close(code=4401)
            return
        await self.send_json({"type": "camera.updated", "camera": event["camera"]})
