"""The `antrean` command: one entry point, a subcommand per process."""

from __future__ import annotations

import argparse
import logging
import sys

from antrean import __version__
from antrean.config import ConfigError, config_path, load_config
from antrean.demo import run_demo
from antrean.runner import run_queue_service


def main(argv: list[str] | None = None) -> int:
    """Parses arguments and runs the chosen subcommand."""
    parser = argparse.ArgumentParser(prog="antrean", description=__doc__)
    parser.add_argument("--version", action="version", version=f"antrean {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every message")
    sub = parser.add_subparsers(dest="command", required=True)

    q = sub.add_parser("queue", help="run the queue service (the authority for numbers)")
    q.add_argument("--config", help="office config (default $ANTREAN_CONFIG or /etc/antrean)")

    c = sub.add_parser("check-config", help="validate an office config and print a summary")
    c.add_argument("--config")

    d = sub.add_parser("demo", help="run the whole system on this machine")
    d.add_argument("--config", default="antrean.example.toml")

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(config_path(args.config))
    except ConfigError as exc:
        print(f"antrean: config error: {exc}", file=sys.stderr)
        return 2

    if args.command == "queue":
        run_queue_service(config)
        return 0
    if args.command == "check-config":
        o = config.office
        print(f"{config.source}: OK")
        print(f"  office   {o.id} - {o.name} ({o.timezone.key})")
        print(f"  broker   {config.broker.host}:{config.broker.port}")
        print(f"  store    {config.store_path}")
        for s in config.services:
            quota = s.daily_quota or "no quota"
            print(f"  service  {s.code} {s.name} ({quota})")
        for k in config.counters:
            print(f"  counter  {k.number} {k.name}: {', '.join(k.services)}")
        for dev in config.devices:
            extra = f" (counter {dev.counter})" if dev.counter else ""
            print(f"  device   {dev.id}: {dev.role}{extra}")
        return 0
    if args.command == "demo":
        return run_demo(config)
    return 1


if __name__ == "__main__":
    sys.exit(main())
