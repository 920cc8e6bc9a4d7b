"""Request bodies are bounded before anything holds them.

A request whose declared (Content-Length) or counted (chunked) body exceeds `limit_for(path)`
gets 413 and its connection is closed, before the body is kept anywhere. Two layers:

1. `guard_daphne()`: daphne receives a whole body (Twisted spools it) and then puts all of it
   on the application's queue at once, so a 2 GiB POST sat in the server's memory before any
   ASGI code ran. The guard hooks daphne's request at the moment Twisted learns the length and
   at every chunk, answers 413 and drops the connection.
2. `BodyLimitMiddleware`: the same rule at the ASGI level for any other server (and for what
   daphne lets through): 413 on the declared length before reading, and on the counted bytes
   while reading, before Django buffers them.

The limits: the largest upload (BANKWATCH_MAX_UPLOAD_BYTES) plus multipart overhead for every
URL, BANKWATCH_MAX_IMPORT_BYTES for the admin's bulk import (a zip of photos). The reverse proxy
must apply the same limits (docs/security.md, Deployment).
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

IMPORT_PATH = "/admin/enrollment/importjob/"
BODY = b"Request body too large.\n"


def limit_for(path: str) -> int:
    if path.startswith(IMPORT_PATH):
        return int(settings.MAX_IMPORT_BYTES)
    return int(settings.MAX_REQUEST_BYTES)


class BodyTooLargeError(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLargeError:
            if not started:
                await _refuse(send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(BODY)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


_RAW_413 = (
    b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\nConnection: close\r\n\r\n" + BODY
)


def guard_daphne() -> None:
    """Hook daphne's Twisted request so an oversized body is refused as it arrives (idempotent)."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # another ASGI server: BodyLimitMiddleware alone
        return
    if getattr(WebRequest, "_bankwatch_guarded", False):
        return
    got_length = WebRequest.gotLength
    handle_chunk = WebRequest.handleContentChunk

    def refuse(request: Any) -> None:
        from io import BytesIO

        request._bankwatch_refused = True
        request.content = BytesIO()
        transport = request.channel.transport if request.channel else None
        if transport is not None:
            transport.write(_RAW_413)
            transport.loseConnection()

    def guarded_got_length(self: Any, length: int | None) -> None:
        path = getattr(self.channel, "_path", b"") or b""
        self._bankwatch_limit = limit_for(path.split(b"?", 1)[0].decode("latin-1"))
        self._bankwatch_received = 0
        self._bankwatch_refused = False
        if length is not None and length > self._bankwatch_limit:
            refuse(self)
            return
        got_length(self, length)

    def guarded_handle_chunk(self: Any, data: bytes) -> None:
        if getattr(self, "_bankwatch_refused", False):
            return
        self._bankwatch_received = getattr(self, "_bankwatch_received", 0) + len(data)
        if self._bankwatch_received > getattr(self, "_bankwatch_limit", settings.MAX_REQUEST_BYTES):
            refuse(self)
            return
        handle_chunk(self, data)

    def guarded_process(self: Any) -> Any:
        if getattr(self, "_bankwatch_refused", False):
            return None
        return process(self)

    process = WebRequest.process
    WebRequest.gotLength = guarded_got_length
    WebRequest.handleContentChunk = guarded_handle_chunk
    WebRequest.process = guarded_process
    WebRequest._bankwatch_guarded = True
