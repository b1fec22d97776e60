"""A token bucket per device: how many commands the queue service takes from each.

No real device comes near the limit: a kiosk sends one `issue` per resident
(a tap, a print and the Done screen take seconds), a counter one command per
press with one in flight at a time, and a repeat after a 5 s timeout. The
limit is there for the device that misbehaves (a stuck loop, a script, a
stolen login publishing thousands at once): past it, its commands are
refused with `rate_limited` at almost no cost, so the burst cannot fill the
queue with numbers nobody holds or delay the other devices' commands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# 20 commands a second, sustained, with 100 at once on top: a busy kiosk sends
# one command every few seconds, so this is over 50 times what any real device
# sends, and a burst of 5,000 still makes at most about a hundred tickets.
RATE_PER_S = 20.0
BURST = 100
# A device refused nothing for this long has ended its burst (for the log).
CALM_S = 1.0
_ONE = 1 - 1e-9  # a token, give or take float rounding (0.1 s at 10/s is one)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float  # when `tokens` was last brought up to date (monotonic seconds)
    refused: int = 0  # refused in the current burst
    last_refused: float = 0.0


class RateLimit:
    """Per-device token buckets; `take` says whether one more command may run now."""

    def __init__(self, rate_per_s: float = RATE_PER_S, burst: int = BURST) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}

    def take(self, device: str, now: float) -> bool:
        """Spends one token of the device's bucket if it has one."""
        b = self._buckets.get(device)
        if b is None:
            b = self._buckets[device] = _Bucket(float(self.burst), now)
        # A clock that went backwards refills nothing rather than stalling the device.
        b.tokens = min(float(self.burst), b.tokens + max(0.0, now - b.at) * self.rate_per_s)
        b.at = now
        if b.tokens >= _ONE:
            b.tokens = max(0.0, b.tokens - 1)
            return True
        b.refused += 1
        b.last_refused = now
        return False

    def retry_after_s(self, device: str) -> float:
        """Seconds until the device's next command would be taken (0 when it would be now)."""
        b = self._buckets.get(device)
        if b is None or b.tokens >= _ONE:
            return 0.0
        return math.ceil((1 - b.tokens) / self.rate_per_s * 1000) / 1000

    def refused(self, device: str) -> int:
        """How many commands of the device were refused in its current burst."""
        b = self._buckets.get(device)
        return b.refused if b else 0

    def burst_ended(self, device: str, now: float) -> int:
        """The refusals of a burst that ended CALM_S ago or more (once; else 0)."""
        b = self._buckets.get(device)
        if b is None or not b.refused or now - b.last_refused < CALM_S:
            return 0
        refused, b.refused = b.refused, 0
        return refused
