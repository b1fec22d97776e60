"""The MQTT contract (v1): topics, command parsing, roles, and retained state payloads.

docs/protocol.md is the prose version of this module; keep them together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from antrean import __version__
from antrean.config import RESERVED_DEVICE, Config, DeviceConfig
from antrean.domain import QueueError, Role, iso_time
from antrean.engine import Engine
from antrean.hours import hours_view

ROOT = "antrean/v1"
MAX_PAYLOAD = 16 * 1024  # a command is a few hundred bytes; anything near this is abuse
QUEUE_DEVICE = RESERVED_DEVICE  # the queue service's own id in device/{id}/status


def cmd_topic(office: str, device: str) -> str:
    return f"{ROOT}/{office}/cmd/{device}"


def reply_topic(office: str, device: str) -> str:
    return f"{ROOT}/{office}/reply/{device}"


def event_topic(office: str, kind: str) -> str:
    return f"{ROOT}/{office}/event/{kind}"


def state_topic(office: str, *parts: object) -> str:
    return "/".join([ROOT, office, "state", *(str(p) for p in parts)])


def status_topic(office: str, device: str) -> str:
    return f"{ROOT}/{office}/device/{device}/status"


# action -> {arg: (type, required)}. `counter` defaults to a counter device's own.
ARGS: dict[str, dict[str, tuple[type, bool]]] = {
    "issue": {"service": (str, True), "priority": (bool, False)},
    "call_next": {"counter": (int, True)},
    "recall": {"counter": (int, True)},
    "no_show": {"counter": (int, True)},
    "complete": {"counter": (int, True), "kelurahan": (str, False)},
    "transfer": {"counter": (int, True), "service": (str, True)},
    "call_ticket": {"counter": (int, True), "code": (str, True)},
    "requeue": {"code": (str, True)},
    "cancel": {"code": (str, True)},
    "counter_open": {"counter": (int, True)},
    "counter_close": {"counter": (int, True)},
    "service_open": {"service": (str, True)},
    "service_close": {"service": (str, True), "reason": (str, False)},
    "set_running_text": {"text": (str, True)},
    "snapshot": {},
    # issue 14: blank cards and the drive's targets (rules: antrean/stock.py, progress.py)
    "stock_receive": {
        "count": (int, True),
        "note": (str, True),
        "day": (str, False),
        "user": (str, False),
    },
    "stock_spoil": {"count": (int, True), "reason": (str, True), "user": (str, False)},
    "stock_adjust": {"count": (int, True), "reason": (str, True), "user": (str, False)},
    "drive_target": {"kelurahan": (str, True), "target": (int, True), "user": (str, False)},
}

ALLOWED: dict[Role, frozenset[str]] = {
    Role.KIOSK: frozenset({"issue", "snapshot"}),
    Role.BOARD: frozenset({"snapshot"}),
    Role.COUNTER: frozenset(
        {
            "call_next",
            "recall",
            "no_show",
            "complete",
            "transfer",
            "call_ticket",
            "requeue",
            "cancel",
            "counter_open",
            "counter_close",
            "service_open",
            "service_close",
            "snapshot",
            "stock_spoil",  # issue 14: a failed print at the counter
        }
    ),
    Role.ADMIN: frozenset(ARGS),
}


_TYPE_WORDS = {str: "teks", int: "bilangan bulat", bool: "true atau false"}
READ_ONLY = frozenset({"snapshot"})  # answered fresh each time, never remembered


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed, validated command from one device."""

    id: str
    device: DeviceConfig
    action: str
    args: dict[str, Any]


def parse_command(config: Config, device_id: str, payload: bytes) -> Command:
    """Validates a command payload; raises QueueError (with the id when known)."""
    if len(payload) > MAX_PAYLOAD:
        raise QueueError("too_large", f"Perintah lebih dari {MAX_PAYLOAD} byte.")
    try:
        # UTF-8 only (json.loads would guess UTF-16/32 from bytes); a deeply
        # nested payload raises RecursionError, which must not reach the worker.
        body = json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise QueueError("bad_request", f"JSON UTF-8 tidak valid: {exc}") from exc
    if not isinstance(body, dict):
        raise QueueError("bad_request", "Perintah harus objek JSON {id, action, args}.")
    cmd_id = body.get("id")
    if not isinstance(cmd_id, str) or not 1 <= len(cmd_id) <= 128 or not _is_text(cmd_id):
        raise QueueError("bad_request", "Field id harus teks 1-128 karakter.")
    try:
        return _validate(config, device_id, cmd_id, body)
    except QueueError as exc:
        exc.details.setdefault("id", cmd_id)
        raise


