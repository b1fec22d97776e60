"""docs/protocol.md's JSON examples against what the real queue service publishes.

Every example event, reply and retained state in the reference must have the
shape (the same keys, nested the same way, the same kinds of values) of a
message captured from a running service: the wire format is the contract.
"""

from __future__ import annotations

import json
import re
from typing import Any

from antrean import protocol
from tests.support.helpers import ROOT, Office
from tests.support.mqtt_watch import Watcher

DOC = ROOT / "docs" / "protocol.md"
# Example blocks in these sections show other programs' payloads or a shell session.
SKIPPED_SECTIONS = ("Kiosk health", "A command for another office")


def examples() -> list[tuple[str, Any]]:
    """(nearest ### heading, parsed JSON) for each ```json block of the reference."""
    heading, out = "", []
    for m in re.finditer(r"^(#+) ([^\n]*)$|^```json\n(.*?)^```", DOC.read_text(), re.M | re.S):
        if m.group(2) is not None:
            heading = m.group(2).strip()
        elif heading not in SKIPPED_SECTIONS:
            out.append((heading, json.loads(m.group(3))))
    return out


def shape_mismatch(doc: Any, real: Any, where: str = "$") -> str | None:
    """Where `doc` and `real` differ in shape, or None. {"...": x} stands for anything."""
    if isinstance(doc, dict) and set(doc) == {"..."}:
        return None
    if doc is None or real is None:
        return None  # a nullable field, shown once set and once not
    if isinstance(doc, dict):
        if not isinstance(real, dict):
            return f"{where}: object in the docs, {type(real).__name__} on the wire"
        if set(doc) != set(real):
            return f"{where}: docs {sorted(doc)} != wire {sorted(real)}"
        for key in doc:
            found = shape_mismatch(doc[key], real[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(doc, list):
        if not isinstance(real, list):
            return f"{where}: list in the docs, {type(real).__name__} on the wire"
        if doc and real:
            return shape_mismatch(doc[0], real[0], f"{where}[0]")
        return None
    if type(doc) is not type(real) and {type(doc), type(real)} != {int, float}:
        return f"{where}: {type(doc).__name__} in the docs, {type(real).__name__} on the wire"
    return None


def _capture(office: Office, watcher: Watcher) -> dict[str, list[dict[str, Any]]]:
    """Drives the example office through every kind of message the reference shows."""
    replies: dict[str, list[dict[str, Any]]] = {}

    def send(device: str, action: str, **args: Any) -> None:
        replies.setdefault(action, []).append(office.request(device, action, **args))

    send("kiosk-1", "issue", service="A")
    send("kiosk-1", "issue", service="A", priority=True)
    send("kiosk-1", "issue", service="C")
    send("counter-1", "call_next")
    send("counter-1", "recall")
    send("counter-1", "no_show")
    send("counter-1", "call_next")
    send("counter-1", "complete")
    send("counter-3", "call_next")
    send("counter-3", "transfer", service="A")
    send("counter-1", "call_ticket", code="A001")
    send("counter-1", "counter_close")
    send("admin", "requeue", code="A002")
    send("kiosk-1", "issue", service="B")
    send("admin", "cancel", code="B001")
    send("admin", "counter_open", counter=2)
    send("admin", "service_close", service="B", reason="Blanko KTP-el habis")
    send("kiosk-1", "issue", service="B")
    send("admin", "service_open", service="B")
    send("admin", "set_running_text", text="Selamat datang")
    send("kiosk-1", "call_next", counter=1)
    send("board-1", "snapshot")
    send("counter-2", "status")
    token = replies["issue"][0]["result"]["token"]
    send("web", "tickets_by_token", tokens=[token])
    office.client("kiosk-1").send_raw(b"not json")
    watcher.wait_for(lambda t, p: t.endswith("/event/running_text"))
    office.clock.advance(days=1)
    watcher.wait_for(lambda t, p: t.endswith("/event/day_started"), timeout=10)
    return replies


def test_every_json_example_has_the_shape_of_the_wire(office: Office) -> None:
    root = f"{protocol.ROOT}/{office.config.office.id}"
    watcher = Watcher(office.config.broker, f"{root}/event/#")
    for topic_filter in ("state/#", "reply/#", f"device/{protocol.QUEUE_DEVICE}/status"):
        watcher.mqtt.subscribe(f"{root}/{topic_filter}", watcher._on)
    watcher.start()
    try:
        replies = _capture(office, watcher)
        by_topic: dict[str, list[dict[str, Any]]] = {}
        for topic, payload in watcher.messages:
            by_topic.setdefault(topic[len(root) + 1 :], []).append(payload)
    finally:
        watcher.stop()
    events = {p["kind"]: p for t, ps in by_topic.items() if t.startswith("event/") for p in ps}
    states = {
        "Service state": by_topic["state/service/A"][-1],
        "Counter state": next(p for p in by_topic["state/counter/1"] if p["current"]),
        "Recent calls": by_topic["state/calls"][-1],
        "Office state": by_topic["state/office"][-1],
    }
    errors = {r["error"]["code"]: r for rs in replies.values() for r in rs if not r["ok"]}
    checked, problems = 0, []
    for heading, doc in examples():
        if not isinstance(doc, dict) or "action" in doc:
            continue  # a command, not something the service publishes
        if "kind" in doc:
            real = events.get(doc["kind"])
        elif "ok" in doc and not doc["ok"]:
            real = errors.get(doc["error"]["code"])
        elif "ok" in doc:
            real = replies.get(heading, replies["issue"])[0]
        elif heading in states and "online" not in doc:
            real = states[heading]
        elif "online" in doc and doc.get("role") == "queue":
            real = by_topic[f"device/{protocol.QUEUE_DEVICE}/status"][-1]
        elif heading in ("snapshot", "status"):
            real = replies[heading][0]["result"]
        else:
            continue
        if real is None:
            continue  # an example of a refusal this scenario does not provoke
        checked += 1
        found = shape_mismatch(doc, real)
        if found:
            problems.append(f"{heading}: {found}")
    assert not problems, "\n".join(problems)
    assert checked >= 20, checked
