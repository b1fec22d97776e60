"""The users page (teknisi) and the audit page in a real browser, against the real users file.

A disabled account cannot log in and its open session ends at its next
request; a reset password replaces the old one; every change is audited.
"""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.support.chromium import go
from tests.web.conftest import PASSWORD
from tests.web.http_client import Client
from tests.web.test_admin_desk import click, fill, flash
from tests.web.test_pages import log_in, shoot, text_of

NEW = "sandi-baru-456"


def test_a_technician_adds_resets_and_disables_accounts(web_office, chromium, tmp_path):
    _office, web = web_office
    sri = Client(web.url)
    assert sri.login("sri", PASSWORD) == 303
    assert sri.get("/admin")[0] == 200
    driver = chromium
    log_in(driver, web.url, "tono")
    go(driver, f"{web.url}/pengguna")
    fill(driver, "#add-form", name="ani", password="kata-sandi-1", again="kata-sandi-1")
    driver.find_element(By.CSS_SELECTOR, "#add-form [name=role]").send_keys("petugas")
    click(driver, "#add-form button")
    flash(driver, "Pengguna ani ditambahkan.")
    ani = Client(web.url)
    assert ani.login("ani", "kata-sandi-1") == 303
    assert ani.get("/admin")[0] == 200

    driver.find_element(By.CSS_SELECTOR, "#password-form [name=name]").send_keys("sri")
    fill(driver, "#password-form", password=NEW, again=NEW)
    click(driver, "#password-form button")
    flash(driver, "Kata sandi sri diganti.")
    assert Client(web.url).login("sri", PASSWORD) == 401
    assert Client(web.url).login("sri", NEW) == 303

    click(driver, 'tr[data-user="sri"] button')
    flash(driver, "sri dinonaktifkan.")
    assert "nonaktif" in text_of(driver, 'tr[data-user="sri"]')
    status, headers, _ = sri.get("/admin")  # the open session ends at once
    assert status == 303
    assert headers["location"].startswith("/masuk")
    assert Client(web.url).login("sri", NEW) == 401
    shoot(driver, tmp_path, "users")
    click(driver, 'tr[data-user="sri"] button')
    flash(driver, "sri diaktifkan lagi.")
    assert Client(web.url).login("sri", NEW) == 303

    assert [(r[1], r[2], r[3]) for r in web.users.audit_rows()] == [
        ("tono", "user_enable", "sri"),
        ("tono", "user_disable", "sri"),
        ("tono", "user_password", "sri"),
        ("tono", "user_add", "ani (petugas)"),
    ]
    go(driver, f"{web.url}/audit")
    table = text_of(driver, "table.audit")
    assert "tono\tweb\tuser_add\tani (petugas)" in table
    assert table.count("tono") == 4


def test_a_wrong_user_form_says_why_and_changes_nothing(web_office):
    _office, web = web_office
    tech = Client(web.url)
    assert tech.login("tono", PASSWORD) == 303
    before = web.users.accounts()
    ok = {"password": "kata-sandi-1", "again": "kata-sandi-1"}
    cases = [
        ("tambah", {"name": "ani", "role": "petugas", "password": "pendek", "again": "pendek"},
         "paling sedikit 8"),
        ("tambah", {"name": "ani", "role": "petugas", "password": "kata-sandi-1",
                    "again": "kata-sandi-2"}, "tidak sama"),
        ("tambah", {"name": "a b", "role": "petugas", **ok}, "Nama masuk 1-40"),
        ("tambah", {"name": "x'; DROP TABLE users;--", "role": "petugas", **ok},
         "Nama masuk 1-40"),
        ("tambah", {"name": "ani", "role": "raja", **ok}, "Pilih peran"),
        ("tambah", {"name": "sri", "role": "petugas", **ok}, "Nama sri sudah dipakai"),
        ("sandi", {"name": "siapa", **ok}, "Pilih pengguna yang ada"),
        ("nonaktif", {"name": "tono"}, "Akun Anda sendiri"),
        ("hapus", {"name": "sri"}, "Tindakan tidak dikenal"),
    ]  # fmt: skip
    for do, form, words in cases:
        status, headers, _ = tech.post(f"/pengguna/{do}", {"csrf": tech.csrf("/pengguna"), **form})
        assert status == 303
        assert headers["location"] == "/pengguna"
        assert words in tech.get("/pengguna")[2], (do, form)
    assert web.users.accounts() == before
    assert Client(web.url).login("sri", PASSWORD) == 303
    assert web.users.audit_rows() == []
    # No CSRF token: refused before anything is read.
    bad = {"csrf": "x", "name": "ani", "role": "petugas", **ok}
    assert tech.post("/pengguna/tambah", bad)[0] == 403
    assert web.users.accounts() == before


def test_users_only_for_the_technician_and_audit_for_head_and_technician(web_office):
    _office, web = web_office
    staff, head = Client(web.url), Client(web.url)
    assert staff.login("sri", PASSWORD) == 303
    assert head.login("budi", PASSWORD) == 303
    assert staff.get("/pengguna")[0] == 403
    assert head.get("/pengguna")[0] == 403
    assert staff.get("/audit")[0] == 403
    assert head.get("/audit")[0] == 200
    form = {"csrf": staff.csrf("/admin"), "name": "sri", "password": NEW, "again": NEW}
    assert staff.post("/pengguna/sandi", form)[0] == 403
    assert Client(web.url).login("sri", PASSWORD) == 303
