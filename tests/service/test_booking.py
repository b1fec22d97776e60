"""Pre-registration (issue 12): the import CLI, slots, redemption, erasure, and no NIK anywhere.

A real Mosquitto, the real queue service on a real SQLite file, and the real
`antrean booking import` command (in-process, through antrean_tools.cli.main).
"""

from __future__ import annotations

import io
import logging
import re
import sqlite3
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from antrean import booking
from antrean.config import Config, load_config
from antrean_testing.devbroker import DevBroker
from antrean_tools import cli
from tests.support.helpers import FakeClock, Office, example_text
from tests.support.mqtt_watch import Watcher
from tests.tools.test_stock_cli import store_rows

# Thursday 2026-11-26 09:00 WIB is the clock's start: Friday 27th has 3 slots
# (08:00-11:00), Saturday and Sunday are closed, Monday 30th has 7.
BOOKING = """[booking]
secret_file = "secret/booking.secret"
capacity = { A = 2, B = 50 }
slot_minutes = 60
horizon_days = 4
walk_in_percent = 30
early_minutes = 30
grace_minutes = 15
erase_after_days = 30

[kiosk]
"""
HEADER = "nama;nik;no_hp;kelurahan;layanan;tanggal\n"


def nik(serial: int, day: int = 12, month: int = 5) -> str:
    """A possible NIK of Kota Semarang (3374), born on day/month of 1990."""
    return f"337401{day:02d}{month:02d}90{serial:04d}"


