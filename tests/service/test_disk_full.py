"""A full disk under the real queue service: devices and the doctor say so, nothing is lost.

The store lives on a real, tiny filesystem (a tmpfs of 4 MB, mounted by the
test: it needs root, as the provisioning tests do) that the test fills up.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from antrean.config import Config, load_config
from antrean.device import DeviceLink, NoAnswer
from antrean.runner import EXIT_SOFTWARE
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker
from antrean_tools.doctor import Doctor
from kiosk.view import home_view
from tests.support.helpers import ROOT, example_text
from tests.support.helpers import issue_when_served as issue
from tests.support.mqtt_watch import Watcher

STATUS = "antrean/v1/gajahmungkur/device/queue/status"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Writes a file until the filesystem has no byte left; returns it."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        assert _write_until_an_error(out) == errno.ENOSPC
    return filler


def _write_until_an_error(out: BinaryIO) -> int | None:
    try:
        while True:
            out.write(b"\0" * 4096)  # a page at a time: tmpfs has none left after
    except OSError as exc:
        return exc.errno


def queue(config_file: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "antrean_tools.cli", "queue", "--config", str(config_file)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kiosk_banner(link: DeviceLink, config: Config) -> str:
    """What the kiosk's Home screen says, from the kiosk's own view logic."""
    view = home_view(config, link.states(), "id", link.queue_online, False, link.queue_error)
    return f"{view.banner} / {view.banner_note}"


def test_a_full_disk_is_named_by_the_service_the_devices_and_the_doctor(
    small_disk: Path, broker: DevBroker
) -> None:
    source = small_disk / "antrean.toml"
    source.write_text(example_text(broker.port, hours=False), encoding="utf-8")
    config = load_config(source)
    admin = QueueClient("gajahmungkur", "admin", config.broker).start()
    kiosk = DeviceLink(config, "kiosk-1", "kiosk").start()
    service = queue(source)
    try:
        assert issue(admin) == "D001"
        filler = fill(small_disk)
        with pytest.raises(NoAnswer):
            admin.request("issue", {"service": "D"}, timeout=3)
        assert service.wait(10) == EXIT_SOFTWARE
        out = service.communicate()[0]
        assert "database or disk is full" in out
        assert f"the store's disk is full: {small_disk} (tmpfs, tmpfs)" in out

        # The retained presence says why, not only "offline" (no last will over it).
        watch = Watcher(config.broker, STATUS).start()
        try:
            _, presence = watch.wait_for(lambda t, _b: t == STATUS)
        finally:
            watch.stop()
        assert presence["online"] is False
        assert presence["error"] == "disk_full"
        assert "Penyimpanan server antrean penuh" in presence["message"]
        time.sleep(0.3)
        assert kiosk.queue_error == "disk_full"
        assert kiosk_banner(kiosk, config) == (
            "Penyimpanan server antrean penuh / Nomor belum bisa diambil. Silakan hubungi petugas."
        )

        # systemd starts it again: it refuses at once, and says so again.
        service = queue(source)
        assert service.wait(20) == EXIT_SOFTWARE
        out = service.communicate()[0]
        assert f"KB free for the store in {small_disk} (tmpfs, tmpfs); it needs 2 MB" in out

        doctor = Doctor(source, timeout=3.0)
        doctor.check_config()
        checks = {r.name: r for r in doctor.check_broker_and_queue()}
        assert checks["queue"].status == "FAIL"
        assert checks["queue"].detail == "the queue service stopped: the disk of its store is full"
        disk = doctor.check_store()
        assert disk.status == "FAIL"
        assert disk.detail == (
            f"only 0 MB free in {small_disk / 'var'} (filesystem {small_disk} (tmpfs, tmpfs))"
        )

        # Space is freed: it serves again, and the number after D001 is D002.
        filler.unlink()
        service = queue(source)
        assert issue(admin) == "D002"
        time.sleep(0.3)
        assert kiosk.queue_error is None
        assert kiosk.queue_online
    finally:
        if service.poll() is None:
            service.terminate()
            service.communicate(timeout=10)
        kiosk.stop()
        admin.stop()
