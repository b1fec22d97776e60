"""The office config: one TOML file, validated at start into typed, frozen models.

A bad value is reported with its key and the line it stands on, because the
person reading the error is a technician with a text editor and no debugger.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from antrean.domain import CounterNumber, DeviceId, Role, ServiceCode

DEFAULT_PATH = Path("/etc/antrean/antrean.toml")
CONFIG_HELP = f"office config file (default: $ANTREAN_CONFIG, else {DEFAULT_PATH})"  # --config
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RESERVED_DEVICE = "queue"  # the queue service publishes device/queue/status itself
# The central service's device id (issue 16): the office's bridge lets in only
# cmd/central, so the device with role "central" must have this id.
CENTRAL_DEVICE = "central"
# The sections the core reads (parse_config), and those each app reads, by the
# module whose `check_sections(config)` checks them as the app will. Apps are
# named by module path so that parsing a file imports no app (and no Kivy):
# only check_app_sections() imports them, and those modules import no Kivy,
# escpos or GPIO library. Any other section is refused, by every program.
CORE_SECTIONS = (
    "office",
    "broker",
    "store",
    "queue",
    "priority",
    "service",
    "counter",
    "device",
    "stock",
    "drive",
    "booking",
    "unit",
    "mobile",
)
APP_SECTIONS: dict[str, tuple[str, ...]] = {
    "kiosk.settings": ("kiosk", "printer"),
    "counter.settings": ("counter_inputs",),
    "display_board.settings": ("board", "voice"),
    "web.settings": ("web",),
}
ARRAY_SECTIONS = ("service", "counter", "device")  # written [[service]]
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
# --root: "/" on a unit; an image being provisioned, or a test's root, elsewhere.
ROOT_HELP = "treat this folder as the unit's / (an image being provisioned; default /)"


class ConfigError(ValueError):
    """A config value that cannot be used, with where it is."""

    def __init__(self, source: str, line: int | None, key: str, message: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {key}: {message}")
        self.line = line
        self.key = key


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Opening time and closing time of one weekday, office-local."""

    opens: time
    closes: time


# weekday (0 = Monday) -> hours; a weekday that is absent is a closed day.
WeeklyHours = dict[int, OpeningHours]


@dataclass(frozen=True, slots=True)
class OfficeConfig:
    id: str
    name: str
    timezone: ZoneInfo
    hours: WeeklyHours | None  # None: always open
    running_text: str = ""


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls_ca: Path | None = None  # the office CA; set to use TLS
    keepalive_s: int = 15
    # A file holding the password, so the secret stays out of the shared TOML;
    # "{user}" in it becomes the login name (each client on a unit has its own).
    password_file: Path | None = None

    def login(self, user: str) -> tuple[str, str | None] | None:
        """(username, password) for a client whose own name is `user`, or None (anonymous).

        The username is `username` if set, else `user` (a device logs in as its
        device id, which the broker also binds to its client id).
        """
        name = self.username or user
        if self.password_file is None:
            return (name, self.password) if self.username else None
        path = Path(str(self.password_file).replace("{user}", name))
        key = "broker.password_file"
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(str(path), None, key, f"cannot read: {exc.strerror}") from exc
        if not secret:
            raise ConfigError(str(path), None, key, "the password file is empty")
        return name, secret


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    code: ServiceCode
    name: str
    name_en: str = ""
    daily_quota: int | None = None  # None: no quota
    hours: WeeklyHours | None = None  # None: the office's hours
    uses_card: bool = False  # each served ticket uses one blank card (issue 14)
    recording: bool = False  # a served ticket is one recording of the drive (issue 14)
    nik_per_day: bool = False  # a walk-in gives the NIK; one number per NIK per day (issue 12)


@dataclass(frozen=True, slots=True)
class StockConfig:
    """Blank cards (blangko KTP-el): when staff are warned, and the rate's window."""

    warning: int = 50  # cards left (after those promised) at which staff are warned
    rate_days: int = 14  # the recent rate of use is over this many days


