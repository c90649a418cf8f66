"""``BodySizeLimit``: bodies under the cap reach the app; over it (declared or streamed) they get 413."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from medskills.triage.api.limits import BodySizeLimit

Message = dict[str, Any]


class _EchoApp:
    """An ASGI app that reads the whole body and answers its length (what a route does with an upload)."""

    def __init__(self) -> None:
        self.bodies_read: list[int] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        size, more = 0, True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        self.bodies_read.append(size)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})


def _request(limit: int, chunks: list[bytes], *, declared: int | None = None) -> tuple[_EchoApp, int, bytes]:
    app = _EchoApp()
    headers = [(b"content-length", str(declared).encode())] if declared is not None else []
    scope: Message = {"type": "http", "method": "POST", "path": "/predict", "headers": headers}
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(BodySizeLimit(app, max_bytes=limit)(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return app, status, body


def test_a_body_under_the_cap_reaches_the_app() -> None:
    app, status, body = _request(10, [b"abcd", b"efgh"], declared=8)
    assert status == 200 and body == b"8" and app.bodies_read == [8]


def test_a_declared_length_over_the_cap_is_refused_before_the_app_runs() -> None:
    app, status, body = _request(10, [b"x" * 11], declared=11)
    assert status == 413 and app.bodies_read == []
    answer = json.loads(body)
    assert answer["error_code"] == "upload_too_large" and "MEDSKILLS_MAX_UPLOAD_BYTES" in answer["error"]


def test_a_streamed_body_over_the_cap_is_cut_off_with_413() -> None:
    app, status, body = _request(10, [b"x" * 6, b"x" * 6, b"x" * 6])
    assert status == 413 and app.bodies_read == []  # the app never got the whole body
    assert json.loads(body)["error_code"] == "upload_too_large"
