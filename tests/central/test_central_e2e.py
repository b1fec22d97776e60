"""The central service end to end: real brokers, bridges, queue services and PostgreSQL.

Three offices, each with its own secured Mosquitto bridged (as `antrean broker
bridge` writes it) to a central Mosquitto, and its own queue service, run a
busy short day. Meanwhile one office's bridge is cut and restored, the
central service is SIGKILLed and started again, and PostgreSQL is
restarted. A fourth office id publishes garbage on the central broker. At
the end each real office's logged events are in PostgreSQL exactly once,
with the same bodies, and the central counts of issued and served per
service equal the office's own figures.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from antrean.config import Config, parse_config
from antrean.device import NoAnswer
from antrean.runner import QueueServiceRunner
from antrean_testing.client import QueueClient
from antrean_testing.devpostgres import DevPostgres
from antrean_tools.broker.bridge import Bridge
from antrean_tools.broker.local import SecuredBroker as HubBroker
from antrean_tools.broker.provision import write_bridge
from antrean_tools.figures import period_figures, progress_figures
from central.figures import service_counts
from tests.support.broker_world import CentralBroker, wait_for
from tests.support.helpers import ROOT, FakeClock, example_text
from tests.support.mqtt5_probe import SUCCESS, Probe
from tests.support.stall_proxy import StallProxy

OFFICES = ("gajahmungkur", "tembalang", "banyumanik")
GARBAGE = "rusak"  # an office id of the centre whose "hub" publishes garbage
CENTRAL_DEVICE = '[[device]]\nid = "central"\nrole = "central"\n\n[[device]]\nid = "kiosk-1"'
DEFAULT_BROKER = 'host = "127.0.0.1"\nport = 1883\n'
LOCAL = ("kiosk-1", "counter-1", "counter-2", "counter-3", "counter-4")
TICKETS = 90  # per office: a short busy day (about 300 events each)


def office_config(folder: Path, office: str, broker_toml: str = DEFAULT_BROKER) -> Config:
    edit = {
        'id = "gajahmungkur"': f'id = "{office}"',
        '[[device]]\nid = "kiosk-1"': CENTRAL_DEVICE,
        DEFAULT_BROKER: broker_toml,
    }
    folder.mkdir(parents=True, exist_ok=True)
    text = example_text(hours=False, edit=edit)
    return parse_config(text, source=str(folder / "antrean.toml"), base_dir=folder)


class BridgedOffice:
    """A hub: its broker bridged to the centre through a proxy we can cut, its queue service."""

    def __init__(self, office: str, central: CentralBroker, tmp: Path) -> None:
        self.office = office
        folder = tmp / office
        self.hub = HubBroker(office_config(folder, office), (*LOCAL, "web"))  # web: state/ikm
        self.proxy = StallProxy(central.port)
        bridge = Bridge(office, "127.0.0.1", self.proxy.port, office,
                        central.passwords[office], central.files.ca_cert)  # fmt: skip
        path = write_bridge(self.hub.files, bridge, restart_timeout=(1, 2))
        (self.hub.conf_d / path.name).symlink_to(path)
        self.hub.start()
        clients = self.hub.files.clients
        hub_broker = (
            f'host = "127.0.0.1"\nport = {self.hub.local_port}\n'
            f'password_file = "{clients}/{{user}}.password"\n'
        )
        self.config = office_config(folder, office, hub_broker)
        self.clock = FakeClock()
        self.runner = QueueServiceRunner(self.config, self.clock).start()
        assert self.runner.mqtt.wait_connected(10)
        self.clients = {
            d: QueueClient(office, d, self.hub.loopback(d)).start(timeout=10) for d in LOCAL
        }

    def request(self, device: str, action: str, **args: Any) -> dict[str, Any]:
        for _ in range(5):
            try:
                return self.clients[device].request(action, args, timeout=5)
            except NoAnswer:
                continue
        raise AssertionError(f"{self.office}: no answer to {action}")

    def busy_day(self, tickets: int, seed: int) -> None:
        """Issues, calls and completes; some no-shows and transfers (about 3 events a ticket)."""
        rnd = random.Random(seed)
        for i in range(tickets):
            self.clock.advance(seconds=rnd.randint(5, 40))
            self.request("kiosk-1", "issue", service=rnd.choice("ABCD"))
            if i % 2:
                counter = f"counter-{rnd.randint(1, 4)}"
                called = self.request(counter, "call_next")
                if called["ok"]:
                    self.clock.advance(seconds=rnd.randint(30, 200))
                    action = "no_show" if rnd.random() < 0.1 else "complete"
                    self.request(counter, action)

    def store_events(self) -> dict[int, tuple[str, str]]:
        """seq -> (day, JSON) from the office's own store (read-only)."""
        uri = f"{self.config.store_path.resolve().as_uri()}?mode=ro"
        with sqlite3.connect(uri, uri=True) as db:
            return {s: (d, b) for s, d, b in db.execute("SELECT seq, day, body FROM events")}

    def figures(self) -> dict[str, tuple[int, int]]:
        return {k: (g.issued, g.served) for k, g in self.groups().items() if g.issued or g.served}

    def groups(self) -> dict[str, Any]:
        """The office's own report of its business day, per service (antrean report)."""
        uri = f"{self.config.store_path.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True)
        try:
            day = self.runner.service.engine.day
            period = period_figures(db, day, day, self.config.office.timezone)
        finally:
            db.close()
        return period.groups["service"]

    def drive(self) -> dict[str, Any]:
        """The office's own report of its drive (the kecamatan's row)."""
        uri = f"{self.config.store_path.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True)
        try:
            day = self.runner.service.engine.day
            return progress_figures(db, day, day, self.config.drive)["kecamatan"]  # type: ignore[no-any-return]
        finally:
            db.close()

    def cut(self) -> None:
        self.proxy.stall()
        self.proxy.drop()

    def restore(self) -> None:
        self.proxy.flow()

    def close(self) -> None:
        for c in self.clients.values():
            c.stop()
        self.runner.stop()
        self.proxy.close()
        self.hub.cleanup()