@dataclass(frozen=True, slots=True)
class DriveConfig:
    """The recording drive: when it started and each kelurahan's target (residents)."""

    start: date | None = None
    targets: dict[str, int] = field(default_factory=dict)
    rate_days: int = 28  # the recent rate of recording is over this many days


@dataclass(frozen=True, slots=True)
class BookingConfig:
    """Pre-registration (issue 12): slots, windows and how long names are kept."""

    secret_file: Path = Path("booking.secret")  # the NIK hashes' HMAC key (antrean.booking)
    capacity: dict[str, int] = field(default_factory=dict)  # service -> bookings per slot
    slot_minutes: int = 60
    horizon_days: int = 14  # the last day that can be booked, counted from today
    walk_in_percent: int = 30  # of a service's daily quota, never booked
    early_minutes: int = 30  # a code is good from this long before its slot
    grace_minutes: int = 15  # ... to this long after the slot starts
    erase_after_days: int = 30  # names and phones go this long after the booking's day
    # Booked calls a counter makes for each walk-in call while both wait (from a slot's start).
    booked_share: int = 1
    confirm_nik_last4: bool = False  # redeem asks the NIK's last four digits too

    def day_cap(self, quota: int | None) -> int | None:
        """Bookings allowed in a day for a service with this daily quota (None: no cap)."""
        if quota is None:
            return None
        return quota * (100 - self.walk_in_percent) // 100


@dataclass(frozen=True, slots=True)
class UnitConfig:
    """[unit] on a mobile unit (issue 13): who it is, its code prefix, its office's broker."""

    id: str
    prefix: str  # before every ticket code ("K" + "A001"): never one of the office's codes
    home: BrokerConfig | None = None  # the office hub's broker, where it syncs


@dataclass(frozen=True, slots=True)
class CounterConfig:
    number: CounterNumber
    name: str
    services: tuple[ServiceCode, ...]


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    id: DeviceId
    role: Role
    counter: CounterNumber | None = None  # the counter a counter device acts for


@dataclass(frozen=True, slots=True)
class QueueRules:
    priority_enabled: bool = True
    priority_name: str = "Prioritas"
    priority_description: str = "Lansia, disabilitas, ibu hamil"
    # Normal calls allowed between two priority calls while both lanes wait.
    priority_ratio: int = 2
    recall_limit: int = 3
    recent_calls: int = 10  # calls kept in state/calls for the board
    # Used for the wait estimate until a service has served anyone today.
    default_service_time_s: int = 300
    # Each device's token bucket (antrean/ratelimit.py): far above any real device.
    device_rate_per_s: int = 20
    device_burst: int = 100