def wib(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of November 2026, office-local (WIB), as the UTC clock holds it."""
    return datetime(2026, 11, day, hour - 7, minute, second, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(broker.port, edit={"[kiosk]\n": BOOKING}), encoding="utf-8")
    return load_config(path)


def run_import(
    config: Config, tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], name: str = "l"
) -> tuple[int, list[str]]:
    """`antrean booking import --config ... FILE.csv --codes ...`: exit status and output lines."""
    listing = tmp_path / f"{name}.csv"
    listing.write_text(text, encoding="utf-8")
    capsys.readouterr()
    status = cli.main(
        ["booking", "import", "--config", config.source, str(listing), "--codes",
         str(tmp_path / f"{name}-kode.csv"), "--user", "sri"]
    )  # fmt: skip
    out = capsys.readouterr()
    return status, [*out.out.splitlines(), *out.err.splitlines()]


def bookings(config: Config) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(config.store_path)
    try:
        return db.execute(
            "SELECT code, day, slot, service, nik_last4, name, status FROM bookings ORDER BY code"
        ).fetchall()
    finally:
        db.close()


Import = Callable[[list[str]], list[tuple[Any, ...]]]


@pytest.fixture
def import_rows(
    config: Config, office: Office, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Import:
    """Imports `nama;nik;...` rows through the CLI; the bookings stored afterwards."""

    def load(rows: list[str]) -> list[tuple[Any, ...]]:
        run_import(config, tmp_path, HEADER + "\n".join(rows), capsys)
        return bookings(config)

    return load


def wait_day(office: Office, day: str) -> None:
    for _ in range(40):
        if office.ok("admin", "snapshot")["office"]["day"] == day:
            return
    raise AssertionError(f"the queue service did not reach {day}")


# ---- rules ------------------------------------------------------------------------------


def test_nik_date_part_is_checked() -> None:
    assert booking.nik_problem(nik(1)) is None
    assert booking.nik_problem(nik(1, day=45)) is None  # women: day + 40
    assert booking.nik_problem(nik(1, day=71)) is None
    bad_ones = [nik(1, day=d) for d in (0, 32, 40, 72)] + [nik(1, month=m) for m in (0, 13)]
    bad_ones += [nik(1, day=30, month=2), nik(1)[:15], nik(1) + "1", "3374O1"]
    for bad in bad_ones:
        assert booking.nik_problem(bad), bad
    assert booking.masked(nik(1234)) == "NIK ****1234"


def test_check_digit_catches_every_single_error_and_neighbour_swap() -> None:
    codes = {booking.new_code() for _ in range(300)}
    assert len(codes) == 300
    for code in codes:
        assert booking.code_is_valid(code)
        assert code[0] != "0"
        for i in range(8):
            for d in "0123456789":
                if d != code[i]:
                    assert not booking.code_is_valid(code[:i] + d + code[i + 1 :])
        for i in range(7):
            if code[i] != code[i + 1]:
                assert not booking.code_is_valid(code[:i] + code[i + 1] + code[i] + code[i + 2 :])


def test_office_secret_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "booking.secret"
    key = booking.office_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert booking.office_secret(path) == key
    assert len(key) == 32
    path.chmod(0o644)
    with pytest.raises(booking.SecretError, match="chmod 600"):
        booking.office_secret(path)


# ---- import -----------------------------------------------------------------------------


def test_import_reports_every_bad_row_and_a_reimport_changes_nothing(
    config: Config, office: Office, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        f"Siti Aminah;{nik(1, day=45)};0812;Bendan Ngisor;A;27/11/2026",  # line 2: good (woman)
        f"Budi;{nik(2)[:15]};;Bendan Ngisor;A;",  # 3: 15 digits
        f"Wati;{nik(3, day=35)};;Petompon;A;",  # 4: day 35
        f"Joko;{nik(4, month=13)};;Petompon;A;",  # 5: month 13
        f"Rini;{nik(5)};;Petompon;Z;",  # 6: no service Z
        f"Siti lagi;{nik(1, day=45)};;Bendan Ngisor;Pencetakan KTP-el;2026-11-27",  # 7: same day
        f"Agus;{nik(6)};;Sampangan;A;2026-12-25",  # 8: past the horizon
        f"Dewi;{nik(7)};;Sampangan;Perekaman KTP-el;",  # 9: good, by the service's name
        f"Eko;{nik(8)};;;A;",  # 10: no kelurahan
        f"Fajar;{nik(9)};;Sampangan;A;31/02/2026",  # 11: no such date
        f"Gita;{nik(10)};;Sampangan;C;",  # 12: C takes no bookings
    ]
    status, out = run_import(config, tmp_path, HEADER + "\n".join(rows) + "\n", capsys)
    assert status == 1
    assert out == [
        "baris 3: NIK ****0000: NIK harus 16 angka",
        "baris 4: NIK ****0003: tanggal lahir di NIK (angka ke-7 dan 8) harus 01-31, "
        "atau 41-71 untuk perempuan",
        "baris 5: NIK ****0004: bulan lahir di NIK (angka ke-9 dan 10) harus 01-12",
        "baris 6: layanan 'Z' tidak ada",
        "baris 7: NIK ****0001 sudah punya booking pada 2026-11-27",
        "baris 8: tanggal 2026-12-25 melewati batas booking (2026-11-30)",
        "baris 10: kelurahan kosong",
        "baris 11: tanggal '31/02/2026' tidak dikenal (tulis 2026-11-27 atau 27/11/2026)",
        "baris 12: layanan C (Kartu Keluarga) tidak menerima booking",
        "2 booked, 0 unchanged (already booked by an earlier import), 9 refused",
    ]
    first = bookings(config)
    assert {(r[1], r[2], r[3], r[4], r[5], r[6]) for r in first} == {
        ("2026-11-27", "08:00", "A", "0001", "Siti Aminah", "booked"),
        ("2026-11-27", "08:00", "A", "0007", "Dewi", "booked"),
    }
    codes = (tmp_path / "l-kode.csv").read_text(encoding="utf-8").splitlines()
    assert codes[0] == "baris,nama,kelurahan,layanan,tanggal,jam,kode"
    assert len(codes) == 3
    assert all(booking.code_is_valid(c.split(",")[-1]) for c in codes[1:])

    status, again = run_import(config, tmp_path, HEADER + "\n".join(rows) + "\n", capsys)
    assert again[-1] == "0 booked, 2 unchanged (already booked by an earlier import), 9 refused"
    assert bookings(config) == first
    assert (tmp_path / "l-kode.csv").read_text(encoding="utf-8").splitlines() == codes


def test_slots_fill_in_order_spill_to_the_next_open_day_and_stop_at_the_horizon(
    config: Config, office: Office, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"Warga {i},{nik(100 + i)},,Bendan Duwur,A" for i in range(30)]
    _status, out = run_import(config, tmp_path, "nama,nik,no_hp,kelurahan,layanan\n"
                             + "\n".join(rows), capsys)  # fmt: skip
    assert out[-1] == "20 booked, 0 unchanged (already booked by an earlier import), 10 refused"
    assert out[0] == "baris 22: slot Perekaman KTP-el penuh sampai 2026-11-30"
    per_slot = Counter((r[1], r[2]) for r in bookings(config))
    assert per_slot == {
        **{("2026-11-27", f"{h:02d}:00"): 2 for h in (8, 9, 10)},  # Friday closes at 11
        **{("2026-11-30", f"{h:02d}:00"): 2 for h in range(8, 15)},  # Monday, 08-15
    }


def walk_ins_fill_friday(office: Office, clock: FakeClock, at: datetime) -> None:
    """Friday 27 at `at`: B's 24 walk-in numbers taken, the 25th refused (quota_full)."""
    clock.set(at)
    wait_day(office, "2026-11-27")
    for _ in range(24):
        office.ok("kiosk-1", "issue", service="B")
    assert office.error("kiosk-1", "issue", service="B")["code"] == "quota_full"


def test_walk_ins_keep_their_share_and_bookings_keep_theirs(
    config: Config, office: Office, clock: FakeClock, import_rows: Import
) -> None:
    # B: quota 80, 30% for walk-ins: 56 bookings on Friday, the rest on Monday.
    rows = [f"Warga {i};{nik(200 + i)};;Lempongsari;B;2026-11-27" for i in range(60)]
    days = Counter(r[1] for r in import_rows(rows))
    assert days == {"2026-11-27": 56, "2026-11-30": 4}
    walk_ins_fill_friday(office, clock, wib(27, 8, 5))
    code = next(r[0] for r in bookings(config) if r[1] == "2026-11-27" and r[2] == "08:00")
    ticket = office.ok("kiosk-1", "redeem", code=code)["ticket"]
    assert ticket["code"] == "B025"
    assert ticket["booked"] is True
    assert ticket["priority"] is False


def test_a_booking_nobody_redeemed_expires_after_its_grace_and_gives_walk_ins_their_room(
    config: Config, office: Office, clock: FakeClock, import_rows: Import
) -> None:
    # B: quota 80, 56 bookings on Friday (50 at 08:00, 6 at 09:00), 24 numbers for walk-ins.
    rows = [f"Warga {i};{nik(200 + i)};;Lempongsari;B;2026-11-27" for i in range(56)]
    slots = Counter(r[2] for r in import_rows(rows))
    assert slots == {"08:00": 50, "09:00": 6}
    walk_ins_fill_friday(office, clock, wib(27, 8, 15))  # the 08:00 slot's grace's last minute
    assert Counter(r[6] for r in bookings(config)) == {"booked": 56}
    clock.set(wib(27, 8, 15, 30))  # past it: the 50 who did not come expire
    assert office.ok("kiosk-1", "issue", service="B")["ticket"]["code"] == "B025"
    by_slot = Counter((r[2], r[6]) for r in bookings(config))
    assert by_slot == {("08:00", "expired"): 50, ("09:00", "booked"): 6}
    code = next(r[0] for r in bookings(config) if r[2] == "08:00")
    assert office.error("kiosk-1", "redeem", code=code)["code"] == "booking_late"
    assert office.ok("admin", "find_booking", code=code)["booking"]["status"] == "expired"
    office.restart()  # expired stays expired, and the 09:00 slot's six keep their room
    for _ in range(80 - 25 - 6):
        office.ok("kiosk-1", "issue", service="B")
    assert office.error("kiosk-1", "issue", service="B")["code"] == "quota_full"
    assert office.error("kiosk-1", "redeem", code=code)["code"] == "booking_late"


# ---- redemption ----------------------------------------------------------------------------


def test_redeem_rules(office: Office, clock: FakeClock, import_rows: Import) -> None:
    rows = [f"Warga {i};{nik(300 + i)};;Lempongsari;A;" for i in range(8)]
    slot_of = {r[0]: (r[1], r[2]) for r in import_rows(rows)}
    by_slot = {v: k for k, v in slot_of.items()}
    eight, nine, ten = (by_slot[("2026-11-27", f"{h:02d}:00")] for h in (8, 9, 10))
    monday = by_slot[("2026-11-30", "08:00")]
    clock.set(wib(27, 8, 10))
    wait_day(office, "2026-11-27")

    got = office.ok("kiosk-1", "redeem", code=eight)
    assert got["booking"] == {"code": eight, "day": "2026-11-27", "slot": "08.00-09.00",
                              "service": "A"}  # fmt: skip
    assert got["ticket"]["code"] == "A001"
    assert got["ticket"]["booked"] is True
    assert got["ticket"]["priority"] is False
    used = office.error("kiosk-1", "redeem", code=eight)
    assert used["code"] == "booking_used"
    assert used["ticket"] == "2026-11-27/A001"
    early = office.error("kiosk-1", "redeem", code=ten)
    assert early["code"] == "booking_early"
    assert early["message"] == "Jadwal Anda pukul 10.00-11.00. Silakan kembali mulai pukul 09.30."
    other = office.error("kiosk-1", "redeem", code=monday)
    assert other["code"] == "booking_other_day"
    assert (
        other["message"]
        == "Kode ini untuk Senin, 30 November 2026, pukul 08.00-09.00; bukan hari ini."
    )
    wrong = eight[:3] + str((int(eight[3]) + 1) % 10) + eight[4:]
    assert office.error("kiosk-1", "redeem", code=wrong)["code"] == "booking_mistyped"
    unknown = booking.new_code()
    assert office.error("kiosk-1", "redeem", code=unknown)["code"] == "booking_unknown"
    assert office.error("counter-1", "redeem", code=nine)["code"] == "forbidden"
    clock.set(wib(27, 9, 16))
    late = office.error("kiosk-1", "redeem", code=nine)
    assert late["code"] == "booking_late"
    assert late["message"].startswith(
        "Jadwal Anda pukul 09.00-10.00 sudah lewat (batas pukul 09.15)."
    )
    office.restart()  # used stays used across a restart
    assert office.error("kiosk-1", "redeem", code=eight)["code"] == "booking_used"


# ---- anti-tout rules -------------------------------------------------------------------------

TOUT_RULES = {
    "[kiosk]\n": BOOKING.replace("[kiosk]", "confirm_nik_last4 = true\n\n[kiosk]"),
    "recording = true": "nik_per_day = true\nrecording = true",  # A: Perekaman KTP-el
}


@pytest.fixture
def tout_office(tmp_path: Path, broker: DevBroker, clock: FakeClock) -> Iterator[Office]:
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(broker.port, edit=TOUT_RULES), encoding="utf-8")
    office = Office(load_config(path), clock).start()
    yield office
    office.close()


