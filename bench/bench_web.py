"""The office web with a day of 1,000 tickets: page loads, event to browser, 200 phones, the queue.

The queue service and the web (`antrean web`) run as their own processes, as
on the hub; the broker is a DevBroker on loopback. 1,000 tickets are issued
for service C; counter-4 calls them in order. Measured, each against a
baseline in the same run:

- first byte (response headers) and full response of the dashboard and the
  phone page on a new connection (as a first visit), against a static file
  of the same server (the server's floor); and the full load in headless
  Chromium (Navigation Timing, cache off: the page, its CSS and script),
  when Chromium is installed. Target: under 300 ms.
- event to browser: an SSE client on the phone page of the next ticket, and
  one on the dashboard; the time from the counter's call_next to the
  fragment that says "dipanggil" (and to the dashboard's next fragment),
  against a board-side MQTT subscriber's event/called. Target p99 < 500 ms.
- 200 phone pages open at once on SSE: one call's fan-out time to all 200
  (each page's "orang di depan Anda" changes), and the web's RSS (VmRSS)
  before and with the 200 open.
- the queue service's call_next -> event/called p99 without the web, with
  the web running idle, and with the 200 phones and the dashboard open on
  SSE (their 201 reader threads are in this process, so part of that last
  figure is the bench's own load on the same two cores).

    .venv/bin/python bench/bench_web.py [--quick] [--json out.json]
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_call_latency import (
    COUNTER_DEVICE,
    PACE_S,
    PER_KIOSK,
    SERVICE,
    InProcessLatch,
    OfficeSeq,
    kiosks_for,
    one_call,
)
from common import (
    OFFICE,
    ROOT,
    Pipeline,
    Result,
    antrean_command,
    broker_config,
    format_ms,
    main,
    rss_mib,
    spawn,
    stop_process,
    summary_ms,
    topic,
    wait_service_online,
    write_config,
)

from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker

TICKETS = 1000
PHONES = 200
USER, PASSWORD = "bench", "bench-rahasia-1"
# The web's own commands (a phone page asks the queue service) stay under the
# web device's rate limit (antrean.ratelimit): one round at most this often.
ROUND_S = 0.2
TIMEOUT_S = 10.0
CALLED = '<p class="call"'  # the phone fragment's "Nomor Anda dipanggil"


# ---- the processes ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def web_config(folder: Path, port: int, web_port: int) -> Path:
    """The bench office (common.write_config) with the web on web_port."""
    path = write_config(folder, port, kiosks=kiosks_for(TICKETS))
    text = path.read_text(encoding="utf-8")
    for old, new in (
        ("port = 8080", f"port = {web_port}"),
        ("http://127.0.0.1:8080", f"http://127.0.0.1:{web_port}"),
    ):
        if old not in text:
            raise RuntimeError(f"the example's [web] changed: {old!r} is gone")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def start_web(config: Path, folder: Path, web_port: int, token: str) -> subprocess.Popen[bytes]:
    """`antrean web adduser`, then `antrean web`; returns once a phone page answers."""
    command = antrean_command(config)
    web_cmd = [*command[: command.index("queue")], "web", "--config", str(config)]
    subprocess.run([*web_cmd, "adduser", USER, "--role", "kepala"], input=f"{PASSWORD}\n".encode(),
                   check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    web = spawn(web_cmd, folder / "web.log")
    deadline = time.monotonic() + 30
    while True:
        try:
            if get(web_port, f"/t/{token}")[0] == 200:
                return web
        except OSError:
            pass
        if time.monotonic() > deadline or web.poll() is not None:
            stop_process(web)
            raise RuntimeError(f"the web did not start: see {folder / 'web.log'}")
        time.sleep(0.1)


def issue_day(port: int) -> list[str]:
    """Issues TICKETS tickets for service C; their phone tokens, in calling order."""
    tokens: dict[int, str] = {}

    class Kiosk(Pipeline):
        def _on_reply(self, _topic: str, payload: bytes) -> None:
            reply = json.loads(payload)
            if reply.get("ok"):
                tokens[reply["result"]["ticket"]["number"]] = reply["result"]["token"]
            super()._on_reply(_topic, payload)

    for n in range(kiosks_for(TICKETS)):
        kiosk = Kiosk(port, f"kiosk-{n + 1}", window=64).start()
        try:
            kiosk.run("issue", {"service": SERVICE}, min(PER_KIOSK, TICKETS - n * PER_KIOSK))
        finally:
            kiosk.stop()
    if len(tokens) != TICKETS:
        raise RuntimeError(f"issued {len(tokens)} of {TICKETS} tickets")
    return [tokens[n] for n in sorted(tokens)]


# ---- HTTP and SSE ---------------------------------------------------------------------


def get(port: int, path: str, cookie: str = "") -> tuple[int, float, float, bytes, str]:
    """(status, s to the headers, s to the last byte, body, set-cookie), on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"cookie": cookie} if cookie else {})
        resp = conn.getresponse()
        first = time.perf_counter() - t0
        body = resp.read()
        return resp.status, first, time.perf_counter() - t0, body, resp.getheader("set-cookie", "")
    finally:
        conn.close()


