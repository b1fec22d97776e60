"""The one table of actions: each action of the contract, declared once.

A row says what a command may carry, who may send it, and what runs it. The
parser (antrean.protocol) checks args and roles from it, the service
dispatches from it, and tests check docs/protocol.md against it. Adding an
action is one method, one row here, and its section in docs/protocol.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from antrean.domain import Role


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument: its JSON type (as a Python type) and whether it must be given."""

    type: type
    required: bool = True
    personal: bool = False  # a NIK or its digits: the service's log shows "****"


@dataclass(frozen=True, slots=True)
class Action:
    """One action of the contract.

    `method` is the Engine method it runs, called with the args as keyword
    arguments of the same names; `on_service` names a QueueService method
    instead, for what only the service knows (its uptime, the whole state).
    `read_only` actions change nothing and are answered afresh each time
    (their replies are never remembered); `changes_calls` actions can change
    state/calls (the board's history), which is republished after them.
    """

    name: str
    args: Mapping[str, Arg]
    roles: frozenset[Role]
    method: str = ""
    on_service: bool = False
    read_only: bool = False
    changes_calls: bool = False
    personal: bool = False  # its args hold names or phones: never logged

    @property
    def runner(self) -> str:
        """The name of the method that runs it."""
        return self.method or self.name


COUNTER = Arg(int)  # for a counter device, defaults to its own counter
SERVICE = Arg(str)
CODE = Arg(str)
# Who, for the store's record (the stock ledger, the audit table): the web's
# logged-in user or the admin tools' --user, kept beside the device id.
USER = Arg(str, False)
_STAFF = frozenset({Role.COUNTER, Role.ADMIN})
_ADMIN = frozenset({Role.ADMIN, Role.WEB})
# The web's admin pages open and close services and counters; calling residents
# stays with the counters (and the admin tools).
_STAFF_AND_WEB = _STAFF | {Role.WEB}
_EVERYONE = frozenset(Role)


def _table(*actions: Action) -> Mapping[str, Action]:
    return MappingProxyType({a.name: a for a in actions})


