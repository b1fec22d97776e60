"""Runs every benchmark in turn, each in its own process, and prints a summary (`make bench`).

    .venv/bin/python bench/run_all.py [--quick]

A missed target is reported, not failed: benchmarks are figures, not tests.
The exit status is non-zero only when a benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BENCHMARKS = (
    "bench_call_latency",
    "bench_bridge",
    "bench_issue_throughput",
    "bench_startup",
    "bench_broker_tls",
    "bench_counter",
    "bench_kiosk",
    "bench_printer_serial",
    "bench_board",
    "bench_burst",
    "bench_web",
)


def run_one(name: str, quick: bool, out: Path) -> dict[str, object] | None:
    argv = [sys.executable, str(BENCH / f"{name}.py"), "--json", str(out)]
    if quick:
        argv.append("--quick")
    print(f"\n===== {name}{' (quick)' if quick else ''} =====", flush=True)
    started = time.perf_counter()
    code = subprocess.run(argv, check=False).returncode
    print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    if code != 0 or not out.exists():
        print(f"{name} FAILED (exit status {code})")
        return None
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, for a smoke test")
    args = parser.parse_args()

    results: dict[str, dict[str, object] | None] = {}
    with tempfile.TemporaryDirectory(prefix="antrean-bench-results-") as tmp:
        for name in BENCHMARKS:
            results[name] = run_one(name, args.quick, Path(tmp) / f"{name}.json")

    print("\n===== summary =====")
    print(f"{'benchmark':<18} {'figure':<40} {'value':>10} {'unit':<5} {'target':<12} verdict")
    missed, failed = 0, 0
    for name, result in results.items():
        short = name.removeprefix("bench_")
        if result is None:
            failed += 1
            print(f"{short:<18} {'(did not run)':<40}")
            continue
        for check in result["checks"]:  # type: ignore[attr-defined]
            missed += not check["ok"]
            verdict = "met" if check["ok"] else "MISSED"
            print(
                f"{short:<18} {check['name']:<40} {check['value']:10.2f} "
                f"{check['unit']:<5} {check['target']:<12} {verdict}"
            )
    print(f"\n{missed} target(s) missed, {failed} benchmark(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