@dataclass(frozen=True, slots=True)
class Config:
    """The whole office config. App sections (kiosk, printer, board, ...) stay raw in `sections`."""

    source: str
    office: OfficeConfig
    broker: BrokerConfig
    store_path: Path
    services: tuple[ServiceConfig, ...]
    counters: tuple[CounterConfig, ...]
    devices: tuple[DeviceConfig, ...]
    rules: QueueRules
    sections: dict[str, Any] = field(default_factory=dict)
    stock: StockConfig = field(default_factory=StockConfig)
    drive: DriveConfig = field(default_factory=DriveConfig)
    booking: BookingConfig = field(default_factory=BookingConfig)
    unit: UnitConfig | None = None  # issue 13: this config is a mobile unit's
    units: dict[str, str] = field(default_factory=dict)  # [mobile] units: unit id -> prefix
    base_dir: Path = field(default_factory=Path.cwd)  # relative paths are taken from here
    text: str = field(default="", repr=False)  # the TOML, for line numbers in app errors
    services_by_code: dict[str, ServiceConfig] = field(init=False, repr=False, compare=False)
    counters_by_number: dict[int, CounterConfig] = field(init=False, repr=False, compare=False)
    devices_by_id: dict[str, DeviceConfig] = field(init=False, repr=False, compare=False)

    def reader(self) -> ConfigReader:
        """Typed getters for an app's own section, whose errors name file, line and key.

        e.g. `r = config.reader(); t = r.table(config.sections, "kiosk")`,
        then `r.integer(t, "kiosk", "home_after_s", default=8, low=2, high=120)`.
        """
        return ConfigReader(self.text, self.source)

    def path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        return self.base_dir / value

    def service(self, code: str) -> ServiceConfig | None:
        """The service with this code, or None."""
        return self.services_by_code.get(code)

    def counter(self, number: int) -> CounterConfig | None:
        """The counter with this number, or None."""
        return self.counters_by_number.get(number)

    def device(self, device_id: str) -> DeviceConfig | None:
        """The device with this id, or None."""
        return self.devices_by_id.get(device_id)

    def __post_init__(self) -> None:
        # Look-ups by key, built once: a look-up of a configured key cannot fail.
        set_ = object.__setattr__  # the dataclass is frozen
        set_(self, "services_by_code", {s.code: s for s in self.services})
        set_(self, "counters_by_number", {c.number: c for c in self.counters})
        set_(self, "devices_by_id", {d.id: d for d in self.devices})


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """--config, else $ANTREAN_CONFIG, else /etc/antrean/antrean.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("ANTREAN_CONFIG")
    return Path(env) if env else DEFAULT_PATH


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(p), None, "(file)", f"cannot read: {exc.strerror}") from exc
    return parse_config(text, source=str(p), base_dir=p.parent)


def parse_config(text: str, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate TOML text into a Config; relative paths are taken from base_dir."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, _toml_error_line(exc), "(syntax)", str(exc)) from exc
    r = ConfigReader(text, source)
    base = base_dir or Path.cwd()
    _known_sections(r, data)
    # In the file's usual order, so that the first error reported is the first one met.
    office = _office(r, data)
    broker = broker_section(r, data, base)
    store_path = _store_path(r, data, base)
    services = _services(r, data)
    counters = _counters(r, data, {s.code for s in services})
    return Config(
        source,
        office,
        broker,
        store_path,
        services,
        counters,
        _devices(r, data, {c.number for c in counters}),
        _rules(r, data),
        {k: v for k, v in data.items() if k not in CORE_SECTIONS},
        stock=_stock(r, data),
        drive=_drive(r, data),
        booking=_booking(r, data, {s.code for s in services}, base),
        unit=_unit(r, data, broker),
        units=_mobile(r, data),
        base_dir=base,
        text=text,
    )


def _office(r: ConfigReader, data: dict[str, Any]) -> OfficeConfig:
    """[office]: id, name, timezone, hours, running text."""
    t = r.table(data, "office", required=True)
    office = OfficeConfig(
        id=r.slug(t, "office", "id"),
        name=r.string(t, "office", "name"),
        timezone=r.zone(t, "office", "timezone", default="Asia/Jakarta"),
        hours=r.hours(t, "office", "hours"),
        running_text=r.string(t, "office", "running_text", default=""),
    )
    r.only_keys(t, "office")
    return office


def broker_section(r: ConfigReader, data: dict[str, Any], base: Path) -> BrokerConfig:
    """[broker]: where the office's Mosquitto is and how to log in (the central's too)."""
    t = r.table(data, "broker")
    tls_ca = r.string(t, "broker", "tls_ca", default="")
    password_file = r.string(t, "broker", "password_file", default="")
    if password_file and "password" in t:
        r.fail("broker", "password_file", "set password or password_file, not both")
    broker = BrokerConfig(
        host=r.string(t, "broker", "host", default="127.0.0.1"),
        port=r.integer(t, "broker", "port", default=1883, low=1, high=65535),
        username=r.string(t, "broker", "username", default="") or None,
        password=r.string(t, "broker", "password", default="") or None,
        tls_ca=(base / tls_ca) if tls_ca else None,
        keepalive_s=r.integer(t, "broker", "keepalive_s", default=15, low=5, high=600),
        password_file=(base / password_file) if password_file else None,
    )
    r.only_keys(t, "broker")
    return broker


def _store_path(r: ConfigReader, data: dict[str, Any], base: Path) -> Path:
    """[store]: the SQLite file."""
    t = r.table(data, "store")
    path = base / r.string(t, "store", "path", default="var/antrean.db")
    r.only_keys(t, "store")
    return path


def _services(r: ConfigReader, data: dict[str, Any]) -> tuple[ServiceConfig, ...]:
    """[[service]]: at least one, codes unique."""
    services = tuple(_service(r, t, i) for i, t in enumerate(r.array(data, "service")))
    if not services:
        raise ConfigError(r.source, None, "service", "at least one [[service]] is needed")
    _unique(r, [s.code for s in services], "service", "code")
    return services


def _counters(
    r: ConfigReader, data: dict[str, Any], codes: set[ServiceCode]
) -> tuple[CounterConfig, ...]:
    """[[counter]]: numbers unique, each serving configured services."""
    counters = tuple(_counter(r, t, i, codes) for i, t in enumerate(r.array(data, "counter")))
    _unique(r, [c.number for c in counters], "counter", "number")
    return counters


def _devices(
    r: ConfigReader, data: dict[str, Any], numbers: set[CounterNumber]
) -> tuple[DeviceConfig, ...]:
    """[[device]]: ids unique, each with its role."""
    devices = tuple(_device(r, t, i, numbers) for i, t in enumerate(r.array(data, "device")))
    _unique(r, [d.id for d in devices], "device", "id")
    return devices


def _rules(r: ConfigReader, data: dict[str, Any]) -> QueueRules:
    """[queue] and [priority]: the calling rules."""
    q = r.table(data, "queue")
    p = r.table(data, "priority")
    rules = QueueRules(
        priority_enabled=r.boolean(p, "priority", "enabled", default=True),
        priority_name=r.string(p, "priority", "name", default="Prioritas"),
        priority_description=r.string(
            p, "priority", "description", default="Lansia, disabilitas, ibu hamil"
        ),
        priority_ratio=r.integer(p, "priority", "ratio", default=2, low=0, high=100),
        recall_limit=r.integer(q, "queue", "recall_limit", default=3, low=0, high=20),
        recent_calls=r.integer(q, "queue", "recent_calls", default=10, low=1, high=100),
        default_service_time_s=r.integer(
            q, "queue", "default_service_time_s", default=300, low=10, high=7200
        ),
        device_rate_per_s=r.integer(
            q, "queue", "device_rate_per_s", default=20, low=1, high=100_000
        ),
        device_burst=r.integer(q, "queue", "device_burst", default=100, low=1, high=1_000_000),
    )
    r.only_keys(q, "queue")
    r.only_keys(p, "priority")
    return rules


def _service(r: ConfigReader, t: dict[str, Any], i: int) -> ServiceConfig:
    where = f"service[{i}]"
    code = r.string(t, where, "code")
    if not re.fullmatch(r"[A-Z]", code):
        r.fail(where, "code", f"must be one capital letter, got {code!r}")
    quota = r.integer(t, where, "daily_quota", default=0, low=1, high=9999) or None
    service = ServiceConfig(
        code=ServiceCode(code),
        name=r.string(t, where, "name"),
        name_en=r.string(t, where, "name_en", default=""),
        daily_quota=quota,
        hours=r.hours(t, where, "hours"),
        uses_card=r.boolean(t, where, "uses_card", default=False),
        recording=r.boolean(t, where, "recording", default=False),
        nik_per_day=r.boolean(t, where, "nik_per_day", default=False),
    )
    r.only_keys(t, where)
    return service


def _stock(r: ConfigReader, data: dict[str, Any]) -> StockConfig:
    t = r.table(data, "stock")
    stock = StockConfig(
        warning=r.integer(t, "stock", "warning", default=50, low=0, high=100000),
        rate_days=r.integer(t, "stock", "rate_days", default=14, low=1, high=365),
    )
    r.only_keys(t, "stock")
    return stock


def _drive(r: ConfigReader, data: dict[str, Any]) -> DriveConfig:
    t = r.table(data, "drive")
    start = r.get(t, "drive", "start", "") or None  # a TOML date: start = 2026-11-01
    if start is not None and not isinstance(start, date):
        r.fail("drive", "start", f"must be a date like 2026-11-01, got {start!r}")
    targets = r.get(t, "drive", "targets", {})
    if not isinstance(targets, dict) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, int) and v >= 0
        for k, v in targets.items()
    ):
        r.fail("drive", "targets", "must map each kelurahan's name to a whole number >= 0")
    drive = DriveConfig(
        start=start,
        targets=dict(targets),
        rate_days=r.integer(t, "drive", "rate_days", default=28, low=1, high=365),
    )
    r.only_keys(t, "drive")
    return drive


def _booking(
    r: ConfigReader, data: dict[str, Any], codes: set[ServiceCode], base: Path
) -> BookingConfig:
    where = "booking"
    t = r.table(data, where)
    capacity = r.get(t, where, "capacity", {})
    if not isinstance(capacity, dict):
        r.fail(where, "capacity", "must be a table like { A = 15 }: service code = per slot")
    for code, n in capacity.items():
        if code not in codes:
            r.fail(where, "capacity", f"unknown service {code!r}")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 999:
            r.fail(where, "capacity", f"{code}: a whole number from 1 to 999, got {n!r}")
    booking = BookingConfig(
        secret_file=base / r.string(t, where, "secret_file", default="booking.secret"),
        capacity=dict(capacity),
        slot_minutes=r.integer(t, where, "slot_minutes", default=60, low=10, high=480),
        horizon_days=r.integer(t, where, "horizon_days", default=14, low=1, high=90),
        walk_in_percent=r.integer(t, where, "walk_in_percent", default=30, low=0, high=100),
        early_minutes=r.integer(t, where, "early_minutes", default=30, low=0, high=240),
        grace_minutes=r.integer(t, where, "grace_minutes", default=15, low=0, high=240),
        erase_after_days=r.integer(t, where, "erase_after_days", default=30, low=0, high=365),
        booked_share=r.integer(t, where, "booked_share", default=1, low=1, high=20),
        confirm_nik_last4=r.boolean(t, where, "confirm_nik_last4", default=False),
    )
    r.only_keys(t, where)
    return booking


_PREFIX = re.compile(r"^[A-Z]{1,2}$")


def _unit(r: ConfigReader, data: dict[str, Any], broker: BrokerConfig) -> UnitConfig | None:
    """[unit]: a mobile unit's id, prefix and the office broker it syncs to."""
    if "unit" not in data:
        return None
    t = r.table(data, "unit")
    unit_id = r.slug(t, "unit", "id")
    prefix = r.string(t, "unit", "prefix")
    if not _PREFIX.match(prefix):
        r.fail("unit", "prefix", f"one or two capital letters (K, KL), got {prefix!r}")
    home = None
    if "home_host" in t:
        home = replace(
            broker,
            host=r.string(t, "unit", "home_host"),
            port=r.integer(t, "unit", "home_port", default=1883, low=1, high=65535),
        )
    r.only_keys(t, "unit")
    return UnitConfig(unit_id, prefix, home)


