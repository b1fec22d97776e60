"""The central database's schema: numbered migrations, each applied once, in order.

One row per event, keyed by (office, business day, seq); `seq` is also unique
per office (it rises for ever there), so a seq that comes back with another
event (an office's store reset) cannot slip in under another day.
"""

from __future__ import annotations

import logging

from central.ingest import Conn

log = logging.getLogger(__name__)

# Each entry moves the schema one version up; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        office text NOT NULL,
        day date NOT NULL,
        seq bigint NOT NULL,
        kind text NOT NULL,
        at timestamptz NOT NULL,
        body jsonb NOT NULL,
        received timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (office, day, seq),
        UNIQUE (office, seq)
    );
    CREATE INDEX events_by_kind ON events (office, day, kind);
    -- What an office sent that could not be taken: kept with the reason, never dropped.
    CREATE TABLE quarantine (
        id bigserial PRIMARY KEY,
        office text,
        topic text NOT NULL,
        reason text NOT NULL,
        payload bytea NOT NULL,
        received timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX quarantine_by_office ON quarantine (office, received);
    -- Per office: every seq up to `contiguous` is here or was lost at the office
    -- (pruned before it could be replayed: `lost`); `flagged`: the last garbage.
    CREATE TABLE offices (
        office text PRIMARY KEY,
        contiguous bigint NOT NULL DEFAULT 0,
        lost bigint NOT NULL DEFAULT 0,
        flagged text,
        flagged_at timestamptz
    );
    CREATE TABLE office_state (
        office text NOT NULL,
        topic text NOT NULL,
        body jsonb NOT NULL,
        received timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (office, topic)
    );
    CREATE TABLE presence (
        office text NOT NULL,
        device text NOT NULL,
        body jsonb NOT NULL,
        received timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (office, device)
    );
    """,
    # 2 (issue 16): the residents' phone pages at the centre find a ticket by
    # the SHA-256 of its token (the `issued` event's token_hash; no token is
    # ever here), then the ticket's latest event.
    """
    CREATE INDEX events_by_token ON events ((body->>'token_hash')) WHERE kind = 'issued';
    CREATE INDEX events_by_ticket ON events (office, day, (body->'ticket'->>'id'));
    """,
)
_LOCK = 7_160_016  # pg_advisory_xact_lock key: two central services never migrate at once


def migrate(conn: Conn) -> int:
    """Brings the schema to the newest version, one transaction per step; the version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            conn.execute("INSERT INTO schema_version VALUES (0)")
    version = int(row[0]) if row else 0
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"the central database has schema version {version}; this Antrean knows "
            f"{len(MIGRATIONS)}. Install the newer Antrean that wrote it."
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        log.info("migrating the central database to schema version %d", number)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            current = conn.execute("SELECT version FROM schema_version").fetchone()
            if current is not None and int(current[0]) >= number:
                continue  # another central service did it meanwhile
            conn.execute(script.encode())
            conn.execute("UPDATE schema_version SET version = %s", (number,))
    return len(MIGRATIONS)
