"""Brokers for the broker tests: the office hub and a central broker.

`HubBroker` is antrean_tools.broker.local.SecuredBroker (the hub as `antrean
broker init` sets it up). `CentralBroker` stands in for the central broker of
the bridge tests: TLS with its own CA, one user per office, a dashboard user.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from antrean.config import BrokerConfig
from antrean_testing.devbroker import free_port
from antrean_tools.broker import certs, passwords
from antrean_tools.broker.files import BrokerFiles, broker_owner, write_file
from antrean_tools.broker.local import MosquittoProcess, open_dir


class CentralBroker(MosquittoProcess):
    """A central broker: TLS with its own CA, a user per office, a dashboard reader."""

    DASHBOARD = "dashboard"
    CENTRAL = "antrean-central"  # the central service (issue 16)

    def __init__(self, office: str, *more: str) -> None:
        root = open_dir("antrean-central-")
        self.port = free_port()
        super().__init__(root, [self.port])
        self.files = BrokerFiles(root / "pki")
        self.files.dir.mkdir()
        self.files.dir.chmod(0o755)
        certs.make_ca(self.files, "central")
        certs.make_server_cert(self.files, "central", ["localhost"], ["127.0.0.1"], broker_owner())
        self.office = office
        self.passwords = {o: passwords.new_password() for o in (office, *more)}
        self.office_password = self.passwords[office]
        self.dashboard_password = passwords.new_password()
        self.central_password = passwords.new_password()
        users = {o: passwords.hash_password(p) for o, p in self.passwords.items()}
        users[self.DASHBOARD] = passwords.hash_password(self.dashboard_password)
        users[self.CENTRAL] = passwords.hash_password(self.central_password)
        owner = broker_owner()
        write_file(self.files.password_file, passwords.password_file_text(users), 0o600, owner)
        # Each office writes its own prefix and reads only the central service's
        # requests to it; the central service reads everything and writes only those.
        rules = "".join(
            f"user {o}\ntopic write antrean/v1/{o}/#\ntopic read antrean/v1/{o}/cmd/central\n"
            for o in self.passwords
        ) + (
            f"user {self.DASHBOARD}\ntopic read antrean/v1/#\n"
            f"user {self.CENTRAL}\ntopic read antrean/v1/#\n"
            "topic write antrean/v1/+/cmd/central\n"
            "pattern write $SYS/broker/connection/%c/state\n"
        )
        write_file(self.files.acl_file, rules, 0o600, owner)

    def main_conf(self) -> str:
        f = self.files
        return (
            f"log_dest file {self.log}\nper_listener_settings true\nset_tcp_nodelay true\n"
            f"persistence true\npersistence_location {self.root}/db/\n"
            f"listener {self.port} 127.0.0.1\ncafile {f.ca_cert}\ncertfile {f.server_cert}\n"
            f"keyfile {f.server_key}\nallow_anonymous false\npassword_file {f.password_file}\n"
            f"acl_file {f.acl_file}\n"
        )

    def login(self, user: str, password: str) -> BrokerConfig:
        """A login on the central broker, over TLS with its CA."""
        return BrokerConfig(
            port=self.port, username=user, password=password, tls_ca=self.files.ca_cert
        )

    def office_login(self, office: str | None = None) -> BrokerConfig:
        """An office's own user on the central broker (the bridge's); the first by default."""
        office = office or self.office
        return self.login(office, self.passwords[office])

    def central(self) -> BrokerConfig:
        """The central service's login."""
        return self.login(self.CENTRAL, self.central_password)

    def dashboard(self) -> BrokerConfig:
        return self.login(self.DASHBOARD, self.dashboard_password)


def wait_for(predicate: object, timeout: float, what: str | Callable[[], str]) -> None:
    """Polls predicate() until true or fails the test with `what` (or what it returns then)."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"timed out waiting for {said}")
        time.sleep(0.02)
