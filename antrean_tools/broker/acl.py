"""The broker's access rules, derived from the office config.

Every user gets exactly what its role needs and nothing else; Mosquitto
denies whatever an `acl_file` does not grant. The topics are the contract's
(docs/protocol.md), all under `antrean/v1/{office}/`, so no user reaches
another office's topics. The queue service still checks each command's role
itself: these rules decide who may *send* on `cmd/{device}`, the service
decides what that device may *do*.
"""

from __future__ import annotations

from dataclasses import dataclass

from antrean import protocol
from antrean.config import Config
from antrean.domain import Role
from antrean.protocol import queue_staff_user, queue_user

READ, WRITE, READWRITE = "read", "write", "readwrite"


@dataclass(frozen=True, slots=True)
class Grant:
    """One `topic ACCESS FILTER` line."""

    access: str
    topic: str


def device_grants(office: str, device: str, role: Role) -> list[Grant]:
    """What one device may publish and read."""
    root = f"{protocol.ROOT}/{office}"
    grants = [
        Grant(WRITE, f"{root}/device/{device}/status"),  # its presence, with its last will
        Grant(READ, f"{root}/state/#"),
        Grant(READ, f"{root}/event/#"),
        Grant(READ, f"{root}/device/{protocol.QUEUE_DEVICE}/status"),  # is the service up?
    ]
    if role is not Role.BOARD:  # a board only shows; it sends no commands
        grants += [
            Grant(WRITE, f"{root}/cmd/{device}"),
            Grant(READ, f"{root}/reply/{device}"),
        ]
    if role in (Role.ADMIN, Role.WEB):  # the office head's tools show which devices are offline
        grants.append(Grant(READ, f"{root}/device/+/status"))
    if role is Role.WEB:  # the month's IKM from its own survey file (web/ikm_state.py)
        grants.append(Grant(WRITE, protocol.state_topic(office, "ikm")))
        # issue 13: each unit's page shows its heads against the office's acks
        grants.append(Grant(READ, f"{root}/sync/+/ack"))
        grants.append(Grant(READ, f"{root}/sync/+/status"))
    return grants


def queue_grants(office: str) -> list[Grant]:
    """The queue service owns its office's replies, events, state and its own presence."""
    root = f"{protocol.ROOT}/{office}"
    return [
        Grant(READ, f"{root}/cmd/+"),
        Grant(READWRITE, f"{root}/reply/+"),
        Grant(READWRITE, f"{root}/event/#"),
        Grant(READWRITE, f"{root}/state/#"),
        Grant(READWRITE, f"{root}/device/{protocol.QUEUE_DEVICE}/status"),
        Grant(READ, f"{root}/sync/+/up"),  # issue 13: the units' items in, acks out
        Grant(READWRITE, f"{root}/sync/+/ack"),
        Grant(READ, f"{root}/sync/+/status"),  # a unit set up for another office says so here
        Grant(READWRITE, f"{root}/sync/+/bookings"),  # each unit's visits' bookings, retained
    ]


def sync_grants(office: str, unit: str) -> list[Grant]:
    """A mobile unit's sync client writes only its own items, reads its acks and the schedule."""
    return [
        Grant(WRITE, protocol.sync_topic(office, unit, "up")),
        Grant(WRITE, protocol.sync_topic(office, unit, "status")),  # its outbox heads, retained
        Grant(READ, protocol.sync_topic(office, unit, "ack")),
        Grant(READ, protocol.sync_topic(office, unit, "bookings")),  # its visits' (code hashes)
        Grant(READ, protocol.state_topic(office, "visits")),  # its visits, before it leaves
        # Which office this hub serves, under any office id: a unit set up for
        # another office subscribes with a wildcard to learn that it is (a
        # hub's broker holds only its own office's state).
        Grant(READ, protocol.state_topic("+", "office")),
    ]


def queue_staff_grants(office: str) -> list[Grant]:
    """Commands in and replies out; events and state go on the main session."""
    root = f"{protocol.ROOT}/{office}"
    return [Grant(READ, f"{root}/cmd/+"), Grant(READWRITE, f"{root}/reply/+")]


def users(config: Config) -> dict[str, list[Grant]]:
    """Every MQTT user of the office (the queue service's two first) and its grants."""
    office = config.office.id
    table = {queue_user(office): queue_grants(office)}
    table[queue_staff_user(office)] = queue_staff_grants(office)
    for d in config.devices:
        if d.role is Role.CENTRAL:
            continue  # no login on the hub: its commands come only through the bridge
        if d.id in table:
            raise ValueError(f"device id {d.id!r} is the queue service's user; rename the device")
        table[d.id] = device_grants(office, d.id, d.role)
    for unit in config.units:
        table[protocol.sync_user(unit)] = sync_grants(office, unit)
    return table


def acl_text(config: Config) -> str:
    """The whole `acl_file` for the office."""
    lines = [
        f"# Access rules for office {config.office.id!r}, written by `antrean broker`",
        f"# from {config.source}. Do not edit: change the office config's [[device]]",
        "# tables and run `antrean broker init` again. Anything not granted is denied.",
    ]
    roles: dict[str, str] = {d.id: d.role.value for d in config.devices}
    roles[queue_staff_user(config.office.id)] = "queue service, counters' and admin's commands"
    roles.update({protocol.sync_user(u): f"mobile unit {u}: its sync" for u in config.units})
    for user, grants in users(config).items():
        lines += ["", f"# {roles.get(user, 'queue service')}", f"user {user}"]
        lines += [f"topic {g.access} {g.topic}" for g in grants]
    return "\n".join(lines) + "\n"
