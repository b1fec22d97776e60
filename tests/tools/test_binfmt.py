"""scripts/binfmt.sh, which `make test-provision ARCH=aarch64` uses to run arm64
programs through qemu: what it writes to binfmt_misc and why it stops. Real
files in a folder standing in for /proc/sys/fs/binfmt_misc (the real one is
the kernel's: registering there changes the machine)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.helpers import ROOT

LINE = r":qemu-aarch64:M::\x7fELF\x02:\xff\xff\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF"


def ensure(tmp_path: Path, arch: str = "arm64") -> subprocess.CompletedProcess[str]:
    script = f'. "{ROOT}/scripts/binfmt.sh"; ensure_qemu_binfmt {arch}'
    env = {"PATH": "/usr/bin:/bin", "BINFMT_DIR": str(tmp_path / "binfmt")}
    env["BINFMT_CONF_DIR"] = str(tmp_path / "conf")
    command = ["bash", "-c", script]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def fake_binfmt(tmp_path: Path) -> Path:
    folder = tmp_path / "binfmt"
    folder.mkdir()
    (folder / "register").write_text("")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/qemu-aarch64.conf").write_text(f"# qemu-user-static\n{LINE}\n")
    return folder


def test_it_registers_the_handler_line_of_qemu_user_static(tmp_path: Path) -> None:
    folder = fake_binfmt(tmp_path)
    result = ensure(tmp_path)
    assert "==> registering qemu-aarch64 with binfmt_misc" in result.stdout
    assert (folder / "register").read_text() == LINE + "\n"
    # Only the kernel makes the handler's file appear, and the script checks it did.
    assert result.returncode == 1
    assert "qemu-aarch64 is not in" in result.stderr


def test_a_registered_handler_is_used_and_a_disabled_one_is_named(tmp_path: Path) -> None:
    folder = fake_binfmt(tmp_path)
    (folder / "qemu-aarch64").write_text("enabled\ninterpreter /usr/libexec/qemu-binfmt/x\n")
    assert ensure(tmp_path).returncode == 0
    assert (folder / "register").read_text() == ""
    (folder / "qemu-aarch64").write_text("disabled\n")
    result = ensure(tmp_path)
    assert result.returncode == 1
    assert "the qemu-aarch64 handler in" in result.stderr
    assert "is disabled" in result.stderr


def test_an_architecture_without_a_handler_is_refused(tmp_path: Path) -> None:
    fake_binfmt(tmp_path)
    result = ensure(tmp_path, "riscv64")
    assert result.returncode == 1
    assert "no qemu handler known for the architecture 'riscv64'" in result.stderr
