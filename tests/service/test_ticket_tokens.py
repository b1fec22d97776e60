"""Phone-page tokens (issue 15): minted at issue, answered to the web only, public fields only."""

from __future__ import annotations

from antrean.tokens import TOKEN_CHARS, token_shaped
from tests.support.helpers import Office

PUBLIC_KEYS = {
    "token", "day", "code", "service", "service_name", "status", "ahead", "estimated_wait_s",
    "counters_open", "counter", "counter_name", "called_at", "recalls",
}  # fmt: skip


def tickets(office: Office, *tokens: str) -> list[dict]:
    return office.ok("web", "tickets_by_token", tokens=list(tokens))["tickets"]


def test_each_token_opens_only_its_own_ticket_and_no_personal_field(office: Office) -> None:
    first = office.ok("kiosk-1", "issue", service="A")
    second = office.ok("kiosk-1", "issue", service="A")
    assert token_shaped(first["token"])
    assert len(first["token"]) == TOKEN_CHARS
    assert first["token"] != second["token"]
    # The ticket id is not the token, and is not in the event for everyone.
    assert first["ticket"]["id"] not in first["token"]

    [mine] = tickets(office, second["token"])
    assert set(mine) == PUBLIC_KEYS
    assert mine["code"] == "A002"
    assert mine["status"] == "waiting"
    assert mine["ahead"] == 1
    assert mine["service_name"] == "Perekaman KTP-el"
    assert mine["counter"] is None

    # A token one character off, or a made-up one, finds nothing.
    t = first["token"]
    near = t[:-1] + ("A" if t[-1] != "A" else "B")
    assert tickets(office, near, "A" * TOKEN_CHARS, "2026-11-26/A001") == []

    office.ok("counter-1", "call_next")
    [called] = tickets(office, first["token"])
    assert (called["status"], called["counter"], called["counter_name"]) == (
        "called",
        1,
        "Loket 1",
    )
    assert called["ahead"] is None
    assert called["called_at"]


def test_only_the_web_may_ask_and_tokens_survive_a_restart_but_not_the_day(
    office: Office,
) -> None:
    token = office.ok("kiosk-1", "issue", service="C")["token"]
    assert office.error("kiosk-1", "tickets_by_token", tokens=[token])["code"] == "forbidden"
    assert office.error("counter-1", "tickets_by_token", tokens=[token])["code"] == "forbidden"
    assert office.error("web", "tickets_by_token", tokens=[1])["code"] == "bad_request"

    office.restart()  # the key is in the store: the printed QR still opens its page
    assert [t["code"] for t in tickets(office, token)] == ["C001"]

    office.clock.advance(days=1)
    office.ok("kiosk-1", "issue", service="C")  # the new day has started
    assert tickets(office, token) == []
