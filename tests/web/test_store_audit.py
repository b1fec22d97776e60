"""Who did it, in the queue service's own store: the web's user travels with every command.

Headless Chromium logs in as "sri" and closes a service, opens and closes a
counter and sets the running text on the real web; the real queue service
then holds, in its store's audit table, each of these actions with
"web/sri" (the device and the user, as the blank-card ledger names them).
"""

from __future__ import annotations

from tests.web.test_admin_desk import click, close_service, fill, flash, rows
from tests.web.test_pages import log_in


def test_the_store_names_the_web_user_who_closed_a_service(web_office, chromium):
    _office, web = web_office
    driver = chromium
    log_in(driver, web.url, "sri")
    close_service(driver, web.url, "B", "Printer rusak")
    click(driver, 'tr[data-counter="2"] button[value=open]')
    flash(driver, "Loket 2 dibuka.")
    fill(driver, "#text-form", text="Istirahat pukul 12.00")
    click(driver, "#text-form button")
    flash(driver, "Teks berjalan disimpan.")
    audit = rows(web.config, "SELECT who, action, subject FROM audit ORDER BY id")
    assert audit == [
        ("web/sri", "service_close", "B: Printer rusak"),
        ("web/sri", "counter_open", "2"),
        ("web/sri", "set_running_text", "Istirahat pukul 12.00"),
    ]
    # The web's own audit has the same three, and the same user.
    assert [(r[1], r[2]) for r in web.users.audit_rows()] == [
        ("sri", "set_running_text"), ("sri", "counter_open"), ("sri", "service_close"),
    ]  # fmt: skip