class Central:
    """`antrean central` as a process (so that it can be SIGKILLed)."""

    def __init__(
        self, tmp: Path, broker: CentralBroker, pg: DevPostgres, ids: tuple[str, ...] = ()
    ) -> None:
        secret = tmp / "central-password"
        secret.write_text(broker.central_password + "\n")
        self.config = tmp / "central.toml"
        offices = ", ".join(f'"{o}"' for o in (ids or (*OFFICES, GARBAGE)))
        self.config.write_text(
            f'[central]\ndsn = "{pg.dsn}"\noffices = [{offices}]\n\n'
            f'[broker]\nhost = "127.0.0.1"\nport = {broker.port}\n'
            f'username = "{broker.CENTRAL}"\npassword_file = "{secret}"\n'
            f'tls_ca = "{broker.files.ca_cert}"\n'
        )
        self.log = tmp / "central.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        code = "import sys; from antrean_tools.cli import main; sys.exit(main(sys.argv[1:]))"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, "central", "--config", str(self.config)],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        assert self.proc is not None
        assert self.proc.poll() is None, self.log.read_text()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        return self.proc.returncode


@contextlib.contextmanager
def open_world(offices: tuple[str, ...], others: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    """PostgreSQL, the central broker (logins for offices and others), the offices, central."""
    tmp = Path(tempfile.mkdtemp(prefix="antrean-central-e2e-"))
    pg = DevPostgres().start()
    broker = CentralBroker(*offices, *others)
    broker.start()
    hubs: list[BridgedOffice] = []
    central = Central(tmp, broker, pg, (*offices, *others))
    try:
        hubs.extend(BridgedOffice(o, broker, tmp) for o in offices)
        yield {"pg": pg, "broker": broker, "offices": hubs, "central": central}
    finally:
        central.stop() if central.proc else None
        for o in hubs:
            o.close()
        broker.cleanup()
        pg.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with open_world(OFFICES, (GARBAGE,)) as w:
        yield w


def central_events(pg: DevPostgres, office: str) -> dict[int, tuple[str, Any]] | None:
    try:
        with psycopg.connect(pg.dsn) as conn:
            rows = conn.execute(
                "SELECT seq, day::text, body FROM events WHERE office = %s", (office,)
            ).fetchall()
    except psycopg.Error:
        return None  # not migrated yet, or restarting
    return {s: (d, b) for s, d, b in rows}


def offices_seen(pg: DevPostgres) -> set[str]:
    """The offices whose retained state/office the central service has stored."""
    with psycopg.connect(pg.dsn) as conn:
        rows = conn.execute("SELECT office FROM office_state WHERE topic = 'office'")
        return {o for (o,) in rows}


def assert_stored_once(pg: DevPostgres, o: BridgedOffice, timeout: float) -> dict[int, Any]:
    """Waits until every event in the office's store is in PostgreSQL; checks once, same body."""
    want = o.store_events()

    def complete() -> bool:
        have = central_events(pg, o.office)
        return have is not None and set(have) == set(want)

    wait_for(complete, timeout, f"every event of {o.office} in PostgreSQL")
    have = central_events(pg, o.office)
    assert have is not None
    for seq, (d, body) in want.items():
        assert have[seq] == (d, json.loads(body)), (o.office, seq)
    with psycopg.connect(pg.dsn) as conn:
        (n,) = conn.execute(
            "SELECT count(*) FROM events WHERE office = %s", (o.office,)
        ).fetchone() or (0,)
        (quarantined,) = conn.execute(
            "SELECT count(*) FROM quarantine WHERE office = %s", (o.office,)
        ).fetchone() or (0,)
    assert n == len(want)  # exactly once
    assert quarantined == 0
    return want


def publish_garbage(broker: CentralBroker) -> None:
    """What a broken hub sends: not JSON, a seq that comes back, a flood of junk."""
    junk = Probe(broker.office_login(GARBAGE), f"antrean-bridge-{GARBAGE}")
    assert junk.connect() == SUCCESS
    r = f"antrean/v1/{GARBAGE}"
    good = '{"seq": %d, "kind": "issued", "at": "2026-11-26T02:00:00+00:00", "day": "2026-11-26"}'
    for seq in (1, 2, 3):
        junk.publish(f"{r}/event/issued", (good % seq).encode())
    junk.publish(f"{r}/event/issued", b"{not json")
    junk.publish(f"{r}/event/issued", (good % 2).replace("02:00", "03:00").encode())  # reused
    for i in range(3000):
        junk.publish(f"{r}/event/called", b"\xff\xfe flood %d" % i)
    junk.close()


def test_every_event_reaches_postgresql_once_through_cuts_kills_and_restarts(
    world: dict[str, Any],
) -> None:
    pg: DevPostgres = world["pg"]
    offices: list[BridgedOffice] = world["offices"]
    central: Central = world["central"]
    central.start()

    def day(o: BridgedOffice, part: int) -> None:
        o.busy_day(TICKETS // 3, seed=hash((o.office, part)) & 0xFFFF)

    def run_part(part: int, during: Any) -> None:
        threads = [threading.Thread(target=day, args=(o, part)) for o in offices]
        for t in threads:
            t.start()
        during()
        for t in threads:
            t.join(120)

    wait_for(lambda: central_events(pg, OFFICES[0]) is not None, 30, "the central schema")
    wait_for(lambda: len(offices_seen(pg)) == len(OFFICES), 30, "the offices' retained state")
    run_part(1, lambda: publish_garbage(world["broker"]))
    offices[0].cut()  # the first office's link goes down; it goes on serving

    def kill_and_start() -> None:
        time.sleep(1.0)
        central.kill()  # mid-stream
        time.sleep(1.0)
        central.start()

    run_part(2, kill_and_start)
    offices[0].restore()

    def restart_postgresql() -> None:
        # After the restarted central service is writing again, not while it starts.
        wait_for(
            lambda: central.log.read_text().count("central service running") == 2, 20, "restart"
        )
        time.sleep(0.5)
        pg.restart()

    run_part(3, restart_postgresql)

    for o in offices:
        want = assert_stored_once(pg, o, 120)
        assert len(want) > 150, f"{o.office}: a busy day has hundreds of events"
        with psycopg.connect(pg.dsn) as conn:
            counts = service_counts(conn, o.office, o.runner.service.engine.day)
        assert counts == o.figures()

    with psycopg.connect(pg.dsn) as conn:
        reasons = [r for (r,) in conn.execute(
            "SELECT reason FROM quarantine WHERE office = %s ORDER BY id", (GARBAGE,))]  # fmt: skip
        flagged = conn.execute("SELECT flagged FROM offices WHERE office = %s", (GARBAGE,))
        kept = conn.execute("SELECT seq FROM events WHERE office = %s ORDER BY seq", (GARBAGE,))
        assert [s for (s,) in kept] == [1, 2, 3]
        assert flagged.fetchone() is not None
    assert any(r.startswith("malformed: not JSON") for r in reasons)
    assert any(r.startswith("seq_reused: seq 2") for r in reasons)
    assert sum(r.startswith("malformed") or r.startswith("flood") for r in reasons) >= 3
    assert central.stop() == 0
    log = central.log.read_text()
    assert "asked for the events after" in log  # the gaps were filled by replay
    assert "PostgreSQL is away" in log  # the restart hit a write, which was kept and retried
