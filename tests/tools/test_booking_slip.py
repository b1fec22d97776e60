"""One booking slip on the thermal printer (issue 12): its ESC/POS bytes, read back, and
`antrean booking slip CODE` through the real import, the real queue service and store,
and the printer simulator with its faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from antrean.config import Config, load_config
from antrean_testing.devbroker import DevBroker
from antrean_tools import cli
from kiosk.printer.escpos_decode import TextLine, decode
from kiosk.slip import BRING, CODE_SIZE, SAMPLE, slip_bytes
from kiosk.ticket import COLUMNS
from tests.service.test_booking import BOOKING, Import, import_rows, nik
from tests.support.helpers import example_text

__all__ = ["import_rows"]  # the booking tests' fixture, used here as it is
SLIP = SAMPLE


@pytest.mark.parametrize("paper", [58, 80])
def test_the_slip_bytes_read_back_as_the_slip(paper: int) -> None:
    data = slip_bytes(SLIP, paper)
    assert data.startswith(b"\x1b@")  # printer reset first
    assert b"\x1d(k\x0b\x001P0" + b"48213379" in data  # GS ( k: store the 8 digits (+3)
    assert b"\x1d(k\x03\x001Q0" in data  # ...and print them
    assert data.endswith(b"\x1dV\x00")  # full cut
    printed = decode(data)
    assert printed.unknown == []
    assert printed.qr_codes == ["48213379"]
    assert printed.lines == [
        "Kecamatan" if paper == 58 else "Kecamatan Gajahmungkur",
        *(["Gajahmungkur"] if paper == 58 else []),
        "Bukti pendaftaran antrean",
        "-" * COLUMNS[paper],
        "Siti Aminah",
        "Kelurahan Bendan Ngisor",
        "Perekaman KTP-el",
        "Jumat, 27 November 2026",
        "Jadwal 08.00-09.00",
        "",
        "Kode booking",
        "4821 3379",
        "",
        BRING,
        *(
            ["Ketik kode ini di kios antrean", "Kecamatan Gajahmungkur."]
            if paper == 58
            else ["Ketik kode ini di kios antrean Kecamatan", "Gajahmungkur."]
        ),
    ]
    lines = [e for e in printed.elements if isinstance(e, TextLine)]
    code = next(e for e in lines if e.text == "4821 3379")
    size = CODE_SIZE[paper]
    assert (code.runs[0].width, code.runs[0].height, code.runs[0].bold) == (size, size, True)
    for line in lines:  # every line fits the paper's columns at its size
        assert sum(len(r.text) * r.width for r in line.runs) <= COLUMNS[paper], line.text
    assert all(line.align == "center" for line in lines)


def test_an_erased_name_says_so() -> None:
    from dataclasses import replace  # noqa: PLC0415

    assert "(nama sudah dihapus)" in decode(slip_bytes(replace(SLIP, name=""))).lines


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    """The booking office, its [printer] the simulator writing into tmp_path/tickets."""
    edit = {
        "[kiosk]\n": BOOKING,
        'sim_output = "var/tickets"': f'sim_output = "{tmp_path / "tickets"}"',
    }
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(broker.port, edit=edit), encoding="utf-8")
    return load_config(path)


def slip(config: Config, code: str, *extra: str) -> int:
    return cli.main(["booking", "slip", code, "--config", config.source, *extra])


def test_the_office_prints_one_booked_slip_from_the_store(
    config: Config, import_rows: Import, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = import_rows([f"Siti Aminah;{nik(1)};;Bendan Ngisor;A;27/11/2026"])
    ((code, *_),) = stored
    capsys.readouterr()
    assert slip(config, code) == 0
    assert capsys.readouterr().out.strip() == f"slip {code} printed (sim, 80 mm)"
    [job] = sorted((tmp_path / "tickets").glob("*.bin"))
    printed = decode(job.read_bytes())
    assert printed.qr_codes == [code]
    assert f"{code[:4]} {code[4:]}" in printed.lines
    for line in ("Siti Aminah", "Kelurahan Bendan Ngisor", "Jumat, 27 November 2026", BRING):
        assert line in printed.lines
    assert "Jadwal 08.00-09.00" in printed.lines
    assert nik(1) not in job.read_bytes().decode("cp437")  # never the NIK
    other = tmp_path / "other"
    assert slip(config, f"{code[:4]} {code[4:]}", "--printer", f"sim:{other}") == 0
    assert [p.suffix for p in sorted(other.iterdir())] == [".bin", ".png"]


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("paper_out", "kertas printer habis / the printer is out of paper: slip {} not printed"),
        ("cover_open", "tutup printer terbuka / the printer's cover is open: slip {} not printed"),
        ("fail_mid", "printer tidak tersambung / the printer is offline: slip {} not printed in "
         "full; print it again"),
    ],
)  # fmt: skip
def test_a_printer_fault_prints_nothing_and_says_why(
    fault: str, said: str, tmp_path: Path, broker: DevBroker, import_rows: Import,
    config: Config, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    ((code, *_),) = import_rows([f"Siti Aminah;{nik(1)};;Bendan Ngisor;A;27/11/2026"])
    text = Path(config.source).read_text(encoding="utf-8")
    faulty = tmp_path / "faulty.toml"
    faulty.write_text(text.replace("# sim_faults = [", f'sim_faults = ["{fault}"] # ['), "utf-8")
    capsys.readouterr()
    assert cli.main(["booking", "slip", code, "--config", str(faulty)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.strip() == f"antrean booking slip: {said.format(code)}"
    whole = [p for p in (tmp_path / "tickets").glob("*.bin") if "failed" not in p.name]
    assert whole == []


def test_a_code_that_is_not_live_or_not_a_code_prints_nothing(
    config: Config, import_rows: Import, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ((code, *_),) = import_rows([f"Siti Aminah;{nik(1)};;Bendan Ngisor;A;27/11/2026"])
    assert cli.main(["booking", "cancel", code, "--config", config.source]) == 0
    capsys.readouterr()
    assert slip(config, code) == 1
    assert capsys.readouterr().err.strip() == (
        f"antrean booking slip: booking {code} sudah dibatalkan / cancelled: no slip printed"
    )
    assert slip(config, "12345670") == 1
    assert "tidak ada / no booking has code 12345670" in capsys.readouterr().err
    assert slip(config, "1234") == 2
    assert "kode booking terdiri dari 8 angka" in capsys.readouterr().err
    assert not (tmp_path / "tickets").exists()
