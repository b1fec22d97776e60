"""/ikm.csv: each office's IKM of this month, overall and per service (layanan), for Dinas.

From the retained state/ikm each office web publishes (web/ikm_state.py),
with the month rule of /kantor: only the office's current month counts, so
an ended month is an empty cell, as the en dash is on the page. Per service only
where the survey has responses. The IKM is written with a decimal point
(a spreadsheet's number), the pages use Indonesian decimals.
"""

from __future__ import annotations

import csv
import io

from central.ingest import Conn
from web.central_view import OfficeRow

IKM_CSV_HEADER = ("kantor", "nama", "bulan", "layanan", "nama_layanan", "responden", "ikm", "mutu")
ALL_SERVICES = "Semua layanan"
_NAMES = (
    "SELECT office, substr(topic, 9), body->>'name' FROM office_state"
    " WHERE office = ANY(%s) AND left(topic, 8) = 'service/'"
)


def service_names(conn: Conn, offices: list[str]) -> dict[tuple[str, str], str]:
    """(office, service code) -> the service's name, from its retained state/service."""
    rows = conn.execute(_NAMES, (offices,)).fetchall()
    return {(office, code): name for office, code, name in rows if name}


def ikm_csv(rows: list[OfficeRow], names: dict[tuple[str, str], str]) -> str:
    """One line per office (all services), then one per service it has responses for."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(IKM_CSV_HEADER)
    for r in sorted(rows, key=lambda r: r.office):
        month = r.day.isoformat()[:7] if r.day else ""
        overall = (r.ikm_responses, r.ikm) if r.ikm else (0, None)
        lines = [("", ALL_SERVICES, overall), *(
            (code, names.get((r.office, code), ""), part)
            for code, part in r.ikm_by_service.items()
        )]  # fmt: skip
        for code, name, (n, ikm) in lines:
            value, letter = (f"{ikm[0]:.2f}", ikm[1]) if ikm else ("", "")
            w.writerow((r.office, r.name, month, code, name, n, value, letter))
    return buf.getvalue()
