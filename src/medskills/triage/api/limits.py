"""An ASGI middleware that caps request bodies while they stream in (413 past the cap).

Starlette spools multipart uploads to disk as they arrive; this wrapper counts the bytes first,
so an oversized upload is cut off without being stored whole. A ``Content-Length`` above the cap
is refused before any byte is read. It also stamps the request's start time
(``request.state.started``) for ``time_of_processing`` in failure bodies.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from medskills.dicom.errors import DicomErrorCode

__all__ = ["BodySizeLimit"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Wrap ``app`` so no HTTP request body may exceed ``max_bytes``."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["started"] = time.perf_counter()
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        exceeded = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # the framework may turn the interrupted body into its own 400: answer 413 instead
            nonlocal replaced
            if not exceeded:
                await send(message)
            elif not replaced:
                replaced = True
                await self._refuse(scope, receive, send)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not replaced:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        from medskills.triage.api.status import failure_response

        response = failure_response(DicomErrorCode.UPLOAD_TOO_LARGE, f"the upload is larger than the "
                                    f"{self.max_bytes} byte limit (MEDSKILLS_MAX_UPLOAD_BYTES).")
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