def login(port: int) -> str:
    """The session cookie of the bench's kepala, through the login form."""
    _s, _f, _t, body, set_cookie = get(port, "/masuk")
    csrf = re.search(rb'name="csrf" value="([^"]+)"', body)
    if not csrf:
        raise RuntimeError("no CSRF token on /masuk")
    cookie = set_cookie.split(";", 1)[0]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    form = f"csrf={csrf.group(1).decode()}&name={USER}&password={PASSWORD}"
    headers = {"cookie": cookie, "content-type": "application/x-www-form-urlencoded"}
    conn.request("POST", "/masuk", form, headers)
    resp = conn.getresponse()
    resp.read()
    session = (resp.getheader("set-cookie") or "").split(";", 1)[0]
    conn.close()
    if resp.status != 303 or not session:
        raise RuntimeError(f"login refused: {resp.status}")
    return session


class SseClient(threading.Thread):
    """One EventSource: keeps (perf_counter, data) of every event it receives.

    It connects in its own thread, so that many can open at once as phones do
    (the web batches the look-ups of pages that arrive together).
    """

    def __init__(self, port: int, path: str, cookie: str = "") -> None:
        super().__init__(daemon=True)
        self.path = path
        self.status = 0  # the response's, once connected
        self.frames: list[tuple[float, str]] = []
        self._cond = threading.Condition()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=None)
        self._headers = {"accept": "text/event-stream", **({"cookie": cookie} if cookie else {})}

    def run(self) -> None:
        data: list[str] = []
        try:
            self.conn.request("GET", self.path, headers=self._headers)
            resp = self.conn.getresponse()
            with self._cond:
                self.status = resp.status
                self._cond.notify_all()
            while line := resp.readline():
                text = line.decode().rstrip("\r\n")
                if text.startswith("data: "):
                    data.append(text[6:])
                elif not text and data:
                    with self._cond:
                        self.frames.append((time.perf_counter(), "\n".join(data)))
                        self._cond.notify_all()
                    data = []
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            return  # closed by close() (http.client may trip over its closed socket)

    def connected(self) -> int:
        """Waits for the response; its status."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.status, TIMEOUT_S):
                raise TimeoutError(f"{self.path}: no response")
            return self.status

    def count(self) -> int:
        with self._cond:
            return len(self.frames)

    def wait_frame(self, index: int, contains: str = "") -> float:
        """The time of the first frame at or after `index` that holds `contains`."""
        with self._cond:
            found: list[float] = []

            def ready() -> bool:
                found[:] = [t for t, d in self.frames[index:] if contains in d][:1]
                return bool(found)

            if not self._cond.wait_for(ready, TIMEOUT_S):
                raise TimeoutError(f"no frame with {contains!r} after #{index}")
            return found[0]

    def close(self) -> None:
        sock = self.conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.join(TIMEOUT_S)
        self.conn.close()


def open_streams(port: int, paths: list[str], cookie: str = "") -> tuple[list[SseClient], int]:
    """Opens the streams all at once; refused ones (503) again a second later, once.

    Returns the streams, each with its first frame, and how many were refused
    the first time.
    """
    clients = [SseClient(port, path, cookie) for path in paths]
    for c in clients:
        c.start()
    refused = [c for c in clients if c.connected() != 200]
    if refused:
        time.sleep(1)
        again = [SseClient(port, c.path, cookie) for c in refused]
        for c in again:
            c.start()
        if any(c.connected() != 200 for c in again):
            raise RuntimeError("streams refused twice")
        clients = [c for c in clients if c.status == 200] + again
    for c in clients:
        c.wait_frame(0)
    return clients, len(refused)


# ---- the measurements ------------------------------------------------------------------


def page_loads(port: int, cookie: str, token: str, n: int) -> dict[str, list[float]]:
    """First byte and last byte of the dashboard, the phone page and a static file, alternating."""
    out: dict[str, list[float]] = {k: [] for k in ("dash1", "dash", "phone1", "phone", "css1")}
    for _ in range(n):
        for key, path, c in (("dash", "/dasbor", cookie), ("phone", f"/t/{token}", ""),
                             ("css", "/static/style.css", "")):  # fmt: skip
            status, first, full, _b, _c = get(port, path, c)
            if status != 200:
                raise RuntimeError(f"{path}: {status}")
            out[key + "1"].append(first)
            if key != "css":
                out[key].append(full)
        time.sleep(ROUND_S)
    return out


def browser_loads(port: int, folder: Path, token: str, n: int) -> dict[str, list[float]] | None:
    """Headless Chromium, cache off: first byte and load event of the two pages (s)."""
    sys.path.insert(0, str(ROOT))
    try:
        from tests.support.chromium import have_chromium, open_chromium  # noqa: PLC0415
    except ImportError:
        return None
    if not have_chromium():
        return None
    driver = open_chromium(folder / "chromium", 1366, 768)
    out: dict[str, list[float]] = {
        k: [] for k in ("dash0", "dash1", "dash", "phone0", "phone1", "phone")
    }
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        base = f"http://127.0.0.1:{port}"
        driver.get(f"{base}/masuk")
        driver.find_element("name", "name").send_keys(USER)
        driver.find_element("name", "password").send_keys(PASSWORD)
        driver.find_element("css selector", "form button, form [type=submit]").click()
        for _ in range(n):
            for key, path in (("dash", "/dasbor"), ("phone", f"/t/{token}")):
                driver.get(base + path)
                timing = driver.execute_script(
                    "var t = performance.getEntriesByType('navigation')[0];"
                    "return [t.requestStart, t.responseStart, t.loadEventEnd];"
                )
                out[key + "0"].append(timing[0] / 1000)  # before the request left: a socket
                out[key + "1"].append(timing[1] / 1000)
                out[key].append(timing[2] / 1000)
            time.sleep(ROUND_S)
    finally:
        driver.quit()
    return out


def event_to_browser(
    port: int, web_port: int, cookie: str, tokens: list[str], counter: QueueClient, rounds: int
) -> tuple[list[float], list[float], list[float]]:
    """Per call: (phone "dipanggil", dashboard fragment, board event/called) after call_next (s)."""
    board = InProcessLatch(port, topic("event", "called"), "web-board").start()
    office = OfficeSeq(port).start()
    dash = open_streams(web_port, ["/dasbor/live"], cookie)[0][0]
    phone_s: list[float] = []
    dash_s: list[float] = []
    board_s: list[float] = []
    try:
        for token in tokens[:rounds]:
            phone = open_streams(web_port, [f"/t/{token}/live"])[0][0]
            time.sleep(0.05)  # the dashboard settles after the last call's messages
            seen = dash.count()
            t0 = time.perf_counter()
            board_s.append(one_call(counter, board, office))
            phone_s.append(phone.wait_frame(1, CALLED) - t0)
            dash_s.append(dash.wait_frame(seen) - t0)
            phone.close()
            time.sleep(ROUND_S)
    finally:
        dash.close()
        board.stop()
        office.stop()
    return phone_s, dash_s, board_s


def fan_out(
    port: int, phones: list[SseClient], counter: QueueClient, rounds: int
) -> tuple[list[float], list[float], list[float]]:
    """Per call: (median page, last page, board event/called), from call_next (s)."""
    board = InProcessLatch(port, topic("event", "called"), "web-fanout").start()
    office = OfficeSeq(port).start()
    median_s: list[float] = []
    last_s: list[float] = []
    board_s: list[float] = []
    try:
        for _ in range(rounds):
            seen = [p.count() for p in phones]
            t0 = time.perf_counter()
            board_s.append(one_call(counter, board, office))
            got = sorted(p.wait_frame(n) - t0 for p, n in zip(phones, seen, strict=True))
            median_s.append(got[len(got) // 2])
            last_s.append(got[-1])
            time.sleep(1.0)  # the web's batch and every stream are idle again
    finally:
        board.stop()
        office.stop()
    return median_s, last_s, board_s


def call_latency(port: int, counter: QueueClient, calls: int) -> list[float]:
    """The queue service's call_next -> event/called, one at a time (s)."""
    board = InProcessLatch(port, topic("event", "called"), "web-calls").start()
    office = OfficeSeq(port).start()
    try:
        out = []
        for _ in range(calls):
            out.append(one_call(counter, board, office))
            time.sleep(PACE_S)
        return out
    finally:
        board.stop()
        office.stop()


