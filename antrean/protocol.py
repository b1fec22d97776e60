"""The MQTT contract (v1): topics, and commands parsed and authorized from the action table.

docs/protocol.md is the prose version; the payloads themselves are built in antrean.wire.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from antrean.actions import ACTIONS, Action
from antrean.config import RESERVED_DEVICE, Config, DeviceConfig
from antrean.domain import QueueError, Role

ROOT = "antrean/v1"
MAX_PAYLOAD = 16 * 1024  # a command is a few hundred bytes; anything near this is abuse
QUEUE_DEVICE = RESERVED_DEVICE  # the queue service's own id in device/{id}/status


def queue_user(office: str) -> str:
    """The queue service's MQTT user: its client id (see antrean.runner)."""
    return f"antrean-queue-{office}"


def queue_staff_user(office: str) -> str:
    """The queue service's second session, which hears only the counters and admin."""
    return f"antrean-queue-{office}-staff"


def sync_user(unit: str) -> str:
    """A mobile unit's sync client's MQTT user and client id on the office broker (issue 13)."""
    return f"antrean-sync-{unit}"


def cmd_topic(office: str, device: str) -> str:
    return f"{ROOT}/{office}/cmd/{device}"


def reply_topic(office: str, device: str) -> str:
    return f"{ROOT}/{office}/reply/{device}"


def event_topic(office: str, kind: str) -> str:
    return f"{ROOT}/{office}/event/{kind}"


def state_topic(office: str, *parts: object) -> str:
    return "/".join([ROOT, office, "state", *(str(p) for p in parts)])


def sync_topic(office: str, unit: str, leg: str) -> str:
    """A mobile unit's sync topics (issue 13): leg "up" (the unit's items), "ack" (the office's).

    "status" is the unit's retained outbox heads, for the office web.
    """
    return f"{ROOT}/{office}/sync/{unit}/{leg}"


def status_topic(office: str, device: str) -> str:
    return f"{ROOT}/{office}/device/{device}/status"


_TYPE_WORDS = {str: "teks", int: "bilangan bulat", bool: "true atau false", list: "daftar"}


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed, validated command from one device."""

    id: str
    device: DeviceConfig
    action: Action
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
    suspect = _may_hold_surrogates(payload)
    if (
        not isinstance(cmd_id, str)
        or not 1 <= len(cmd_id) <= 128
        or (suspect and not _is_text(cmd_id))
    ):
        raise QueueError("bad_request", "Field id harus teks 1-128 karakter.")
    try:
        return _validate(config, device_id, cmd_id, body, suspect)
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


def _may_hold_surrogates(payload: bytes) -> bool:
    """Whether the JSON has a \\uD800-\\uDFFF escape: UTF-8 itself cannot carry a
    surrogate, so only such an escape can, and most commands have none."""
    return _SURROGATE_ESCAPE.search(payload) is not None


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _validate(
    config: Config, device_id: str, cmd_id: str, body: dict[str, Any], check_text: bool
) -> Command:
    if check_text and not _is_text(body):
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
    known = ACTIONS.get(action)
    if known is None:
        raise QueueError("unknown_action", f"Aksi {action} tidak dikenal.")
    spec = known.args
    args = body.get("args", {})
    if not isinstance(args, dict):
        raise QueueError("bad_request", "Field 'args' harus objek JSON.")
    args = dict(args)
    if device.counter is not None and "counter" in spec:
        args.setdefault("counter", device.counter)
    unknown = set(args) - set(spec)
    if unknown:
        raise QueueError("bad_request", f"Argumen tidak dikenal: {', '.join(sorted(unknown))}.")
    for name, arg in spec.items():
        if name not in args:
            if arg.required:
                raise QueueError("bad_request", f"Argumen {name} wajib diisi.")
            continue
        value = args[name]
        if not isinstance(value, arg.type) or (arg.type is int and isinstance(value, bool)):
            raise QueueError("bad_request", f"Argumen {name} harus {_TYPE_WORDS[arg.type]}.")
    command = Command(cmd_id, device, known, args)
    authorize(config, command)
    return command


def authorize(config: Config, command: Command) -> None:
    """Refuses what the device's role does not allow (`forbidden`)."""
    device, action, args = command.device, command.action.name, command.args
    if device.role not in command.action.roles:
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