def _mobile(r: ConfigReader, data: dict[str, Any]) -> dict[str, str]:
    """[mobile] units = { "keliling-1" = "K" }: the office's units and their prefixes."""
    t = r.table(data, "mobile")
    units = r.get(t, "mobile", "units", {})
    if not isinstance(units, dict) or not all(
        isinstance(k, str) and _SLUG.match(k) and isinstance(v, str) and _PREFIX.match(v)
        for k, v in units.items()
    ):
        r.fail("mobile", "units", 'map each unit id to its prefix: { "keliling-1" = "K" }')
    if len(set(units.values())) != len(units):
        r.fail("mobile", "units", "two units share a prefix: their codes would clash")
    r.only_keys(t, "mobile")
    return dict(units)


def _counter(r: ConfigReader, t: dict[str, Any], i: int, codes: set[ServiceCode]) -> CounterConfig:
    where = f"counter[{i}]"
    number = r.integer(t, where, "number", low=1, high=999)
    services = r.get(t, where, "services")
    if (
        not isinstance(services, list)
        or not services
        or not all(isinstance(s, str) for s in services)
    ):
        r.fail(where, "services", "must be a non-empty list of service codes")
    for s in services:
        if s not in codes:
            r.fail(where, "services", f"unknown service {s!r}")
    counter = CounterConfig(
        number=CounterNumber(number),
        name=r.string(t, where, "name", default=f"Loket {number}"),
        services=tuple(ServiceCode(s) for s in services),
    )
    r.only_keys(t, where)
    return counter


