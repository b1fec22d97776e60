"""A simulated ticket printer: keeps the bytes, draws each ticket, misbehaves on request.

Like OctoPrint's virtual printer, it stands where the real one would and can
be told to fail: paper low, paper out, cover open, offline, slow, or
stopping in the middle of a ticket (part of the bytes "printed", then an
error), so that every path of the kiosk runs without hardware.

Its status is what an Epson-style printer answers to DLE EOT 1-4 (one byte
per class: paper end also sets the offline bit of class 1), read back with
the same rules as a real printer's, so a kiosk that stopped at class 1 would
call paper out "offline" here too. `realtime_status(n)` gives those bytes to
a fake printer on a serial line or a socket (sim_line.py).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.printer.base import PrintError, PrinterStatus
from kiosk.printer.escpos_decode import save_preview
from kiosk.printer.status import read_status, status_bytes

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SimJob:
    """One ticket the simulator was handed."""

    data: bytes  # what reached the "paper": all of it, or the part before a mid-ticket failure
    complete: bool
    handed_at: float  # time.perf_counter() when print_ticket was called
    preview: Path | None = None


@dataclass(slots=True)
class SimFaults:
    """The faults in force; change them with SimPrinter.set_faults()."""

    paper_low: bool = False
    paper_out: bool = False
    cover_open: bool = False
    offline: bool = False
    slow_s: float = 0.0  # every print (and status query) takes this long
    fail_mid: int = 0  # the next N tickets stop half-way through


class SimPrinter:
    """The `sim` driver."""

    name = "sim"

    def __init__(
        self,
        paper_mm: int = 80,
        output_dir: Path | None = None,
        faults: tuple[str, ...] = (),
        slow_s: float = 0.0,
    ) -> None:
        self.paper_mm = paper_mm
        self.output_dir = output_dir
        self.jobs: list[SimJob] = []
        self._lock = threading.Lock()
        self._faults = SimFaults(
            paper_low="paper_low" in faults,
            paper_out="paper_out" in faults,
            cover_open="cover_open" in faults,
            offline="offline" in faults,
            slow_s=slow_s,
            fail_mid=1 if "fail_mid" in faults else 0,
        )
        self._count = 0

    def set_faults(self, **changes: float | bool) -> None:
        """e.g. set_faults(paper_out=True), set_faults(fail_mid=1), set_faults(slow_s=3)."""
        with self._lock:
            for key, value in changes.items():
                if key not in SimFaults.__slots__:
                    raise ValueError(f"unknown simulator fault {key!r}")
                setattr(self._faults, key, value)
        log.info("simulated printer faults: %s", changes)

    @property
    def faults(self) -> SimFaults:
        with self._lock:
            return SimFaults(**{k: getattr(self._faults, k) for k in SimFaults.__slots__})

    def realtime_status(self, n: int) -> bytes:
        """The one byte an Epson-style printer in this state answers to DLE EOT n."""
        f = self.faults
        answers = status_bytes(
            paper_low=f.paper_low, paper_out=f.paper_out, cover_open=f.cover_open, offline=f.offline
        )
        return bytes((answers[n],)) if n in answers else b""

    def status(self) -> PrinterStatus:
        def ask(n: int) -> int | None:
            reply = self.realtime_status(n)
            return reply[0] if reply else None

        return read_status(ask)

    def print_ticket(self, data: bytes) -> None:
        handed_at = time.perf_counter()
        f = self.faults
        status = self.status()
        if status.blocks_issuing:
            self._keep(SimJob(b"", False, handed_at))
            raise PrintError(f"simulated printer is {status.value}", status)
        if f.slow_s:
            time.sleep(f.slow_s)
        if f.fail_mid:
            with self._lock:
                self._faults.fail_mid -= 1
            job = self._keep(SimJob(data[: len(data) // 2], False, handed_at))
            self._preview(job)
            raise PrintError(
                "simulated printer stopped in the middle of a ticket", PrinterStatus.OFFLINE
            )
        self._preview(self._keep(SimJob(data, True, handed_at)))

    def close(self) -> None:
        pass

    @property
    def last(self) -> SimJob | None:
        with self._lock:
            return self.jobs[-1] if self.jobs else None

    def complete_jobs(self) -> list[SimJob]:
        with self._lock:
            return [j for j in self.jobs if j.complete]

    def _keep(self, job: SimJob) -> SimJob:
        with self._lock:
            self.jobs.append(job)
            self._count += 1
        return job

    def _preview(self, job: SimJob) -> None:
        if self.output_dir is None or not job.data:
            return
        with self._lock:
            n = self._count
        stem = f"ticket-{n:04d}{'' if job.complete else '-failed'}"
        (self.output_dir).mkdir(parents=True, exist_ok=True)
        (self.output_dir / f"{stem}.bin").write_bytes(job.data)
        job.preview = save_preview(job.data, self.output_dir / f"{stem}.png", self.paper_mm)
