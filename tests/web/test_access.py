"""Who may see and do what in the web: sessions, roles, CSRF, the login throttle, the forms.

Every test runs the real web (uvicorn on loopback) before the real queue
service and broker, and checks the queue's own state, not only the page.
"""

from __future__ import annotations

from tests.support.broker_world import wait_for
from tests.web.conftest import PASSWORD
from tests.web.http_client import Client
from web.admin_pages import FORMS

SQL = "Z'; DROP TABLE tickets;--"
# The admin pages' other forms, each wrong in one way: (path, form, what the page says).
WRONG_FORMS = [
    ("/admin/loket", {"counter": "9", "do": "open"}, "Pilih loket yang ada"),
    ("/admin/loket", {"counter": SQL, "do": "open"}, "Pilih loket yang ada"),
    ("/admin/loket", {"counter": "1", "do": "explode"}, "Pilih buka atau tutup"),
    ("/admin/rusak", {"count": "0", "reason": "cetak gagal"}, "Jumlah blanko harus"),
    ("/admin/rusak", {"count": "2", "reason": " "}, "Alasan blanko rusak wajib diisi"),
    ("/admin/koreksi", {"count": "0", "reason": "hitung fisik"}, "Koreksi harus"),
    ("/admin/koreksi", {"count": "tiga", "reason": "hitung fisik"}, "Koreksi harus"),
    ("/admin/koreksi", {"count": "-3", "reason": ""}, "Alasan koreksi wajib diisi"),
    ("/admin/booking-batal", {"code": SQL}, "Kode booking 8 angka"),
    ("/admin/kunjungan", {"unit": "keliling-1", "day": "2026-12-05"}, "Pilih unit keliling"),
    ("/admin/kunjungan-batal", {"id": ""}, "Pilih kunjungan"),
]


def service_open(office, code: str) -> bool:
    snap = office.ok("admin", "snapshot")
    return next(s for s in snap["services"] if s["code"] == code)["open"]


def test_no_page_without_a_session_and_no_admin_without_the_petugas_role(web_office) -> None:
    office, web = web_office
    anonymous = Client(web.url)
    status, headers, _ = anonymous.get("/dasbor")
    assert status == 303
    assert headers["location"].startswith("/masuk")
    assert anonymous.get("/admin")[0] == 303
    assert anonymous.get("/dasbor/live")[0] == 303
    csrf = anonymous.csrf()
    form = {"csrf": csrf, "service": "B", "do": "close", "reason": "uji"}
    assert anonymous.post("/admin/layanan", form)[0] == 401
    head = Client(web.url)
    assert head.login("budi", PASSWORD) == 303  # kepala
    assert head.get("/dasbor")[0] == 200
    status, _, body = head.get("/admin")
    assert status == 403
    assert "bukan untuk peran Anda" in body
    form["csrf"] = head.csrf("/dasbor")
    assert head.post("/admin/layanan", form)[0] == 403
    assert service_open(office, "B")
    assert web.users.audit_rows() == []


def test_a_post_without_the_sessions_csrf_token_changes_nothing(web_office) -> None:
    office, web = web_office
    staff = Client(web.url)
    assert staff.login("sri", PASSWORD) == 303
    good = staff.csrf("/admin")
    for token in ("", "x" * len(good)):
        form = {"csrf": token, "service": "B", "do": "close", "reason": "uji"}
        status, _, body = staff.post("/admin/layanan", form)
        assert status == 403
        assert "Formulir tidak sah" in body
    other = Client(web.url)  # another session's token is not this session's
    assert other.login("sri", PASSWORD) == 303
    form = {"csrf": other.csrf("/admin"), "service": "B", "do": "close", "reason": "uji"}
    assert staff.post("/admin/layanan", form)[0] == 403
    assert service_open(office, "B")
    form["csrf"] = good
    assert staff.post("/admin/layanan", form)[0] == 303
    wait_for(lambda: not service_open(office, "B"), 5, "service B closed")
    (row,) = web.users.audit_rows()
    assert row[1:3] == ("sri", "service_close")
    assert row[5] == "ok"


def test_a_wrong_form_says_why_in_indonesian_and_sends_nothing(web_office) -> None:
    office, web = web_office
    staff = Client(web.url)
    assert staff.login("sri", PASSWORD) == 303
    sql = SQL
    cases = [
        ("/admin/layanan", {"service": "B", "do": "close", "reason": "  "}, "Alasan penutupan"),
        ("/admin/layanan", {"service": sql, "do": "close"}, "Pilih layanan"),
        ("/admin/blanko", {"count": "-5", "note": "SJ-1"}, "Jumlah blanko harus"),
        ("/admin/blanko", {"count": "10", "note": ""}, "surat jalan wajib"),
        ("/admin/teks", {"text": "x" * 301}, "paling banyak 300"),
        *WRONG_FORMS,
    ]
    for path, form, words in cases:
        status, headers, _ = staff.post(path, {"csrf": staff.csrf("/admin"), **form})
        assert status == 303
        page_path = FORMS[path.rsplit("/", 1)[1]][1]
        assert headers["location"] == page_path
        _, _, page = staff.get(page_path)
        assert words in page, (path, form)
    assert service_open(office, "B")
    snap = office.ok("admin", "snapshot")
    assert snap["stock"]["balance"] == 0
    assert not any(c["open"] for c in snap["counters"])
    assert snap["visits"]["visits"] == []
    assert web.users.audit_rows() == []  # nothing was sent


def test_failed_logins_are_slowed_per_name_and_address(web_office) -> None:
    _office, web = web_office
    guesser = Client(web.url)
    for _ in range(5):
        assert guesser.login("sri", "salah-salah") == 401
    assert guesser.login("sri", PASSWORD) == 429  # even the right password waits now
    assert Client(web.url).login("budi", PASSWORD) == 429  # and any name from this address
    status, _, body = guesser.post(
        "/masuk", {"csrf": guesser.csrf(), "name": "sri", "password": PASSWORD}
    )
    assert status == 429
    assert "Terlalu banyak percobaan" in body