def _device(
    r: ConfigReader, t: dict[str, Any], i: int, counters: set[CounterNumber]
) -> DeviceConfig:
    where = f"device[{i}]"
    device_id = r.slug(t, where, "id")
    if device_id == RESERVED_DEVICE:
        r.fail(where, "id", f"{RESERVED_DEVICE!r} is the queue service's own id; choose another")
    role_name = r.string(t, where, "role")
    try:
        role = Role(role_name)
    except ValueError:
        roles = ", ".join(x.value for x in Role)
        r.fail(where, "role", f"must be one of {roles}, got {role_name!r}")
    if (role is Role.CENTRAL) != (device_id == CENTRAL_DEVICE):
        r.fail(where, "id", f"the device with role 'central' has id {CENTRAL_DEVICE!r}, only it")
    counter: CounterNumber | None = None
    if role is Role.COUNTER:
        counter = CounterNumber(r.integer(t, where, "counter", low=1, high=999))
        if counter not in counters:
            r.fail(where, "counter", f"no [[counter]] has number {counter}")
    elif "counter" in t:
        r.fail(where, "counter", "only a device with role 'counter' has a counter")
    r.only_keys(t, where)
    return DeviceConfig(DeviceId(device_id), role, counter)


def check_app_sections(config: Config) -> None:
    """Checks every app's sections as that app reads them at start (check-config, doctor)."""
    for module in APP_SECTIONS:
        importlib.import_module(module).check_sections(config)


