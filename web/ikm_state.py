"""state/ikm: the month's IKM of the office, retained, for the centre (issue 16).

The survey's responses stay in the web's own file (web/survey.py); only
their figures leave it: per month so far, the responses, the IKM and its
band, overall and per service. No comment, no ticket, nothing that names a
resident. The month is the office's business month (state/office's `day`),
so the topic is published once that is known, again after each new
response, when the month changes, and after the queue service comes back
(a broker that lost its retained store gets it again).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from antrean import protocol
from web.live import OfficeLive
from web.survey import Figure, Surveys

log = logging.getLogger(__name__)


def ikm_body(month: str, figures: list[Figure]) -> dict[str, Any]:
    """The retained payload for `month` from its figures (all services first)."""
    mine = [f for f in figures if f.month == month]
    overall = next((f for f in mine if f.service == ""), None)
    return {
        "month": month,
        **_part(overall),
        "services": {f.service: _part(f) for f in mine if f.service},
    }


def _part(figure: Figure | None) -> dict[str, Any]:
    if figure is None:
        return {"responses": 0, "ikm": None, "band": None}
    return {"responses": figure.responses, "ikm": float(figure.ikm), "band": figure.letter}


class IkmState:
    """Publishes state/ikm from the web's survey responses."""

    def __init__(self, live: OfficeLive, surveys: Surveys) -> None:
        self.live = live
        self.surveys = surveys
        self.topic = protocol.state_topic(live.office, "ikm")
        self._lock = threading.Lock()
        self._month: str | None = None  # the month last published
        surveys.listeners.append(self.publish)
        live.listeners.append(self._changed)

    def month(self) -> str | None:
        """The office's business month, once its queue service has said its day."""
        office = self.live.state("office")
        day = office.get("day") if office else None
        return str(day)[:7] if day else None

    def publish(self) -> None:
        """The month's figures now; nothing before the business day is known."""
        with self._lock:
            month = self.month()
            if month is None:
                return
            body = ikm_body(month, self.surveys.figures(month))
            self.live.link.mqtt.publish(self.topic, body, retain=True)
            self._month = month
        log.debug("state/ikm %s: %s responses", month, body["responses"])

    def _changed(self, path: str | None) -> None:
        # path None: the queue service came back; "office": perhaps a new month.
        if path is None or (path == "office" and self.month() != self._month):
            self.publish()
