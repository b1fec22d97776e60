"""One tap to one printed ticket: check the printer, issue, print, report. No Kivy here.

The rules that keep a number on screen matching a number in the queue:

- The printer is asked first. When it says paper out, cover open or offline
  (a known problem), no number is issued; the kiosk says so and reports the
  printer's health. UNKNOWN (a printer that cannot tell) issues by default, because
  many cheap printers never answer; `[printer] on_unknown = "refuse"` turns
  that off. Either way the health says "unknown", never "ok".
- `issue` (a service button) and `redeem` (a booking code) take the same
  path: the printer first, then the command, once per tap, with one command
  id. When no reply comes in time DeviceLink.request sends it again with the
  same id: the queue service answers a repeated id with its first answer, so
  a number that was issued but whose reply was lost is recovered, and never
  issued twice.
- A number that was issued but not printed goes to the Trouble screen with
  the number, and the failure is reported in the device status.
- Everything that can block (printer, broker) runs on one worker thread;
  results come back through `post`, which a Kivy app sets to hand them to
  its main thread (Clock.schedule_once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from antrean.device import NoAnswer, NotConnected, Reply
from kiosk.printer.base import Printer, PrintError, PrinterStatus
from kiosk.ticket import TicketInfo, escpos_buffer, printer_test_bytes, ticket_bytes

log = logging.getLogger(__name__)


class Link(Protocol):
    """What the controller uses of antrean.device.DeviceLink."""

    device_id: str

    def new_id(self) -> str: ...

    def request(
        self,
        action: str,
        args: dict[str, Any] | None = ...,
        timeout: float = ...,
        cmd_id: str | None = ...,
        attempts: int = ...,
    ) -> Reply: ...

    def set_health(self, **fields: Any) -> None: ...


# ---- issue results (what the screen shows next) -------------------------------------------


@dataclass(frozen=True, slots=True)
class Printed:
    ticket: TicketInfo


@dataclass(frozen=True, slots=True)
class PrintFailed:
    """The number is in the queue but the ticket did not come out (in full)."""

    ticket: TicketInfo
    status: PrinterStatus
    message: str


@dataclass(frozen=True, slots=True)
class PrinterBlocked:
    """The printer reported a problem before the tap: no number was issued."""

    status: PrinterStatus


@dataclass(frozen=True, slots=True)
class Refused:
    """The queue service said no (quota full, closed, a booking code refused): no number.

    `details` are the error's extra fields (a booking's `slot`, `come_back`).
    """

    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Unanswered:
    """No reply to any send of `issue` (or `redeem`).

    With `attempts` 0 nothing reached the queue service. Otherwise the number
    may have been issued with its reply lost (the service committed it, then
    restarted): the kiosk keeps the command and the next tap on the same
    service sends the same id again, which returns that number, not a new one.
    """

    attempts: int


@dataclass(frozen=True, slots=True)
class Offline:
    """The broker was away at the tap; nothing was sent."""


IssueResult = Printed | PrintFailed | PrinterBlocked | Refused | Unanswered | Offline
Post = Callable[[Callable[[], None]], None]


def run_now(fn: Callable[[], None]) -> None:
    """A `post` that runs the callback on the worker thread itself (tests, benchmarks)."""
    fn()


PRINTER_POLL_S = 10.0  # a printer that can print is asked this often (the status in the health)
# A printer that blocks issuing is asked this often: Home is ready again a
# few seconds after the roll is changed or the printer is back.
PRINTER_RETRY_S = 3.0

# Problems a good print clears. A ticket that did not print, or a number that
# nobody took, stays in the device status for staff until another problem.
TRANSIENT_PROBLEMS = frozenset({"no_answer", "printer_blocked"})
PERSONAL = frozenset({"nik", "nik_last4"})  # args of a resident's NIK (antrean/actions.py)


class TicketController:
    """The kiosk's behaviour behind the buttons; every public method returns at once."""

    def __init__(
        self,
        link: Link,
        printer: Printer,
        office_name: str,
        zone: ZoneInfo,
        service_names: dict[str, str],
        on_outcome: Callable[[IssueResult], None],
        on_printer: Callable[[PrinterStatus], None] | None = None,
        post: Post = run_now,
        timeout_s: float = 2.0,
        attempts: int = 3,
        issue_on_unknown: bool = True,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        phone_base: str = "",
    ) -> None:
        self.link = link
        self.printer = printer
        self.office_name = office_name
        self.zone = zone
        self.service_names = service_names
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.issue_on_unknown = issue_on_unknown
        self._on_outcome = on_outcome
        self._on_printer = on_printer
        self._post = post
        self._now = now
        self.phone_base = phone_base  # "{public_url}/t/": the QR opens the phone page
        self._busy = threading.Lock()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="kiosk-worker")
        self.last: TicketInfo | None = None
        self.printer_status = PrinterStatus.UNKNOWN
        self._closed = False
        # An `issue` or `redeem` sent but never answered: (action, command id, its args).
        self._unresolved: tuple[str, str, dict[str, Any]] | None = None
        self._problem_code: str | None = None
        self._poll_pending = threading.Event()
        self._stopping = threading.Event()

    # ---- called from the UI thread ---------------------------------------------------

    def take(self, service: str, priority: bool = False, nik: str | None = None) -> bool:
        """Starts one ticket (with the resident's NIK where asked); False while one is under way."""
        if not self._busy.acquire(blocking=False):
            log.info("tap on %s ignored: a ticket is under way", service)
            return False
        args: dict[str, Any] = {"service": service}
        if priority:
            args["priority"] = True
        if nik is not None:
            args["nik"] = nik
        self._worker.submit(self._guarded, self._ticket, "issue", args)
        return True

    def redeem(self, code: str, nik_last4: str | None = None) -> bool:
        """Starts one ticket for a booking code; False (and nothing happens) while one is busy."""
        if not self._busy.acquire(blocking=False):
            log.info("booking code ignored: a ticket is under way")
            return False
        args = {"code": code} if nik_last4 is None else {"code": code, "nik_last4": nik_last4}
        self._worker.submit(self._guarded, self._ticket, "redeem", args)
        return True

    def reprint(self) -> bool:
        """Prints the last ticket again (Trouble screen, staff menu)."""
        last = self.last
        if last is None or not self._busy.acquire(blocking=False):
            return False
        self._worker.submit(self._guarded, self._print, last)
        return True

    def test_print(self, done: Callable[[str], None]) -> None:
        """Prints a test page (staff menu); `done` gets the printer status afterwards."""

        def job() -> None:
            now = self._now().astimezone(self.zone)
            data = printer_test_bytes(self.office_name, self.link.device_id, now, self.paper_mm)
            try:
                self.printer.print_ticket(data)
                status = self._query_printer()
            except PrintError as exc:
                status = exc.status
                self._report_printer(status)
            except Exception:  # the staff menu must hear back whatever happened
                log.exception("test print failed")
                status = PrinterStatus.UNKNOWN
            self._post(lambda: done(status.value))

        self._worker.submit(job)

    def warm_up(self) -> None:
        """Loads python-escpos on the worker thread, so the first tap does not wait for it."""
        if not self._closed:
            self._worker.submit(escpos_buffer)

    def poll_printer(self) -> None:
        """Asks the printer for its status in the background (reported via on_printer)."""
        if self._closed or self._poll_pending.is_set():
            return  # one poll waiting is enough: a slow printer must not pile them up
        self._poll_pending.set()

        def poll() -> None:
            self._poll_pending.clear()
            self._query_printer()

        self._worker.submit(poll)

    def start_polling(
        self, every_s: float = PRINTER_POLL_S, blocked_every_s: float = PRINTER_RETRY_S
    ) -> None:
        """Polls the printer from now on: every `every_s`, or `blocked_every_s` while it blocks."""

        def loop() -> None:
            asked = time.monotonic()
            self.poll_printer()
            while not self._stopping.wait(min(every_s, blocked_every_s, 0.5)):
                blocked = self.printer_status.blocks_issuing
                if time.monotonic() - asked >= (blocked_every_s if blocked else every_s):
                    asked = time.monotonic()
                    self.poll_printer()

        threading.Thread(target=loop, name="kiosk-printer-poll", daemon=True).start()

    @property
    def busy(self) -> bool:
        return self._busy.locked()

    @property
    def paper_mm(self) -> int:
        return self.printer.paper_mm

    def close(self) -> None:
        self._closed = True
        self._stopping.set()
        self._worker.shutdown(wait=True, cancel_futures=True)
        self.printer.close()

    # ---- on the worker thread ------------------------------------------------------

    def _guarded(self, job: Callable[..., IssueResult], *args: Any) -> None:
        try:
            outcome = job(*args)
        except Exception:
            log.exception("ticket job failed")
            outcome = Unanswered(0)
        finally:
            self._busy.release()
        self._post(lambda: self._on_outcome(outcome))

    def _ticket(self, action: str, args: dict[str, Any]) -> IssueResult:
        """`issue` or `redeem`: the printer first, then the command, then the print."""
        what = _what(action, args)
        status = self._query_printer()
        if status.blocks_issuing or (status is PrinterStatus.UNKNOWN and not self.issue_on_unknown):
            log.warning("no number for %s: the printer is %s", what, status.value)
            self._problem("printer_blocked", None, f"printer {status.value}")
            return PrinterBlocked(status)
        reply = self._issue(action, args, self._resolve_earlier(action, args))
        if isinstance(reply, Unanswered | Offline):
            return reply
        if not reply.ok or reply.ticket is None:
            error = reply.body.get("error") or {}
            extra = {k: v for k, v in error.items() if k not in ("code", "message")}
            return Refused(reply.code or "bad_reply", reply.message, extra)
        service = str(reply.ticket.get("service", ""))
        booking = reply.result.get("booking")
        ticket = TicketInfo.from_reply(
            reply.ticket,
            self.office_name,
            self.service_names.get(service, service),
            self.zone,
            booking if isinstance(booking, dict) else None,
            token=str(reply.result.get("token") or ""),
            phone_base=self.phone_base,
        )
        self.last = ticket
        self.link.set_health(last_ticket=ticket.code)
        try:
            return self._print(ticket)
        except Exception as exc:  # the number is issued: never tell the resident it is not
            log.exception("ticket %s issued, then printing it failed", ticket.code)
            self._problem("print_failed", ticket.code, repr(exc))
            return PrintFailed(ticket, self.printer_status, repr(exc))

    def _resolve_earlier(self, action: str, args: dict[str, Any]) -> str | None:
        """The id to send: that of an unanswered earlier command with the same action and args.

        For another service (or code), the earlier command is sent once more to
        learn whether it made a number nobody holds, which is reported to staff.
        """
        if self._unresolved is None:
            return None
        earlier_action, cmd_id, earlier = self._unresolved
        if (earlier_action, earlier) == (action, args):
            return cmd_id
        self._unresolved = None
        try:
            reply = self.link.request(earlier_action, earlier, self.timeout_s, cmd_id)
        except (NotConnected, NoAnswer):
            return None
        code = reply.ticket_code
        if reply.ok and code:
            log.warning("issue %s had made %s, which nobody took", cmd_id, code)
            self._problem("orphan_ticket", code, f"issued by {cmd_id}; its reply was lost")
        return None

    def _issue(
        self, action: str, args: dict[str, Any], cmd_id: str | None = None
    ) -> Reply | Unanswered | Offline:
        """Sends `action`, repeating the same id until a reply or `attempts` timeouts."""
        cmd_id = cmd_id or self.link.new_id()
        try:
            reply = self.link.request(action, args, self.timeout_s, cmd_id, self.attempts)
        except NotConnected:
            log.warning("no number for %s: not connected to the broker", _what(action, args))
            return Offline()
        except NoAnswer as exc:
            sent = f"no answer to {action} {cmd_id} after {exc.sends} sends"
            self._problem("no_answer", None, sent)
            # A command with NIK digits is not kept for a resend: the kiosk keeps
            # no NIK beyond its command. Sent again by the resident, it is
            # refused (nik_used_today, booking_used) if the first one counted.
            if exc.sends and not PERSONAL.intersection(args):
                self._unresolved = (action, cmd_id, dict(args))
            return Unanswered(exc.sends)
        self._unresolved = None
        return reply

    def _print(self, ticket: TicketInfo) -> IssueResult:
        data = ticket_bytes(ticket, self.paper_mm)
        try:
            self.printer.print_ticket(data)
        except PrintError as exc:
            log.error("ticket %s issued but not printed: %s", ticket.code, exc)
            # Ask again rather than trust the error: a jam cleared by the
            # printer itself should not keep the kiosk closed.
            status = self.printer.status()
            self._report_printer(exc.status if status is PrinterStatus.UNKNOWN else status)
            self._problem("print_failed", ticket.code, str(exc))
            return PrintFailed(ticket, exc.status, str(exc))
        # Printers buffer what they are sent, so a write that succeeded does
        # not mean paper came out: a printer out of paper or offline now has
        # not printed this ticket.
        status = self._query_printer()
        if status.blocks_issuing:
            log.error("ticket %s sent, but the printer is now %s", ticket.code, status.value)
            self._problem("print_failed", ticket.code, f"printer {status.value} after printing")
            return PrintFailed(ticket, status, f"printer {status.value}")
        if self._problem_code in TRANSIENT_PROBLEMS:
            self._problem_code = None
            self.link.set_health(problem=None)
        return Printed(ticket)

    def _query_printer(self) -> PrinterStatus:
        status = self.printer.status()
        self._report_printer(status)
        return status

    def _report_printer(self, status: PrinterStatus) -> None:
        changed = status is not self.printer_status
        self.printer_status = status
        self.link.set_health(printer=status.value)
        if changed and self._on_printer:
            on_printer = self._on_printer
            self._post(lambda: on_printer(status))

    def _problem(self, code: str, ticket: str | None, message: str) -> None:
        self._problem_code = code
        at = self._now().isoformat(timespec="milliseconds")
        self.link.set_health(problem={"code": code, "ticket": ticket, "message": message, "at": at})


def _what(action: str, args: dict[str, Any]) -> str:
    """A command for a log line: the service of an `issue`; never a booking code (it is a
    resident's key to a number, and the journal is read by more people than the kiosk)."""
    return f"service {args.get('service')}" if action == "issue" else "a booking code"
