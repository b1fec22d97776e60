"""The central web's page of one office: its row, devices and figures (today, the month).

The figures come from the office's events in PostgreSQL (central.figures),
counted as the office's own report counts them; the devices from the
presence the bridge carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from central.figures import ServiceFigures, period_figures
from central.ingest import Conn
from web.central_view import OfficeRow, office_rows
from web.views import PRINTER_WORDS, ROLE_WORDS

_DEVICES = "SELECT device, body FROM presence WHERE office = %s ORDER BY device"
_SERVICE_NAMES = "SELECT topic, body->>'name' FROM office_state WHERE office = %s"


@dataclass(frozen=True, slots=True)
class OfficePage:
    row: OfficeRow
    day: date
    devices: list[dict[str, Any]]
    names: dict[str, str]  # service code -> its name (state/service)
    today: dict[str, ServiceFigures]
    month: dict[str, ServiceFigures]


def office_page(
    conn: Conn, office: str, offices: tuple[str, ...], today: date, recording: tuple[str, ...]
) -> OfficePage:
    """Everything /kantor/{office} shows; `today` is used until the office names its day."""
    row = next(r for r in office_rows(conn, offices, today, recording) if r.office == office)
    day = row.day or today
    devices = []
    for device, body in conn.execute(_DEVICES, (office,)).fetchall():
        role = str(body.get("role") or device.rstrip("-0123456789"))
        printer = body.get("printer")
        devices.append(
            {
                "id": device,
                "role": ROLE_WORDS.get(role, role),
                "online": bool(body.get("online")),
                "printer": PRINTER_WORDS.get(str(printer), str(printer)) if printer else None,
            }
        )
    names = {
        topic.removeprefix("service/"): name
        for topic, name in conn.execute(_SERVICE_NAMES, (office,)).fetchall()
        if topic.startswith("service/") and name
    }
    return OfficePage(
        row,
        day,
        devices,
        names,
        period_figures(conn, office, day, day),
        period_figures(conn, office, day.replace(day=1), day),
    )
