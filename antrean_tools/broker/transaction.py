"""The broker's folder changed all at once: built beside, synced, renamed into place.

A power cut during `antrean broker init` must not leave a hub with half a
CA or no access rules that a second run takes for done. So init works on a
copy, `.broker.new-XXXX` next to /etc/antrean/broker, fsyncs every file,
then swaps the two folders by renaming. What a cut can leave, and what the
next run does with it:

- a `.broker.new-*` folder: half made, removed;
- no folder but `.broker.old`: the cut fell between the two renames; the
  old folder is put back (the run that was cut never happened);
- a folder and `.broker.old`: the cut came after the swap; the old one goes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Tests kill init at a named point (SIGKILL, as a power cut) to prove the above.
CRASH_ENV = "ANTREAN_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    """Dies here, at once and without cleaning up, when the test hook names this point."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def recover(folder: Path) -> None:
    """Undoes whatever a cut run left beside `folder` (see the module's docstring)."""
    old = _old(folder)
    for half in folder.parent.glob(f".{folder.name}.new-*"):
        shutil.rmtree(half)
    if old.exists():
        if folder.exists():
            shutil.rmtree(old)
        else:
            os.rename(old, folder)
            _fsync_dir(folder.parent)


@contextlib.contextmanager
def rebuild(folder: Path) -> Iterator[Path]:
    """A copy of `folder` (owners and modes kept) to change; swapped in when the block ends.

    An exception in the block leaves `folder` as it was and removes the copy.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover(folder)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    try:
        if folder.exists():
            work.rmdir()
            shutil.copytree(folder, work, symlinks=True)
            _copy_owners(folder, work)
        yield work
        _fsync_tree(work)
        crash_point("before-swap")
        if folder.exists():
            os.rename(folder, _old(folder))
            crash_point("between-renames")
        os.rename(work, folder)
        _fsync_dir(folder.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    shutil.rmtree(_old(folder), ignore_errors=True)


def _old(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.old"


def _copy_owners(src: Path, dest: Path) -> None:
    if os.geteuid() != 0:
        return
    for path in [src, *src.rglob("*")]:
        st = path.lstat()
        os.chown(dest / path.relative_to(src), st.st_uid, st.st_gid, follow_symlinks=False)


def _fsync_tree(top: Path) -> None:
    for path in [*top.rglob("*"), top]:
        if path.is_symlink():
            continue
        if path.is_dir():
            _fsync_dir(path)
        else:
            with path.open("rb") as f:
                os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