def _is_text(value: object) -> bool:
    """False for lone surrogates, which JSON escapes can smuggle in (a backslash,
    "ud800"): they are not text, and SQLite and every later encode fail on them."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _validate(config: Config, device_id: str, cmd_id: str, body: dict[str, Any]) -> Command:
    if not _is_text(body):
        raise QueueError("bad_request", "Perintah berisi teks yang bukan UTF-8 yang sah.")
    extra = set(body) - {"id", "action", "args"}
    if extra:
        raise QueueError("bad_request", f"Field tidak dikenal: {', '.join(sorted(extra))}.")
    device = config.device(device_id)
    if device is None:
        raise QueueError("unknown_device", f"Perangkat {device_id} tidak terdaftar.")
    action = body.get("action")
    if not isinstance(action, str):
        raise QueueError("bad_request", "Field 'action' harus teks.")
    spec = ARGS.get(action)
    if spec is None:
        raise QueueError("unknown_action", f"Aksi {action} tidak dikenal.")
    args = body.get("args", {})
    if not isinstance(args, dict):
        raise QueueError("bad_request", "Field 'args' harus objek JSON.")
    args = dict(args)
    if device.counter is not None and "counter" in spec:
        args.setdefault("counter", device.counter)
    unknown = set(args) - set(spec)
    if unknown:
        raise QueueError("bad_request", f"Argumen tidak dikenal: {', '.join(sorted(unknown))}.")
    for name, (kind, required) in spec.items():
        if name not in args:
            if required:
                raise QueueError("bad_request", f"Argumen {name} wajib diisi.")
            continue
        value = args[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise QueueError("bad_request", f"Argumen {name} harus {_TYPE_WORDS[kind]}.")
    command = Command(cmd_id, device, action, args)
    authorize(config, command)
    return command


def authorize(config: Config, command: Command) -> None:
    """Refuses what the device's role does not allow (`forbidden`)."""
    device, action, args = command.device, command.action, command.args
    if action not in ALLOWED[device.role]:
        raise QueueError(
            "forbidden", f"Perangkat {device.id} ({device.role}) tidak boleh {action}."
        )
    if device.role is not Role.COUNTER:
        return
    if "counter" in args and args["counter"] != device.counter:
        raise QueueError("forbidden", f"Perangkat {device.id} hanya untuk loket {device.counter}.")
    if action in ("service_open", "service_close"):
        own = config.counter(device.counter or 0)
        if own is None or args["service"] not in own.services:
            raise QueueError("forbidden", f"Loket {device.counter} tidak melayani layanan ini.")


def reply_ok(cmd_id: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"id": cmd_id, "ok": True, "result": result}


def reply_error(cmd_id: str | None, error: QueueError) -> dict[str, Any]:
    details = {k: v for k, v in error.as_dict().items() if k != "id"}
    return {"id": cmd_id, "ok": False, "error": details}


# ---- retained state payloads ------------------------------------------------


def service_state(engine: Engine, code: str) -> dict[str, Any]:
    """state/service/{code}: whether residents can take a number, and how long it takes."""
    cfg = engine.config.service(code)
    assert cfg is not None
    waiting = engine.lanes.count(cfg.code)
    status = engine.services[cfg.code]
    refusal = engine.refusal(cfg.code)
    last_called = engine.lanes.last_called(cfg.code)
    last = engine.last_number[cfg.code]
    return {
        "code": cfg.code,
        "name": cfg.name,
        "name_en": cfg.name_en,
        "day": str(engine.day),
        "open": status.open,
        "reason": status.reason,
        "accepting": refusal is None,
        "refusal": refusal.as_dict() if refusal else None,
        "waiting": waiting,
        "waiting_priority": engine.lanes.count(cfg.code, priority_only=True),
        "last_issued": f"{cfg.code}{last:03d}" if last else None,
        "last_called": last_called.code if last_called else None,
        "estimated_wait_s": engine.estimated_wait_s(cfg.code, waiting),
        "counters_open": engine.counters_open(cfg.code),
        "quota": cfg.daily_quota,
        "issued": last,
        "hours": hours_view(cfg.hours or engine.config.office.hours),
    }


def counter_state(engine: Engine, number: int) -> dict[str, Any]:
    """state/counter/{number}: open or closed, and the ticket being served."""
    cfg = engine.config.counter(number)
    assert cfg is not None
    status = engine.counters[cfg.number]
    current = engine.tickets.get(status.current) if status.current else None
    return {
        "number": cfg.number,
        "name": cfg.name,
        "open": status.open,
        "services": list(cfg.services),
        "current": engine.ticket_view(current) if current else None,
    }


def calls_state(engine: Engine) -> dict[str, Any]:
    """state/calls: the most recent calls, newest first."""
    calls = []
    for t in engine.recent_calls():
        counter = engine.config.counter(t.counter) if t.counter else None
        calls.append(
            {
                "code": t.code,
                "service": t.service,
                "priority": t.priority,
                "counter": t.counter,
                "counter_name": counter.name if counter else None,
                "called_at": iso_time(t.last_called_at),
                "recalls": t.recalls,
                "status": t.status.value,
            }
        )
    return {"day": str(engine.day), "calls": calls}


def office_state(engine: Engine) -> dict[str, Any]:
    """state/office: name, business day, hours, running text and the last event seq."""
    office, rules = engine.config.office, engine.rules
    return {
        "id": office.id,
        "name": office.name,
        "day": str(engine.day),
        "timezone": office.timezone.key,
        "hours": hours_view(office.hours),
        "running_text": engine.running_text,
        "seq": engine.seq,
        "priority": {
            "enabled": rules.priority_enabled,
            "name": rules.priority_name,
            "description": rules.priority_description,
            "ratio": rules.priority_ratio,
        },
        "services": [s.code for s in engine.config.services],
        "counters": [c.number for c in engine.config.counters],
        "version": __version__,
    }


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything a client needs to draw itself, in one reply."""
    return {
        "office": office_state(engine),
        "services": [service_state(engine, s.code) for s in engine.config.services],
        "counters": [counter_state(engine, c.number) for c in engine.config.counters],
        "calls": calls_state(engine),
        "stock": engine.stock_view(),  # issue 14
        "drive": drive_state(engine),
    }


def drive_state(engine: Engine) -> dict[str, Any]:
    """The drive's kelurahan and targets (the console's buttons; issue 14)."""
    recording = [s.code for s in engine.config.services if s.recording]
    return {"recording_services": recording, "targets": dict(engine.targets)}
