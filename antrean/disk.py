"""The store's disk: telling a full disk from other faults, and naming its filesystem.

A full disk stops the queue service (a commit that cannot be written must not
be answered), but devices would only see time-outs. So the service says why
in its presence (`error: "disk_full"`) before it exits, refuses to start on a
disk with less than MIN_FREE_BYTES free, and the devices and `antrean doctor`
name the cause.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

DISK_FULL = "disk_full"  # the `error` of the queue service's presence
# Below this the service does not start: a busy day's tickets, remembered
# commands and WAL take a few hundred kilobytes, and a start that fails at the
# first ticket of the morning is worse than one refused with a reason.
MIN_FREE_BYTES = 2 * 2**20
MESSAGE = "Penyimpanan server antrean penuh: hubungi teknisi. (The queue server's disk is full.)"


def is_disk_full(exc: BaseException) -> bool:
    """Whether exc, or an error it was raised while handling, is a full disk."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.Error) and getattr(seen, "sqlite_errorcode", None) == (
            sqlite3.SQLITE_FULL
        ):
            return True
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def free_bytes(folder: Path) -> int:
    """Bytes a user without root's reserve may still write in folder's filesystem."""
    return shutil.disk_usage(folder).free


def filesystem(path: Path) -> str:
    """Where path lives, e.g. "/var/lib/antrean (/dev/mmcblk0p3, ext4)"; the mount point."""
    target = os.path.realpath(path)
    best = ("/", "", "")
    try:
        lines = Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return "/"
    for line in lines:
        device, mount, kind = [*line.split(), "", "", ""][:3]
        mount = mount.replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best[0]):
            best = (mount, device, kind)
    mount, device, kind = best
    return f"{mount} ({device}, {kind})" if device else mount
