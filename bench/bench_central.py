"""Central ingest: many offices' events over one Mosquitto into `antrean central` and PostgreSQL.

A private PostgreSQL (antrean_testing.devpostgres), one plain Mosquitto and
`antrean central` as its own process, configured for OFFICES office ids.
The bench is every office's bridge at once: per office it publishes a
retained `state/office` (seq 0), then a busy day's events in seq order,
offices interleaved (one event of each office per round, as 500 bridges
would deliver them). It keeps at most BACKLOG events published but not yet
in PostgreSQL, so the broker's queue for the central service never
overflows (that would make gaps the offices would have to replay, and
nobody here answers a replay): the rate is what the central service takes.

"In PostgreSQL" is `sum(offices.contiguous)`, which the service moves in
the same transaction that writes the events. It prints events/s, the central
process's CPU (user+system over wall) and RSS, PostgreSQL's CPU, and the
headroom for 576 kecamatan (docs/central.md).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from antrean.mqtt import MqttClient
from antrean_testing.devbroker import DevBroker
from antrean_testing.devpostgres import DevPostgres
from bench.common import PYTHON, Result, broker_config, main, rss_mib, spawn, stop_process

KECAMATAN = 576  # Central Java's kecamatan (issue 16)
# One kecamatan's peak day, as the drive's busiest offices run it: 600 tickets,
# about 3 events each (issued, called, served/no_show), in 7 opening hours.
PEAK_TICKETS, EVENTS_PER_TICKET, OPEN_H = 600, 3, 7
BACKLOG = 5_000
KINDS = ("issued", "called", "served")


def _cpu_s(pid: int) -> float:
    """utime + stime of a process, seconds (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu_s(pg: DevPostgres) -> float:
    """The postmaster's and its children's CPU (the backends that do the writing)."""
    pid = int((pg.data / "postmaster.pid").read_text().split()[0])
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = _cpu_s(pid)
    for child in children:
        try:
            total += _cpu_s(int(child))
        except FileNotFoundError:
            continue  # a backend that ended meanwhile
    return total


def _body(seq: int, day: str, at: datetime) -> bytes:
    n = (seq + 2) // 3
    ticket = {"id": f"{day}/A{n:03d}", "code": f"A{n:03d}", "service": "A"}
    if seq % 3 != 1:
        ticket["counter"] = 1 + n % 4
    body = {"seq": seq, "kind": KINDS[(seq - 1) % 3], "at": at.isoformat(), "day": day,
            "ticket": ticket}  # fmt: skip
    return json.dumps(body).encode()


def run(quick: bool) -> Result:  # noqa: PLR0915 - one run, start to end, in order
    offices = 100 if quick else 500
    per_office = 60 if quick else 120
    result = Result("central ingest")
    tmp = Path(tempfile.mkdtemp(prefix="antrean-bench-central-"))
    pg = DevPostgres().start()
    broker = DevBroker().start()
    ids = [f"kec{i:03d}" for i in range(offices)]
    config = tmp / "central.toml"
    config.write_text(
        f'[central]\ndsn = "{pg.dsn}"\noffices = {json.dumps(ids)}\n\n'
        f'[broker]\nhost = "127.0.0.1"\nport = {broker.port}\n'
    )
    script = Path(PYTHON).parent / "antrean"
    argv = [str(script), "central", "--config", str(config)] if script.exists() else [
        PYTHON, "-m", "antrean_tools.cli", "central", "--config", str(config)]  # fmt: skip
    central = spawn(argv, tmp / "central.log")
    bus = MqttClient(f"bench-bridges-{os.getpid()}", broker_config(broker.port))
    bus.start()
    try:
        assert bus.wait_connected(10), "the bench cannot reach its broker"
        db = psycopg.connect(pg.dsn, autocommit=True)

        def stored() -> int:
            try:
                row = db.execute("SELECT coalesce(sum(contiguous), 0) FROM offices").fetchone()
            except psycopg.errors.UndefinedTable:
                return -1  # not migrated yet
            return int(row[0]) if row else 0

        def office_states() -> int:
            row = db.execute("SELECT count(*) FROM office_state").fetchone()
            return int(row[0]) if row else 0

        deadline = time.monotonic() + 60
        while stored() < 0 or office_states() < offices:
            if central.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"antrean central did not come up: see {tmp}/central.log")
            for office in ids:  # the retained state, as each bridge sends it on connect
                state = {"seq": 0, "name": office, "day": "2026-12-01"}
                bus.publish(f"antrean/v1/{office}/state/office", state, retain=True)
            time.sleep(1)
        rss_idle = rss_mib(central.pid)
        day, start_at = "2026-12-01", datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
        total = offices * per_office
        cpu0, pg_cpu0, t0 = _cpu_s(central.pid), _postgres_cpu_s(pg), time.perf_counter()
        sent, rss_peak = 0, rss_idle
        for seq in range(1, per_office + 1):
            at = start_at + timedelta(seconds=seq * 25)
            payload = _body(seq, day, at)
            for office in ids:
                while not bus.publish(f"antrean/v1/{office}/event/{KINDS[(seq - 1) % 3]}", payload):
                    time.sleep(0.01)  # paho's queue is full: a bridge waits too
            sent += offices
            while sent - stored() > BACKLOG:
                time.sleep(0.05)
                rss_peak = max(rss_peak, rss_mib(central.pid))
        while (have := stored()) < total:
            if time.perf_counter() - t0 > 600:
                raise RuntimeError(f"only {have} of {total} events stored after 600 s")
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        cpu, pg_cpu = _cpu_s(central.pid) - cpu0, _postgres_cpu_s(pg) - pg_cpu0
        rss_peak = max(rss_peak, rss_mib(central.pid))
        row = db.execute("SELECT count(*), count(DISTINCT (office, seq)) FROM events").fetchone()
        rows, distinct = row if row else (0, 0)
        (quarantined,) = db.execute("SELECT count(*) FROM quarantine").fetchone() or (0,)
        db.close()
    finally:
        bus.stop()
        stop_process(central)
        broker.stop()
        pg.cleanup()
    load = os.getloadavg()
    rate = total / wall
    peak_day = PEAK_TICKETS * EVENTS_PER_TICKET
    need = KECAMATAN * peak_day / (OPEN_H * 3600)  # events/s, all kecamatan at their peak day
    print(f"{offices} offices x {per_office} events = {total:,} events in {wall:.1f} s")
    print(f"stored rows {rows:,}, distinct (office, seq) {distinct:,}, quarantined {quarantined}")
    print(f"ingest rate: {rate:,.0f} events/s")
    print(f"antrean central: CPU {cpu:.1f} s = {100 * cpu / wall:.0f}% of one core, "
          f"RSS {rss_idle:.1f} MiB idle, {rss_peak:.1f} MiB peak")  # fmt: skip
    print(f"PostgreSQL (all its processes): CPU {pg_cpu:.1f} s = {100 * pg_cpu / wall:.0f}%")
    print(f"one kecamatan's peak day: {peak_day:,} events in {OPEN_H} h; {KECAMATAN} of them"
          f" at once need {need:.1f} events/s: headroom {rate / need:.0f}x")  # fmt: skip
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    result.figures.update(
        events=total, seconds=wall, rate=rate, cpu_pct=100 * cpu / wall,
        pg_cpu_pct=100 * pg_cpu / wall, rss_idle_mib=rss_idle, rss_peak_mib=rss_peak,
        need=need, load=load[0],
    )  # fmt: skip
    result.check("every event stored once", rows, "rows", f"= {total}", rows == total == distinct)
    result.check("headroom for 576 kecamatan", rate / need, "x", ">= 10x", rate / need >= 10)
    shutil.rmtree(tmp, ignore_errors=True)
    return result


if __name__ == "__main__":
    main(__doc__, run)