ACTIONS: Mapping[str, Action] = _table(
    Action(
        "issue",
        {"service": SERVICE, "priority": Arg(bool, False), "nik": Arg(str, False, personal=True)},
        frozenset({Role.KIOSK, Role.ADMIN}),
    ),
    Action("call_next", {"counter": COUNTER}, _STAFF, changes_calls=True),
    Action("recall", {"counter": COUNTER}, _STAFF, changes_calls=True),
    Action("no_show", {"counter": COUNTER}, _STAFF, changes_calls=True),
    Action(
        "complete", {"counter": COUNTER, "kelurahan": Arg(str, False)}, _STAFF, changes_calls=True
    ),
    Action("transfer", {"counter": COUNTER, "service": SERVICE}, _STAFF, changes_calls=True),
    Action("call_ticket", {"counter": COUNTER, "code": CODE}, _STAFF, changes_calls=True),
    Action("requeue", {"code": CODE}, _STAFF, changes_calls=True),
    Action("cancel", {"code": CODE}, _STAFF),
    Action("counter_open", {"counter": COUNTER, "user": USER}, _STAFF_AND_WEB),
    Action("counter_close", {"counter": COUNTER, "user": USER}, _STAFF_AND_WEB, changes_calls=True),
    Action("service_open", {"service": SERVICE, "user": USER}, _STAFF_AND_WEB),
    Action(
        "service_close",
        {"service": SERVICE, "reason": Arg(str, False), "user": USER},
        _STAFF_AND_WEB,
    ),
    Action("set_running_text", {"text": Arg(str), "user": USER}, _ADMIN),
    Action("snapshot", {}, _EVERYONE, on_service=True, read_only=True),
    # issue 14: blank cards and the drive's targets (rules: antrean/stock.py, progress.py)
    Action(
        "stock_receive",
        {"count": Arg(int), "note": Arg(str), "day": Arg(str, False), "user": USER},
        _ADMIN,
    ),
    Action(  # a failed print at the counter
        "stock_spoil",
        {"count": Arg(int), "reason": Arg(str), "user": USER},
        _STAFF_AND_WEB,
    ),
    Action("stock_adjust", {"count": Arg(int), "reason": Arg(str), "user": USER}, _ADMIN),
    Action(
        "drive_target",
        {"kelurahan": Arg(str), "target": Arg(int), "user": USER},
        _ADMIN,
    ),
    Action("status", {}, _EVERYONE, on_service=True, read_only=True),
    # issue 12: pre-registration (rules: antrean/bookings.py); the kiosk may only redeem
    Action(
        "booking_import",
        {"batch": Arg(str), "rows": Arg(list), "count": Arg(int, False), "user": USER},
        _ADMIN,
        personal=True,
    ),
    Action(
        "booking_import_result", {"batch": Arg(str), "offset": Arg(int)}, _ADMIN, read_only=True
    ),
    Action(
        "redeem",
        {"code": CODE, "nik_last4": Arg(str, False, personal=True)},
        frozenset({Role.KIOSK, Role.ADMIN}),
    ),
    Action(
        "find_booking",
        {"code": Arg(str, False), "name": Arg(str, False), "kelurahan": Arg(str, False)},
        _STAFF_AND_WEB,  # the web's booking desk finds for a caller on the phone
        read_only=True,
        personal=True,  # a name asked for
    ),
    # A booking taken on the phone: the NIK goes to the service, which keeps its keyed hash.
    Action(
        "book",
        {
            "name": Arg(str),
            "nik": Arg(str, personal=True),
            "kelurahan": Arg(str),
            "service": SERVICE,
            "phone": Arg(str, False),
            "day": Arg(str, False),
            "visit": Arg(str, False),  # issue 13: a slot of this visit instead of the office's
            "user": USER,
        },
        frozenset({Role.COUNTER, Role.ADMIN, Role.WEB}),
        personal=True,
    ),
    Action("cancel_booking", {"code": CODE, "user": USER}, _STAFF_AND_WEB),
    # issue 13: on a unit, the office's bookings of its visits (code hashes), from its sync
    Action("visit_bookings", {"bookings": Arg(list)}, frozenset({Role.ADMIN})),
    Action("booking_purge", {}, _ADMIN),
    # issue 15: the resident's phone page (the web only; the token is the ticket's QR)
    Action("tickets_by_token", {"tokens": Arg(list)}, frozenset({Role.WEB}), read_only=True),
    # issue 13: visits of the mobile unit (rules: antrean/visits.py)
    Action(
        "visit_plan",
        {
            "unit": Arg(str),
            "day": Arg(str),
            "start": Arg(str),
            "end": Arg(str),
            "place": Arg(str),
            "kind": Arg(str),
            "kelurahan": Arg(str),
            "id": Arg(str, False),
            "desa": Arg(bool, False),
            "services": Arg(list, False),
            "organiser": Arg(str, False),
            "expected": Arg(int, False),
            "bring": Arg(str, False),
            "user": USER,
        },
        _ADMIN,
    ),
    Action("visit_cancel", {"id": Arg(str), "user": USER}, _ADMIN),
    Action("visit_open", {"id": Arg(str)}, _STAFF),
    Action("visit_close", {"id": Arg(str)}, _STAFF),
    # A unit's clock ran ahead and was set right: the office's admin only, on the unit.
    Action("clock_floor_reset", {"confirm": Arg(str), "user": USER}, frozenset({Role.ADMIN})),
    # issue 16: the central service fills a gap from the office's event log
    Action(
        "replay",
        {"after": Arg(int), "limit": Arg(int, False)},
        frozenset({Role.CENTRAL}),
        on_service=True,
        read_only=True,
    ),
)