def test_nik_per_day_gives_one_number_per_nik_across_bookings_and_a_restart(
    tout_office: Office, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    office, config = tout_office, tout_office.config
    caplog.set_level(logging.DEBUG)
    booked, walker = nik(601), nik(602, day=52)
    run_import(config, tmp_path, HEADER + f"Ani;{booked};;Bendan;B;2026-11-27\n", capsys)
    clock.set(wib(27, 8, 5))
    wait_day(office, "2026-11-27")
    assert office.error("kiosk-1", "issue", service="A")["code"] == "nik_required"
    bad = office.error("kiosk-1", "issue", service="A", nik=walker[:15])
    assert (bad["code"], bad["message"]) == ("nik_invalid", "NIK harus 16 angka. Periksa lagi.")
    assert office.ok("kiosk-1", "issue", service="A", nik=walker)["ticket"]["code"] == "A001"
    again = office.error("kiosk-1", "issue", service="A", nik=walker)
    assert again["code"] == "nik_used_today"
    assert again["message"] == "NIK ini sudah mengambil nomor hari ini."
    # booked today for B: no walk-in number of A besides
    assert office.error("kiosk-1", "issue", service="A", nik=booked)["code"] == "nik_used_today"
    assert office.ok("kiosk-1", "issue", service="C")["ticket"]["code"] == "C001"  # no NIK asked
    office.restart()
    assert office.error("kiosk-1", "issue", service="A", nik=walker)["code"] == "nik_used_today"
    assert office.ok("kiosk-1", "issue", service="A", nik=nik(603))["ticket"]["code"] == "A002"
    clock.set(wib(30, 8, 5))  # Monday: a new day, a new number
    wait_day(office, "2026-11-30")
    assert office.ok("kiosk-1", "issue", service="A", nik=walker)["ticket"]["code"] == "A001"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "issue" in logged
    for n in (booked, walker):
        assert n not in logged
        assert n[:15] not in logged
    db = sqlite3.connect(config.store_path)
    kept = db.execute("SELECT day, nik_hash FROM tickets WHERE nik_hash IS NOT NULL").fetchall()
    db.close()
    # Friday's two hashes went with the day's purge; Monday's one is today's rule.
    assert [day for day, _ in kept] == ["2026-11-30"]
    assert all(len(h) == 64 and walker not in h for _, h in kept)


def test_a_walk_in_nik_hash_is_erased_from_the_files_after_its_day(
    tout_office: Office, clock: FakeClock
) -> None:
    office, config = tout_office, tout_office.config
    clock.set(wib(27, 8, 5))
    wait_day(office, "2026-11-27")
    office.ok("kiosk-1", "issue", service="A", nik=nik(621))
    db = sqlite3.connect(config.store_path)
    ((key,),) = db.execute("SELECT nik_hash FROM tickets WHERE nik_hash IS NOT NULL").fetchall()
    db.close()
    clock.set(wib(30, 8, 5))
    wait_day(office, "2026-11-30")
    office.ok("admin", "snapshot")  # a batch after the day's purge
    db = sqlite3.connect(config.store_path)
    assert db.execute("SELECT nik_hash FROM tickets").fetchall() == [(None,)]
    db.close()
    for f in config.store_path.parent.glob("antrean.db*"):  # nor in freed pages or the WAL
        assert key.encode() not in f.read_bytes(), f


def test_a_booking_of_today_that_expired_does_not_stop_its_resident_walking_in(
    tout_office: Office, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office, config = tout_office, tout_office.config
    late = nik(631)
    run_import(config, tmp_path, HEADER + f"Ani;{late};;Bendan;B;2026-11-27\n", capsys)
    clock.set(wib(27, 8, 10))
    wait_day(office, "2026-11-27")
    assert office.error("kiosk-1", "issue", service="A", nik=late)["code"] == "nik_used_today"
    clock.set(wib(27, 8, 16))  # past 08:00 + 15 minutes' grace: the booking expired
    assert office.ok("kiosk-1", "issue", service="A", nik=late)["ticket"]["code"] == "A001"
    assert [r[6] for r in bookings(config)] == ["expired"]


def test_redeem_asks_the_last_four_digits_and_wrong_codes_slow_a_kiosk_down(
    tout_office: Office, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office, config = tout_office, tout_office.config
    run_import(config, tmp_path, HEADER + f"Ani;{nik(611)};;Bendan;B;2026-11-27\n", capsys)
    ((code, *_),) = bookings(config)
    clock.set(wib(27, 8, 5))
    wait_day(office, "2026-11-27")
    asked = office.error("kiosk-1", "redeem", code=code)
    assert (asked["code"], asked["message"]) == (
        "nik_last4_required", "Masukkan 4 angka terakhir NIK Anda."
    )  # fmt: skip
    assert office.error("kiosk-1", "redeem", code=code, nik_last4="0612")["code"] == "nik_mismatch"
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    for _ in range(2):
        assert office.error("kiosk-1", "redeem", code=wrong)["code"] == "booking_mistyped"
    # three wrong tries in a minute: even the right code and digits wait a few seconds
    slowed = office.error("kiosk-1", "redeem", code=code, nik_last4="0611")
    assert slowed["code"] == "too_many_attempts"
    assert slowed["retry_after_s"] == 5
    assert slowed["message"] == "Terlalu banyak kode salah. Coba lagi dalam 5 detik."
    assert office.error("admin", "redeem", code=wrong)["code"] == "booking_mistyped"  # not slowed
    clock.advance(seconds=3)
    assert office.error("kiosk-1", "redeem", code=code, nik_last4="0611")["retry_after_s"] == 2
    clock.advance(seconds=2)
    got = office.ok("kiosk-1", "redeem", code=code, nik_last4="0611")
    assert got["ticket"]["booked"] is True


# ---- personal data ---------------------------------------------------------------------------


def test_names_and_phones_are_erased_by_the_service_after_the_day(
    config: Config, office: Office, clock: FakeClock, import_rows: Import
) -> None:
    rows = [f"Purnamasari {i};{nik(400 + i)};08129999{i:04d};Bendan;A;27/11/2026" for i in (1, 2)]
    assert {r[5] for r in import_rows(rows)} == {"Purnamasari 1", "Purnamasari 2"}
    clock.set(wib(27, 10) + timedelta(days=30))  # 30 days after: still kept
    wait_day(office, "2026-12-27")
    assert {r[5] for r in bookings(config)} == {"Purnamasari 1", "Purnamasari 2"}
    clock.set(wib(28, 10) + timedelta(days=30))  # the 31st day: the service erases them
    wait_day(office, "2026-12-28")
    db = sqlite3.connect(config.store_path)
    assert db.execute("SELECT name, phone, nik_last4 FROM bookings").fetchall() == [
        (None, None, "0401"), (None, None, "0402")
    ]  # fmt: skip
    db.close()
    for f in config.store_path.parent.glob("antrean.db*"):  # while the service runs
        data = f.read_bytes()
        assert b"Purnamasari" not in data, f
        assert b"08129999" not in data, f


@pytest.fixture
def persistent_broker() -> Iterator[DevBroker]:
    with DevBroker(persistence=True) as b:
        yield b


def test_no_full_nik_in_the_store_logs_mqtt_or_output(
    tmp_path: Path, persistent_broker: DevBroker, clock: FakeClock,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    path = tmp_path / "antrean.toml"
    text = example_text(persistent_broker.port, edit=TOUT_RULES)  # walk-ins of A give the NIK
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    niks = [nik(500 + i, day=d) for i, d in enumerate((3, 17, 45, 60, 28, 9))]
    caplog.set_level(logging.DEBUG)
    watcher = Watcher(config.broker, "#", "everything").start()
    office = Office(config, clock).start()
    try:
        rows = [f"Warga {i};{n};;Bendan;A;27/11/2026" for i, n in enumerate(niks[:4])]
        rows += [f"Salah;{niks[4][:15]};;Bendan;A;", f"Lagi;{niks[0]};;Bendan;B;2026-11-27"]
        run_import(config, tmp_path, HEADER + "\n".join(rows), capsys, "a")
        _, out = run_import(config, tmp_path, HEADER + "\n".join(rows), capsys, "b")  # again
        clock.set(wib(27, 8, 10))
        wait_day(office, "2026-11-27")
        for code, _, _, _, last4, *_ in bookings(config):
            office.request("kiosk-1", "redeem", code=code, nik_last4=last4)
        office.ok("kiosk-1", "issue", service="A", nik=niks[5])  # a walk-in
        office.error("kiosk-1", "issue", service="A", nik=niks[0])  # booked today: refused
        office.error("kiosk-1", "issue", service="A", nik=niks[5][:15])  # mistyped
        office.ok("counter-1", "call_next")
    finally:
        office.close()
        watcher.stop()
    persistent_broker.stop()
    written = [f.read_bytes() for f in tmp_path.rglob("*") if f.is_file() and f.suffix != ".csv"]
    written += [f.read_bytes() for f in Path(persistent_broker._dir).rglob("*") if f.is_file()]
    written += [(tmp_path / "a-kode.csv").read_bytes(), "\n".join(out).encode()]
    written.append("\n".join(r.getMessage() for r in caplog.records).encode())
    # A walk-in's NIK is in its kiosk's command, which only the queue service may
    # read (broker_config's ACL), and the service's session is clean: not kept.
    commands = [p for t, p in watcher.messages if "/cmd/" in t]
    assert sum(niks[5] in repr(p) for p in commands) == 1
    written.append(repr([(t, p) for t, p in watcher.messages if "/cmd/" not in t]).encode())
    assert len(watcher.messages) > 20
    assert any("booking" in r.getMessage() for r in caplog.records)
    for n in niks:
        number = int(n)
        forms = [n.encode(), n.encode("utf-16-le"), n.encode("utf-16-be"), n[:15].encode()]
        forms += [number.to_bytes(8, "big"), number.to_bytes(8, "little")]
        for form in forms:
            assert not any(form in blob for blob in written), f"found {booking.masked(n)}"


# ---- staff ------------------------------------------------------------------------------


def test_staff_find_and_cancel_a_booking_and_its_slot_is_free_again(
    config: Config, office: Office, import_rows: Import
) -> None:
    # A has 2 a slot: two bookings fill Friday 08:00, a third goes to 09:00.
    rows = [f"Warga {i};{nik(600 + i)};;Petompon;A;27/11/2026" for i in range(2)]
    code = next(r[0] for r in import_rows(rows) if r[4] == "0600")
    found = office.ok("counter-1", "find_booking", code=code)["booking"]
    assert found == {
        "code": code, "day": "2026-11-27", "slot": "08.00-09.00", "service": "A",
        "nik_last4": "0600", "name": "Warga 0", "kelurahan": "Petompon", "status": "booked",
        "ticket": None, "visit": None,
    }  # fmt: skip
    assert office.error("kiosk-1", "find_booking", code=code)["code"] == "forbidden"
    assert office.error("kiosk-1", "cancel_booking", code=code)["code"] == "forbidden"
    gone = office.ok("counter-1", "cancel_booking", code=code)["booking"]
    assert gone["status"] == "cancelled"
    assert office.error("counter-1", "cancel_booking", code=code)["code"] == "invalid_state"
    assert office.error("kiosk-1", "redeem", code=code)["code"] == "booking_cancelled"
    later = import_rows([f"Lain;{nik(610)};;Petompon;A;27/11/2026"])
    assert next(r[2] for r in later if r[4] == "0610") == "08:00"  # the cancelled one's place
    office.restart()
    again = office.ok("counter-1", "find_booking", code=code)["booking"]
    assert again["status"] == "cancelled"


def test_the_cli_finds_cancels_and_purges(
    config: Config,
    office: Office,
    import_rows: Import,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = import_rows([f"Sri Lestari;{nik(620)};;Petompon;A;27/11/2026"])[0][0]
    capsys.readouterr()
    assert cli.main(["booking", "find", "--config", config.source, code]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{code}  2026-11-27 08.00-09.00  layanan A  booked",
        "Sri Lestari, Petompon, NIK ****0620",
    ]
    cancel = ["booking", "cancel", "--config", config.source, code]
    assert cli.main([*cancel, "--user", "sri"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("cancelled")
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.setenv("USER", "pi")  # no --user: the login, said on stderr
    assert cli.main(cancel) == 1
    err = capsys.readouterr().err
    assert err.startswith("antrean booking cancel: recorded as pi ($USER); name yourself")
    assert "tidak bisa dibatalkan" in err
    # The store's audit names who imported and who cancelled (the refused try: nothing).
    rows = store_rows(office, "SELECT who, action, subject FROM audit ORDER BY id")
    assert [(who, action) for who, action, _ in rows] == [
        ("admin/sri", "booking_import"),
        ("admin/sri", "cancel_booking"),
    ]
    assert rows[1][2] == code
    assert cli.main(["booking", "purge", "--config", config.source]) == 0
    assert capsys.readouterr().out == "names and phones of bookings before 2026-10-27 erased\n"


# ---- staff on the phone ---------------------------------------------------------------------


def test_staff_book_a_resident_by_phone_in_the_days_first_free_slot(
    config: Config, office: Office, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = {"name": "Siti Aminah", "kelurahan": "Bendan", "service": "A", "day": "2026-11-27"}
    made = office.ok("counter-1", "book", nik=nik(640), phone="081234560640", **first)
    got = made["booking"]
    assert made["again"] is False
    assert (got["day"], got["slot"], got["status"]) == ("2026-11-27", "08.00-09.00", "booked")
    assert got["nik_last4"] == "0640"
    repeated = office.ok("web", "book", nik=nik(640), **first)  # the same call, twice
    assert (repeated["booking"]["code"], repeated["again"]) == (got["code"], True)
    second = office.ok("admin", "book", nik=nik(641), **first | {"name": "Budi"})["booking"]
    third = office.ok("admin", "book", nik=nik(642), **first | {"name": "Wati"})["booking"]
    assert (second["slot"], third["slot"]) == ("08.00-09.00", "09.00-10.00")  # A: two a slot
    assert office.error("kiosk-1", "book", nik=nik(643), **first)["code"] == "forbidden"
    bad = office.error("admin", "book", nik=nik(643)[:15], **first)
    assert (bad["code"], bad["message"]) == ("nik_invalid", "NIK harus 16 angka. Periksa lagi.")
    booked = office.error("admin", "book", nik=nik(640), **first | {"service": "B"})
    assert booked["code"] == "booking_refused"
    assert booked["message"] == "NIK ****0640 sudah punya booking pada 2026-11-27"
    clock.set(wib(27, 8, 10))
    wait_day(office, "2026-11-27")
    assert office.ok("kiosk-1", "redeem", code=got["code"])["ticket"]["booked"] is True
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "book" in logged
    for secret in (nik(640), nik(640)[:15], "Siti Aminah", "081234560640"):
        assert secret not in logged


def test_staff_find_bookings_by_name_and_kelurahan(office: Office, import_rows: Import) -> None:
    import_rows(
        [
            f"Sri Lestari;{nik(650)};;Petompon;A;27/11/2026",
            f"Sri  Rahayu;{nik(651)};;Petompon;B;27/11/2026",
            f"Sri Wahyuni;{nik(652)};;Bendan;A;27/11/2026",
        ]
    )
    found = office.ok("counter-1", "find_booking", name="sri", kelurahan="petompon")["bookings"]
    assert sorted(b["name"] for b in found) == ["Sri  Rahayu", "Sri Lestari"]  # any order
    one = office.ok("admin", "find_booking", name="SRI RAHAYU", kelurahan=" Petompon ")
    assert [b["nik_last4"] for b in one["bookings"]] == ["0651"]
    assert office.ok("admin", "find_booking", name="Sri", kelurahan="Karangrejo")["bookings"] == []
    assert office.error("admin", "find_booking", name="Sri")["code"] == "bad_request"
    assert office.error("kiosk-1", "find_booking", name="Sri", kelurahan="Bendan")["code"] == (
        "forbidden"
    )


def test_the_cli_books_by_phone_asking_the_nik_and_finds_by_name(
    config: Config, office: Office, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(nik(660) + "\n"))  # never an argument
    booked = ["booking", "book", "--config", config.source, "--name", "Dewi Sartika"]
    booked += ["--kelurahan", "Lempongsari", "--service", "A", "--day", "2026-11-30"]
    capsys.readouterr()
    assert cli.main(booked) == 0
    out = capsys.readouterr().out
    code = out.split()[0]
    assert out.splitlines() == [
        f"{code}  2026-11-30 08.00-09.00  layanan A  booked",
        "Dewi Sartika, Lempongsari, NIK ****0660",
    ]
    assert nik(660) not in out
    find = ["booking", "find", "--config", config.source, "--name", "dewi"]
    assert cli.main([*find, "--kelurahan", "Lempongsari"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(code)
    assert cli.main([*find, "--kelurahan", "Bendan"]) == 0
    assert capsys.readouterr().out == "tidak ada booking dengan nama itu\n"
    assert cli.main(find) == 2  # a name needs its kelurahan


def test_the_days_slips_are_one_a4_pdf_with_each_code_and_its_qr(
    config: Config, office: Office, tmp_path: Path, import_rows: Import,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from PIL import Image, ImageChops, ImageDraw  # noqa: PLC0415 - the kiosk extra's Pillow

    from antrean_tools import booking_slips  # noqa: PLC0415

    rows = [f"Warga {i:02d};{nik(40 + i)};;Bendan Ngisor;B;27/11/2026" for i in range(10)]
    stored = import_rows([*rows, f"Lain;{nik(60)};;Petompon;B;27/11/2026"])
    codes = {r[5]: r[0] for r in stored}
    out = tmp_path / "slips" / "slip-27.pdf"
    out.parent.mkdir()
    capsys.readouterr()
    argv = ["booking", "slips", "--config", config.source, "--day", "2026-11-27"]
    assert cli.main([*argv, "--kelurahan", "Bendan Ngisor", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"10 slips on 2 pages: {out}"
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 2  # eight a page, cut lines between
    assert [p.name for p in out.parent.iterdir()] == ["slip-27.pdf"]  # no other file holds names

    # Each slip carries its own code, large, and the QR of that code: the page
    # matches the code and the QR drawn alone, pixel for pixel, where they go.
    slips = booking_slips.slips_of(config, date(2026, 11, 27), "Bendan Ngisor")
    assert [s.name for s in slips] == [f"Warga {i:02d}" for i in range(10)]
    assert {s.slot for s in slips} == {"08.00\u201309.00"}
    pages = booking_slips.pages(slips, config.office.name)
    fonts = booking_slips.Fonts.load()
    for n, slip in enumerate(slips):
        page, i = pages[n // 8], n % 8
        assert slip.code == codes[slip.name]
        qr = booking_slips.qr_image(slip.code)
        x, y = booking_slips.qr_origin(i, qr)
        on_page = page.crop((x, y, x + qr.width, y + qr.height))
        assert ImageChops.difference(on_page, qr).getbbox() is None
        alone = Image.new("L", page.size, 255)
        ImageDraw.Draw(alone).text(
            booking_slips.code_origin(i), booking_slips.grouped(slip.code), font=fonts.code, fill=0
        )
        box = alone.point(lambda v: 255 if v < 255 else 0).getbbox()
        assert box is not None
        assert ImageChops.difference(page.crop(box), alone.crop(box)).getbbox() is None
        # Every line fits its slip: none runs past the cut line or into the next slip.
        right = booking_slips.slip_box(i)[2] - booking_slips.PAD
        for (lx, _ly), text, font, _grey in booking_slips.slip_lines(
            i, slip, config.office.name, fonts
        ):
            assert lx + font.getlength(text) <= right, text
    pages[0].save(tmp_path / "slips-page-1.png")  # for a person to look at

    assert cli.main([*argv[:-1], "2026-11-28", "--out", str(out)]) == 1  # no bookings that day
