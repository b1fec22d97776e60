"""Office commands from the command line: one admin request to the queue service over MQTT.

The queue service is the one writer of the store, so `antrean stock ...` and
`antrean drive ...` do not write it: they send the contract's actions as the
office's admin device, as the web pages will, and print its answer. The
client id is the device's plus a random part (QueueClient), so a running
admin session (the web app) is not thrown off the broker.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from antrean.config import CONFIG_HELP, Config, ConfigError, config_path, load_config
from antrean.device import NoAnswer
from antrean.domain import Role
from antrean_testing.client import QueueClient

TIMEOUT_S = 10.0  # the service answers in milliseconds; a Pi under load, a slow Wi-Fi: seconds


class AdminError(Exception):
    """Why an office command did nothing, in words for the office (exit status `status`)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def add_common(parser: argparse.ArgumentParser, user: bool = True) -> None:
    """--config and --device, and --user for a command that records something."""
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--device", help="the admin device to send as (default: the first admin)")
    if user:
        parser.add_argument("--user", help=USER_HELP)


USER_HELP = (
    "the staff member's name, kept with the entry and in the office's audit (sri); "
    "default: the login name ($SUDO_USER, else $USER), said on stderr"
)


def user_arg(args: argparse.Namespace, command: str) -> dict[str, str]:
    """{"user": name} for a command that records something: --user, else the login name.

    A shared office PC often has one login for everyone, so when the name is
    the login's, stderr says so: the person at the keyboard can give --user.
    """
    if not hasattr(args, "user"):  # a command that records nothing
        return {}
    if args.user and args.user.strip():
        return {"user": args.user.strip()}
    for var in ("SUDO_USER", "USER"):
        login = os.environ.get(var, "").strip()
        if login:
            note = f"antrean {command}: recorded as {login} (${var}); name yourself with --user"
            print(note, file=sys.stderr)  # noqa: T201 - the command's output
            return {"user": login}
    return {}


def admin_device(config: Config, wanted: str | None) -> str:
    """The admin device to send as: `wanted`, or the config's first admin."""
    admins = [d.id for d in config.devices if d.role is Role.ADMIN]
    if wanted:
        if wanted not in admins:
            raise AdminError(f"{wanted} is not an admin device of {config.source}", 2)
        return wanted
    if not admins:
        raise AdminError(f"{config.source} has no [[device]] with role 'admin'", 2)
    return admins[0]


def load(args: argparse.Namespace) -> Config:
    """The office config named by --config (or ANTREAN_CONFIG, or the default)."""
    try:
        return load_config(config_path(args.config))
    except ConfigError as exc:
        raise AdminError(f"config error: {exc}", 2) from None


def request(config: Config, device: str, action: str, args: dict[str, Any]) -> dict[str, Any]:
    """Sends one action and returns its result; AdminError on a refusal or no answer."""
    client = QueueClient(config.office.id, device, config.broker)
    try:
        client.start()
        reply = client.request(action, args, timeout=TIMEOUT_S)
    except ConnectionError:
        host = f"{config.broker.host}:{config.broker.port}"
        raise AdminError(
            f"cannot reach the office broker at {host}; nothing was recorded"
        ) from None
    except NoAnswer as exc:
        # It may have run and its reply been lost: the office looks before sending it again.
        raise AdminError(f"{exc}; look (show) before you send it again") from None
    finally:
        client.stop()
    if not reply.get("ok"):
        error = reply.get("error") or {}
        code, message = error.get("code", "?"), error.get("message", "")
        raise AdminError(f"refused ({code}): {message}")
    result: dict[str, Any] = reply.get("result") or {}
    return result


def send(args: argparse.Namespace, action: str, body: dict[str, Any]) -> dict[str, Any]:
    """One action from the command line: --config, --device, --user, the request (AdminError)."""
    config = load(args)
    device = admin_device(config, args.device)
    return request(config, device, action, {**body, **user_arg(args, args.command)})


def fail(command: str, exc: AdminError) -> int:
    """Prints the error for the office and returns the exit status."""
    print(f"antrean {command}: {exc}", file=sys.stderr)  # noqa: T201 - the command's output
    return exc.status
