"""Kiosk on a serial printer: a tap to the ticket's last byte at the printer, against the line.

The queue service runs as its own process (`antrean queue`) on a private
Mosquitto. The benchmark process holds the kiosk's real DeviceLink (kiosk-1)
and TicketController with the real `serial` driver (python-escpos Serial,
pyserial, `timeout_s` 3 s as in the example config) on one end of a pty. On
the other end, a fake printer (kiosk/printer/sim_line.py) takes bytes no
faster than a line at the baud rate (10 bits a byte) and answers each DLE EOT
n with one byte when the command has arrived, as firmware does.

The time runs from `controller.take("C")` to the moment the fake printer has
taken the ticket's last byte: the status check (DLE EOT 1 and 4), `issue`
over MQTT to the committed reply, layout and encoding, and the ticket's bytes
on the line; and on to Done, after the status check that follows the print.
The status checks of a tap are timed on their own: the one before `issue`
(the driver's `status()` call) plus the one after the print (last byte to
Done). Baselines in the same run: the bare byte time of the ticket (its
length x 10 / baud, computed), the same bytes written straight to the port
with pyserial (no status, no issue) and timed to the same last byte, and the
bare `issue` request/reply through the same DeviceLink. At 9600 and 115200
baud; 3 warm-up taps, then 20 measured at each (`--quick`: 1 + 5).

Target (issue 18 item 19): a tap's status checks add at most a few tens of
ms to the ticket's byte time: their p99 <= 50 ms.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from common import (
    ROOT,
    KioskTaps,
    Result,
    antrean_command,
    format_ms,
    kiosk_link,
    main,
    spawn,
    stop_process,
    summary_ms,
    wait_service_online,
    write_config,
)

from antrean.config import Config, load_config
from antrean.device import DeviceLink
from antrean_testing.devbroker import DevBroker
from kiosk.printer import Printer, PrinterStatus, open_printer
from kiosk.printer.drivers.serial import SerialSettings
from kiosk.printer.registry import PrinterSettings
from kiosk.printer.sim import SimPrinter
from kiosk.printer.sim_line import LinePrinter
from kiosk.ticket import ticket_bytes

BAUDS = (9600, 115200)
TARGET_MS = 50.0


class TimedPrinter:
    """The driver, with the time of each status() call kept."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.name = printer.name
        self.paper_mm = printer.paper_mm
        self.status_s: list[float] = []

    def status(self) -> PrinterStatus:
        started = time.perf_counter()
        try:
            return self.printer.status()
        finally:
            self.status_s.append(time.perf_counter() - started)

    def print_ticket(self, data: bytes) -> None:
        self.printer.print_ticket(data)

    def close(self) -> None:
        self.printer.close()


def measure(link: DeviceLink, config: Config, baud: int, quick: bool) -> dict[str, list[float]]:
    """Per tap, in seconds: to the last byte, to Done, its status checks; and the baselines."""
    fake = LinePrinter(SimPrinter().realtime_status, baud=baud).on_pty()
    driver = open_printer(PrinterSettings("serial", options=SerialSettings(fake.path, baud)))
    printer = TimedPrinter(driver)
    kiosk = KioskTaps(link, config, printer)
    warm, measured = (1, 5) if quick else (3, 20)
    found: dict[str, list[float]] = {
        k: [] for k in ("tap", "done", "status", "raw", "issue", "bytes")
    }
    try:
        for i in range(warm + measured):
            printer.status_s.clear()
            since = len(fake.received)
            started = time.perf_counter()
            printed = kiosk.tap("C", timeout=60)
            finished = time.perf_counter()
            data = ticket_bytes(printed.ticket, printer.paper_mm)
            last = fake.time_of(fake.wait_for(data, since))
            raw = raw_write(driver, fake, data)
            t0 = time.perf_counter()
            reply = link.request("issue", {"service": "C"})
            issue = time.perf_counter() - t0
            if not reply.ok:
                raise RuntimeError(f"baseline issue refused: {reply}")
            if i >= warm and last is not None:
                found["tap"].append(last - started)
                found["done"].append(finished - started)
                found["status"].append(printer.status_s[0] + finished - last)
                found["raw"].append(raw)
                found["issue"].append(issue)
                found["bytes"].append(float(len(data)))
    finally:
        kiosk.close()
        fake.close()
    return found


def raw_write(printer: object, fake: LinePrinter, data: bytes) -> float:
    """The ticket's bytes straight to the open port (pyserial write): seconds to the last byte."""
    port = printer._device.device  # type: ignore[attr-defined]  # the driver's pyserial Serial
    since = len(fake.received)
    started = time.perf_counter()
    port.write(data)
    last = fake.time_of(fake.wait_for(data, since))
    if last is None:
        raise RuntimeError("the raw write did not reach the fake printer")
    time.sleep(0.05)  # the line is idle again before the next tap
    return last - started


def run(quick: bool) -> Result:
    result = Result("bench_printer_serial")
    folder = Path(tempfile.mkdtemp(prefix="antrean-bench-printer-"))
    figures: dict[str, object] = {}
    with DevBroker() as broker:
        config_path = write_config(folder, broker.port)
        queue = spawn(antrean_command(config_path), folder / "queue.log")
        try:
            wait_service_online(broker.port)
            config = load_config(config_path)
            link = kiosk_link(config)
            try:
                runs = {baud: measure(link, config, baud, quick) for baud in BAUDS}
            finally:
                link.stop()
        finally:
            stop_process(queue)
    for baud, found in runs.items():
        size = int(found["bytes"][0])
        bare_ms = size * 10 / baud * 1000
        tap, done = summary_ms(found["tap"]), summary_ms(found["done"])
        raw, issue = summary_ms(found["raw"]), summary_ms(found["issue"])
        status = summary_ms(found["status"])
        print(f"--- {baud} baud, ticket {size} bytes: bare byte time {bare_ms:.1f} ms")
        print(format_ms("tap -> last byte at the printer", tap))
        print(format_ms("tap -> Done (after the status check)", done))
        print(format_ms("status checks of a tap", status))
        print(format_ms("baseline: raw write -> last byte", raw))
        print(format_ms("baseline: bare issue", issue))
        print(
            f"tap -> last byte / bare byte time: p50 {tap['p50'] / bare_ms:.2f}x, "
            f"p99 {tap['p99'] / bare_ms:.2f}x; tap -> Done p50 / bare byte time: "
            f"{done['p50'] / bare_ms:.2f}x; raw write p50 / bare byte time: "
            f"{raw['p50'] / bare_ms:.2f}x"
        )
        figures[str(baud)] = {
            "ticket_bytes": size,
            "bare_byte_ms": bare_ms,
            "tap_to_last_byte_ms": tap,
            "tap_to_done_ms": done,
            "status_checks_ms": status,
            "raw_write_ms": raw,
            "bare_issue_ms": issue,
        }
        p99 = status["p99"]
        result.check(f"{baud} baud: status checks p99", p99, "ms", "<= 50", p99 <= TARGET_MS)
    result.figures = figures
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(__doc__, run)
