"""Backends that register themselves: a name, its config keys, how to read and open it, a check.

Each app keeps one `Registry` per kind of hardware: the kiosk's printer
drivers, the counter's input sources, the board's voice players. A backend's
module registers it (gpiozero's pin factories and OctoPrint's transports plug
in the same way); the registry imports the modules of its package the first
time it is asked, so a new backend is one new module. The core knows none of
them: this module only holds the shape, with file:line errors through
ConfigReader. Backend modules import their hardware library (escpos, evdev,
gpiozero) inside `open`, never at the top, so that reading a config or
running the doctor needs none of them.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from antrean.config import Config, ConfigReader

REQUIRED: Any = object()  # Key.default of a key that must be written


@dataclass(frozen=True, slots=True)
class Key:
    """One config key a backend reads (for docs, `antrean check-config`, and tests)."""

    name: str
    type: str  # "int", "float", "str", "path", "bool", "list[str]", "table"
    default: Any = REQUIRED
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class Probe(Protocol):
    """What a backend's doctor check may use of `antrean doctor` (files, processes, results)."""

    role: str | None
    dev: Path
    timeout: float

    def run(self, argv: list[str]) -> Any: ...
    def result(self, status: str, name: str, detail: str, fix: str = "") -> Any: ...
    def hardware(self, name: str, detail: str, fix: str) -> Any: ...
    def writable(self, name: str, path: Path, what: str) -> Any: ...


def for_a_laptop(probe: Probe, name: str, detail: str, fix: str) -> Any:
    """OK where the unit's role is unknown (a laptop, a demo), a WARN on a provisioned unit."""
    return probe.result("OK" if probe.role is None else "WARN", name, detail, fix)


# parse(reader, table, where, config) -> the backend's own settings
Parse = Callable[[ConfigReader, dict[str, Any], str, Config], Any]
Check = Callable[[Any, Probe], Any]  # check(settings, probe) -> the doctor's Result


@dataclass(frozen=True, slots=True)
class Backend:
    """One backend: its name, keys, parser, opener and doctor check."""

    name: str
    summary: str  # one line for people: "ESC/POS printer on USB"
    keys: tuple[Key, ...]
    parse: Parse
    open: Callable[..., Any]
    check: Check | None = None


@dataclass
class Registry:
    """The backends of one kind, by name, filled by the modules of `package`."""

    kind: str  # for messages: "printer driver"
    package: str  # where the backends' modules are, e.g. "kiosk.printer.drivers"
    _backends: dict[str, Backend] = field(default_factory=dict)
    _loaded: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, backend: Backend) -> Backend:
        """Adds a backend (called by its module at import); a name is registered once."""
        if backend.name in self._backends:
            raise ValueError(f"{self.kind} {backend.name!r} is registered twice")
        self._backends[backend.name] = backend
        return backend

    def backends(self) -> dict[str, Backend]:
        """Every registered backend, by name, in name order."""
        self._load()
        return dict(sorted(self._backends.items()))

    def names(self) -> list[str]:
        return list(self.backends())

    def get(self, name: str) -> Backend | None:
        return self.backends().get(name)

    def open(self, name: str, *args: Any) -> Any:
        """Opens the backend `name` (already checked by `choose` when its config was read)."""
        backend = self.get(name)
        if backend is None:
            raise ValueError(f"unknown {self.kind} {name!r}")
        return backend.open(*args)

    def check(self, name: str, settings: Any, probe: Probe, line: str) -> Any:
        """The doctor's `line` for the backend `name`: its own check, or OK if it has none."""
        backend = self.get(name)
        if backend is None or backend.check is None:
            return probe.result("OK", line, f"{self.kind} {name!r} has nothing to check")
        return backend.check(settings, probe)

    def choose(self, r: ConfigReader, where: str, key: str, name: str) -> Backend:
        """The backend named at `where.key`; an unknown name fails with its line and the names."""
        backend = self.get(name)
        if backend is None:
            known = ", ".join(self.names())
            r.fail(where, key, f"unknown {self.kind} {name!r}; registered: {known}")
        return backend

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            package = importlib.import_module(self.package)
            for module in pkgutil.iter_modules(package.__path__):
                if not module.name.startswith("_"):
                    importlib.import_module(f"{self.package}.{module.name}")
