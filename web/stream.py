"""Server-Sent Events for the pages' live parts: the rendered HTML, sent when it changed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from starlette.requests import Request
from starlette.responses import StreamingResponse

KEEPALIVE_S = 15.0  # an SSE comment this often: proxies and phones drop silent streams
STREAM_MAX_S = 300.0  # then the browser reconnects, and the session is checked again
# What a page stream sends: (HTML, whether it is the last), or None for nothing now.
Frame = tuple[str, bool] | None


class Changes(Protocol):
    """What a stream waits on: the office's live state (web.live), or the centre's notices."""

    async def changed(self, seen: int, timeout: float) -> int: ...


def sse(
    request: Request, live: Changes, event: str, render: Callable[[], Awaitable[Frame]]
) -> StreamingResponse:
    """A Server-Sent Events stream: `event` with the rendered HTML at start and on each change.

    A frame the same as the last one sent is not sent again (most changes of the
    office change nothing on a given page); the stream ends after a last frame.
    """

    async def stream() -> AsyncIterator[str]:
        seen, sent = -1, ""
        started = time.monotonic()
        while time.monotonic() - started < STREAM_MAX_S:
            version = await live.changed(seen, KEEPALIVE_S)
            if await request.is_disconnected():
                return
            if version == seen:
                yield ": alive\n\n"
                continue
            seen = version
            frame = await render()
            if frame is None or frame[0] == sent:
                continue
            sent, last = frame
            lines = sent.splitlines() or [""]
            yield f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"
            if last:
                return

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