def _known_sections(r: ConfigReader, data: dict[str, Any]) -> None:
    known = [*CORE_SECTIONS, *(name for names in APP_SECTIONS.values() for name in names)]
    for name in data:
        if name not in known:
            written = [f"[[{k}]]" if k in ARRAY_SECTIONS else f"[{k}]" for k in known]
            r.fail(name, "", "unknown section" + did_you_mean(name, known, written))


def did_you_mean(word: str, known: Iterable[str], written: Iterable[str] | None = None) -> str:
    """'; did you mean X?' for the closest known name, else the list of them all."""
    names = list(known)
    shown = dict(zip(names, written or names, strict=True))
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {shown[close[0]]}?"
    return f"; known: {', '.join(shown[n] for n in sorted(names))}"


def _unique(r: ConfigReader, values: list[Any], table: str, key: str) -> None:
    seen: set[Any] = set()
    for i, v in enumerate(values):
        if v in seen:
            r.fail(f"{table}[{i}]", key, f"{v!r} is used twice")
        seen.add(v)


def _toml_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else None


class ConfigReader:
    """Typed getters that fail with the key's dotted name and line."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source
        # Keys asked for, by table: a table's schema is what its parser reads,
        # so only_keys() needs no second list to keep in step with the code.
        self.asked: dict[str, set[str]] = {}

    def only_keys(
        self,
        t: dict[str, Any],
        where: str,
        allowed: Iterable[str] | None = None,
        context: str = "",
    ) -> None:
        """Fails on the first key of `t` that is not allowed (default: a key nothing asked for).

        Call it after the table's values are read; the error names the line and
        the closest known key, since an unknown key is nearly always a typo.
        """
        known = set(self.asked.get(where, ()) if allowed is None else allowed)
        for key in t:
            if key not in known:
                self.fail(where, key, f"unknown key{context}" + did_you_mean(key, known))

    def _ask(self, where: str, key: str) -> None:
        self.asked.setdefault(where, set()).add(key)

    def fail(self, where: str, key: str, message: str) -> NoReturn:
        dotted = f"{where}.{key}" if key else where
        raise ConfigError(self.source, self._line(where, key), dotted, message)

    def _line(self, where: str, key: str) -> int | None:
        """Finds the line of `key` in table `where` ("office", "service[2]").

        With no key, the table's own header (or its first sub-table's, or a
        top-level `where = ...`); a key may also be a sub-table `[where.key]`.
        """
        m = re.fullmatch(r"([\w.]+)(?:\[(\d+)\])?", where)
        if not m:
            return None
        table, index = m.group(1), int(m.group(2) or 0)
        seen, inside, top = -1, False, True
        for n, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            header = re.fullmatch(r"\[\[?\s*([\w.]+)\s*\]\]?(?:\s*#.*)?", line)
            if header:
                top, name = False, header.group(1)
                if name == table:
                    seen += 1
                    inside = seen == index
                    if inside and not key:
                        return n
                elif not name.startswith(f"{table}."):
                    inside = False
                elif not key and seen == -1:
                    return n  # [offic.hours] with no [offic] above it
                elif inside and key and f"{name}.".startswith(f"{table}.{key}."):
                    return n
                continue
            assigned = rf"{re.escape(key or table)}\s*[=.]"
            if (inside or (top and not key)) and re.match(assigned, line):
                return n
        return None

    def get(self, t: dict[str, Any], where: str, key: str, default: Any = None) -> Any:
        self._ask(where, key)
        if key in t:
            return t[key]
        if default is None:
            self.fail(where, key, "is required")
        return default

    def table(self, data: dict[str, Any], name: str, required: bool = False) -> dict[str, Any]:
        value = data.get(name)
        if value is None:
            if required:
                self.fail(name, "", "the section is required")
            return {}
        if not isinstance(value, dict):
            self.fail(name, "", "must be a table")
        return value

    def array(self, data: dict[str, Any], name: str) -> list[dict[str, Any]]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(name, "", f"must be written as [[{name}]] tables")
        return value

    def string(self, t: dict[str, Any], where: str, key: str, default: str | None = None) -> str:
        value = self.get(t, where, key, default)
        if not isinstance(value, str):
            self.fail(where, key, f"must be a string, got {value!r}")
        return value

    def slug(self, t: dict[str, Any], where: str, key: str) -> str:
        value = self.string(t, where, key)
        if not _SLUG.fullmatch(value):
            self.fail(where, key, f"use lower-case letters, digits and '-', got {value!r}")
        return value

    def boolean(self, t: dict[str, Any], where: str, key: str, default: bool) -> bool:
        value = self.get(t, where, key, default)
        if not isinstance(value, bool):
            self.fail(where, key, f"must be true or false, got {value!r}")
        return value

    def integer(
        self,
        t: dict[str, Any],
        where: str,
        key: str,
        default: int | None = None,
        low: int = 0,
        high: int = 2**31,
    ) -> int:
        self._ask(where, key)
        if key not in t and default is not None:
            return default
        value = self.get(t, where, key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(where, key, f"must be a whole number from {low} to {high}, got {value!r}")
        return value

    def zone(self, t: dict[str, Any], where: str, key: str, default: str) -> ZoneInfo:
        name = self.string(t, where, key, default)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(where, key, f"unknown time zone {name!r} (try 'Asia/Jakarta')")

    def hours(self, t: dict[str, Any], where: str, key: str) -> WeeklyHours | None:
        """Parses {"mon-thu" = "08:00-15:00", fri = "08:00-11:00"}; absent days are closed."""
        self._ask(where, key)
        if key not in t:
            return None
        value = t[key]
        if not isinstance(value, dict) or not value:
            self.fail(where, key, 'must be a table like { mon-thu = "08:00-15:00" }')
        hours: WeeklyHours = {}
        for days, span in value.items():
            sub = f"{where}.{key}"
            for day in self._days(sub, days):
                hours[day] = self._span(sub, days, span)
        return hours

    def _days(self, where: str, days: str) -> list[int]:
        first, _, last = days.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            self.fail(where, days, "days are mon, tue, wed, thu, fri, sat, sun or a range mon-thu")
        a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if b < a:
            self.fail(where, days, "a day range runs forwards, like mon-thu")
        return list(range(a, b + 1))

    def _span(self, where: str, days: str, span: Any) -> OpeningHours:
        m = _HOURS.fullmatch(span) if isinstance(span, str) else None
        if not m:
            self.fail(where, days, f'must look like "08:00-15:00", got {span!r}')
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h1, m1) >= (h2, m2):
            self.fail(where, days, f"{span!r} is not a valid opening time range")
        closes = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        return OpeningHours(time(h1, m1), closes)
