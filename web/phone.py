"""The resident's phone page (issue 15): one ticket's public view, by the token in its QR.

No login: the token (antrean.tokens) is the key. The web knows no tokens; it
asks the queue service (`tickets_by_token`), and batches the pages that ask
at one moment (a call wakes every open page at once) into one command, so
200 open phones cost one round trip, not 200, and stay far below the web
device's rate limit.

A wrong token gets the same small 404 as any other wrong token. An address
that keeps missing (someone trying tokens) is answered 404 without asking
the queue service at all, so guessing cannot use up the web's commands.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from starlette.concurrency import run_in_threadpool

from web.live import OfficeLive

BATCH = 500  # the queue service's limit per tickets_by_token
# An address's unknown tokens within MISS_WINDOW_S before it is answered
# without asking: a resident mistypes a few, a script tries thousands.
MISS_LIMIT = 20
MISS_WINDOW_S = 600.0
MISS_ADDRESSES = 10_000  # addresses remembered at most (memory stays bounded)
FINAL = frozenset({"served", "cancelled", "expired"})  # the page changes no more


class PhoneTickets:
    """Public ticket views by token, asked of the queue service in batches."""

    def __init__(self, live: OfficeLive) -> None:
        self.live = live
        self._pending: dict[str, list[asyncio.Future[dict[str, Any] | None]]] = {}
        self._draining = False
        self.requests = 0  # commands sent (the bench reads it)

    async def get(self, token: str) -> dict[str, Any] | None:
        """The ticket of `token`, or None; raises NotConnected or NoAnswer."""
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(token, []).append(future)
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        """Sends what is pending, and again what came meanwhile, until nothing is."""
        try:
            while self._pending:
                await asyncio.sleep(0)  # let the other woken pages add their tokens first
                batch = dict(list(self._pending.items())[:BATCH])
                for token in batch:
                    del self._pending[token]
                try:
                    found = await run_in_threadpool(self._ask, list(batch))
                except Exception as exc:  # every waiting page gets it
                    for futures in batch.values():
                        for f in futures:
                            if not f.done():
                                f.set_exception(exc)
                    continue
                for token, futures in batch.items():
                    for f in futures:
                        if not f.done():
                            f.set_result(found.get(token))
        finally:
            self._draining = False

    def _ask(self, tokens: list[str]) -> dict[str, dict[str, Any]]:
        self.requests += 1
        reply = self.live.request("tickets_by_token", {"tokens": tokens})
        if not reply.ok:
            raise RuntimeError(f"tickets_by_token refused: {reply.code}")
        return {t["token"]: t for t in reply.result.get("tickets", [])}


class Misses:
    """Unknown tokens per client address, in a sliding window."""

    def __init__(self, limit: int = MISS_LIMIT, clock: Any = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._by_address: dict[str, deque[float]] = {}

    def _recent(self, address: str) -> deque[float]:
        times = self._by_address.get(address, deque())
        cutoff = self._clock() - MISS_WINDOW_S
        while times and times[0] < cutoff:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        """Whether this address has missed too often to be asked about any more."""
        return len(self._recent(address)) >= self.limit

    def missed(self, address: str) -> None:
        if len(self._by_address) >= MISS_ADDRESSES and address not in self._by_address:
            self._by_address.pop(next(iter(self._by_address)))  # the longest-known goes
        times = self._recent(address)
        times.append(self._clock())
        self._by_address[address] = times


def wait_words(seconds: object) -> tuple[str, str]:
    """A wait estimate in Indonesian and English: ("±12 menit", "about 12 min")."""
    if not isinstance(seconds, int | float) or seconds < 60:
        return "kurang dari 1 menit", "under a minute"
    n = round(seconds / 60)
    return f"±{n} menit", f"about {n} min"


def title(ticket: dict[str, Any]) -> str:
    """The tab's title: what the resident must know at a glance."""
    if ticket["status"] == "called":
        return f"DIPANGGIL {ticket['code']} — {ticket['counter_name']}"
    return f"{ticket['code']} — Antrean"