# ---- the run ----------------------------------------------------------------------------


def measure(quick: bool) -> dict[str, Any]:
    """Every measurement of the run, by name (seconds, MiB, counts)."""
    loads, rounds, fans, calls = (10, 20, 3, 100) if quick else (40, 100, 10, 200)
    m: dict[str, Any] = {"fans": fans}
    with tempfile.TemporaryDirectory(prefix="antrean-bench-") as tmp, DevBroker() as broker:
        folder, port, web_port = Path(tmp), broker.port, free_port()
        config = web_config(folder, port, web_port)
        service = spawn(antrean_command(config), folder / "queue.log")
        web: subprocess.Popen[bytes] | None = None
        phones: list[SseClient] = []
        counter = QueueClient(OFFICE, COUNTER_DEVICE, broker_config(port))
        try:
            wait_service_online(port)
            tokens = issue_day(port)
            print(f"issued {len(tokens)} tickets for service {SERVICE}", flush=True)
            counter.start()
            m["without"] = call_latency(port, counter, calls)
            web = start_web(config, folder, web_port, tokens[-1])
            m["idle_web"] = call_latency(port, counter, calls)
            cookie = login(web_port)
            m["http"] = page_loads(web_port, cookie, tokens[-1], loads)
            m["chrome"] = browser_loads(web_port, folder, tokens[-1], max(5, loads // 2))
            m["phone"], m["dash"], m["board"] = event_to_browser(
                port, web_port, cookie, tokens[2 * calls :], counter, rounds
            )
            m["rss_idle"] = rss_mib(web.pid)
            t_open = time.perf_counter()
            phones, m["refused"] = open_streams(
                web_port, [f"/t/{t}/live" for t in tokens[-PHONES:]]
            )
            m["opened"] = time.perf_counter() - t_open
            m["rss_open"] = rss_mib(web.pid)
            m["fan_median"], m["fan_last"], m["fan_board"] = fan_out(port, phones, counter, fans)
            m["rss_after"] = rss_mib(web.pid)
            phones += open_streams(web_port, ["/dasbor/live"], cookie)[0]
            m["with_web"] = call_latency(port, counter, calls)
        finally:
            for p in phones:
                p.close()
            counter.stop()
            if web is not None:
                stop_process(web)
            stop_process(service)
    return m


def run(quick: bool) -> Result:
    m = measure(quick)
    http_loads, chrome = m["http"], m["chrome"]
    phone_s, dash_s, board_s = m["phone"], m["dash"], m["board"]
    median_s, last_s, fan_board = m["fan_median"], m["fan_last"], m["fan_board"]
    rss_idle, rss_open, rss_after = m["rss_idle"], m["rss_open"], m["rss_after"]
    opened, refused, fans = m["opened"], m["refused"], m["fans"]
    without, idle_web, with_web = m["without"], m["idle_web"], m["with_web"]
    result = Result("web")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; 1,000 tickets of service C")
    figures: dict[str, Any] = {"load_average": load[0]}
    for key, name in (("dash1", "dashboard first byte"), ("dash", "dashboard full"),
                      ("phone1", "phone page first byte"), ("phone", "phone page full"),
                      ("css1", "static file first byte")):  # fmt: skip
        figures[f"http_{key}_ms"] = s = summary_ms(http_loads[key])
        print(format_ms(f"http {name}", s))
    floor = figures["http_css1_ms"]["p99"]
    for key in ("dash1", "phone1"):
        print(f"  {key} p99 / static p99: {figures[f'http_{key}_ms']['p99'] / floor:.2f}x")
    if chrome:
        for key, name in (("dash0", "dashboard request sent"), ("dash1", "dashboard first byte"),
                          ("dash", "dashboard load"), ("phone0", "phone request sent"),
                          ("phone1", "phone first byte"), ("phone", "phone load")):  # fmt: skip
            figures[f"chromium_{key}_ms"] = s = summary_ms(chrome[key])
            print(format_ms(f"chromium {name}", s))
    else:
        print("chromium not installed: no browser load figures")
    ph, da, bo = summary_ms(phone_s), summary_ms(dash_s), summary_ms(board_s)
    print(format_ms("call -> phone 'dipanggil'", ph))
    print(format_ms("call -> dashboard fragment", da))
    print(format_ms("call -> board event/called", bo))
    print(f"  phone p99 / board p99: {ph['p99'] / bo['p99']:.1f}x")
    fm, fl, fb = summary_ms(median_s), summary_ms(last_s), summary_ms(fan_board)
    print(f"{PHONES} phone pages on SSE opened at once in {opened:.2f} s ({refused} refused "
          "503 the first time, opened a second later)")  # fmt: skip
    print(format_ms(f"fan-out, median of {PHONES}", fm))
    print(format_ms(f"fan-out, last of {PHONES}", fl))
    print(format_ms("fan-out, board event/called", fb))
    print(f"web RSS: {rss_idle:.1f} MiB idle, {rss_open:.1f} MiB with {PHONES} open, "
          f"{rss_after:.1f} MiB after {fans} calls")  # fmt: skip
    wo, wid, wi = summary_ms(without), summary_ms(idle_web), summary_ms(with_web)
    print(format_ms("queue call, no web", wo))
    print(format_ms("queue call, web idle", wid))
    print(format_ms(f"queue call, web + {PHONES} SSE", wi))
    print(f"  with / without at p99: {wi['p99'] / wo['p99']:.2f}x")
    figures.update(
        phone_event_ms=ph, dashboard_event_ms=da, board_event_ms=bo, fanout_median_ms=fm,
        fanout_last_ms=fl, rss_idle_mib=rss_idle, rss_200_mib=rss_open, rss_after_mib=rss_after,
        call_without_web_ms=wo, call_web_idle_ms=wid, call_with_web_ms=wi,
    )  # fmt: skip
    result.figures = figures
    for key, name in (("dash1", "dashboard first byte p99"), ("phone1", "phone first byte p99")):
        p99 = figures[f"http_{key}_ms"]["p99"]
        result.check(name, p99, "ms", "< 300", p99 < 300)
    if chrome:
        for key, name in (("dash", "dashboard full load p99"), ("phone", "phone full load p99")):
            p99 = figures[f"chromium_{key}_ms"]["p99"]
            result.check(name, p99, "ms", "< 300", p99 < 300)
    result.check("call -> phone page p99", ph["p99"], "ms", "< 500", ph["p99"] < 500)
    result.check(f"fan-out to {PHONES}, last, p99", fl["p99"], "ms", "< 500", fl["p99"] < 500)
    for name, s in (("web idle", wid), (f"web + {PHONES} SSE", wi)):
        ratio = s["p99"] / wo["p99"]
        result.check(f"queue call p99, {name} / no web", ratio, "x", "<= 1.5", ratio <= 1.5)
    return result


if __name__ == "__main__":
    main(__doc__, run)
