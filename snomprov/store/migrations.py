# -*- test-case-name: tests.test_store -*-
"""
The SQL schema, as a list of migrations.

Each migration is C{(version, statements)}; versions grow by one from 1.
Statements are written once for every dialect: C{{real}}, C{{blob}} and
C{{serial}} stand for the dialect's floating-point, byte-string and
auto-increment primary key types (see L{snomprov.store.sql.Dialect}).  A
migration, once released, is never edited: a change of schema is a new
migration appended to L{MIGRATIONS}.

L{migrate} runs inside the caller's transaction, so that a database is
either fully migrated or left as it was; where the dialect has one
(PostgreSQL's advisory lock), it first takes the schema's lock, so that of
two processes opening a new database together one migrates and the other
then finds it migrated.
"""

from __future__ import annotations

from typing import Sequence

from twisted.logger import Logger

from snomprov.store.errors import StoreError

__all__ = ["MIGRATIONS", "SchemaError", "migrate", "schemaVersion"]

_log = Logger()

Migration = tuple[int, Sequence[str]]

MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        (
            """
            CREATE TABLE devices (
                mac TEXT PRIMARY KEY CHECK (length(mac) = 12),
                vendor TEXT,
                model TEXT,
                firmware TEXT,
                ip TEXT,
                state TEXT CHECK (state IS NULL OR state IN
                    ('registered', 'seen', 'notified', 'fetched')),
                first_seen {real},
                last_seen {real},
                notes TEXT,
                sip_host TEXT,
                sip_port INTEGER,
                CHECK ((sip_host IS NULL) = (sip_port IS NULL))
            )
            """,
            """
            CREATE TABLE lines (
                mac TEXT NOT NULL REFERENCES devices (mac) ON DELETE CASCADE,
                idx INTEGER NOT NULL CHECK (idx >= 1),
                "user" TEXT NOT NULL,
                auth_user TEXT NOT NULL,
                password TEXT NOT NULL,
                display_name TEXT NOT NULL,
                registrar TEXT NOT NULL,
                outbound_proxy TEXT NOT NULL,
                PRIMARY KEY (mac, idx)
            )
            """,
            # A layer may have no settings and no documents and still exist.
            "CREATE TABLE layers (scope TEXT PRIMARY KEY)",
            """
            CREATE TABLE settings (
                scope TEXT NOT NULL REFERENCES layers (scope) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                name TEXT NOT NULL,
                idx INTEGER,
                value TEXT NOT NULL,
                perm TEXT,
                PRIMARY KEY (scope, position)
            )
            """,
            """
            CREATE TABLE documents (
                scope TEXT NOT NULL REFERENCES layers (scope) ON DELETE CASCADE,
                name TEXT NOT NULL,
                body {blob} NOT NULL,
                PRIMARY KEY (scope, name)
            )
            """,
            """
            CREATE TABLE events (
                id {serial},
                time {real} NOT NULL,
                mac TEXT,
                kind TEXT NOT NULL,
                detail TEXT NOT NULL
            )
            """,
            "CREATE INDEX events_mac_id ON events (mac, id)",
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
            "INSERT INTO meta (name, value) VALUES ('settings_version', 0)",
        ),
    ),
    (
        2,
        (
            # Only listEvents(mac) used it, which nothing in the daemon calls,
            # and it cost every recorded event an insert at a random place:
            # that query now reads the newest events backwards instead.
            "DROP INDEX events_mac_id",
        ),
    ),
    (
        3,
        (
            # Operators and API tokens: only hashes (snomprov.accounts).
            """
            CREATE TABLE operators (
                name TEXT PRIMARY KEY,
                role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
                password_hash TEXT NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
                created {real} NOT NULL
            )
            """,
            """
            CREATE TABLE tokens (
                name TEXT PRIMARY KEY,
                role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
                token_hash TEXT NOT NULL UNIQUE CHECK (token_hash LIKE 'sha256$%'),
                created {real} NOT NULL
            )
            """,
        ),
    ),
    (
        4,
        (
            # The change feed (snomprov.store.changes): the scopes each move
            # of the settings version touched, the newest rows only.
            """
            CREATE TABLE changes (
                seq {serial},
                scope TEXT NOT NULL,
                time {real} NOT NULL
            )
            """,
            # Per device, the settings version its files were last changed
            # at (current) and the one it last fetched (NULL: never).
            """
            CREATE TABLE device_versions (
                mac TEXT PRIMARY KEY REFERENCES devices (mac) ON DELETE CASCADE,
                current INTEGER NOT NULL,
                fetched INTEGER
            )
            """,
            """
            INSERT INTO device_versions (mac, current)
            SELECT mac, (SELECT value FROM meta WHERE name = 'settings_version') FROM devices
            """,
            # Each device's revision (the API's ETag), from a store-wide
            # counter that never goes back; the devices already stored
            # start at 1.
            """
            CREATE TABLE device_revisions (
                mac TEXT PRIMARY KEY REFERENCES devices (mac) ON DELETE CASCADE,
                revision INTEGER NOT NULL
            )
            """,
            "INSERT INTO meta (name, value) VALUES ('device_revision', 1)",
            "INSERT INTO device_revisions (mac, revision) SELECT mac, 1 FROM devices",
        ),
    ),
    (
        5,
        (
            # Each line's PBX account version (DESIGN §8), from a store-wide
            # counter; a removed line stays as a tombstone (deleted = 1)
            # until every sink applied it, so no device reference.  The
            # lines already stored start at version 1.
            """
            CREATE TABLE account_lines (
                mac TEXT NOT NULL,
                idx INTEGER NOT NULL CHECK (idx >= 1),
                version INTEGER NOT NULL,
                deleted INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (mac, idx)
            )
            """,
            "CREATE INDEX account_lines_version ON account_lines (version)",
            "INSERT INTO meta (name, value) VALUES ('account_version', 1)",
            "INSERT INTO account_lines (mac, idx, version, deleted) SELECT mac, idx, 1, 0 FROM lines",
            # Per sink and line: what the sink last applied, and its last failure.
            """
            CREATE TABLE account_sync (
                sink TEXT NOT NULL,
                mac TEXT NOT NULL,
                idx INTEGER NOT NULL,
                applied_version INTEGER NOT NULL DEFAULT 0,
                applied_username TEXT,
                last_error TEXT,
                next_try {real},
                tries INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (sink, mac, idx)
            )
            """,
        ),
    ),
    (
        6,
        (
            # A device's history (the operators' pages; eventsAfter,
            # listEvents and pageEvents with a MAC) is an index look-up
            # again: read backwards from the newest, a device rarely seen
            # meant reading every event.  It costs each recorded event an
            # index insert (bench/recorder.py measures it), and retention
            # ([store] keep_events_days) keeps the table bounded.
            "CREATE INDEX events_mac_id ON events (mac, id)",
        ),
    ),
    (
        7,
        (
            # A setting an operator marked secret (DESIGN §5): left out of
            # every file served without the device's proof, masked to
            # whoever may not see secrets.
            "ALTER TABLE settings ADD COLUMN secret INTEGER NOT NULL DEFAULT 0",
            # What a device's provisioning credential is derived from
            # (snomprov.proofs): NULL until an operator first rotates it.
            "ALTER TABLE devices ADD COLUMN credential TEXT",
        ),
    ),
)
"""
The schema's history, oldest first.
"""

_SCHEMA_VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY,
        applied_at {real} NOT NULL
    )
"""


class SchemaError(StoreError):
    """
    A database's schema cannot be used: it is newer than this snomprov, or a
    migration failed.
    """


def schemaVersion(txn, dialect) -> int:
    """
    The version a database's schema is at (0 for a new database).

    @param txn: an C{adbapi} transaction (a DB-API cursor).
    @param dialect: L{snomprov.store.sql.Dialect}.
    """
    txn.execute(dialect.ddl(_SCHEMA_VERSION_TABLE), ())
    txn.execute("SELECT MAX(version) FROM schema_version")
    (version,) = txn.fetchone()
    return version or 0


def migrate(
    txn, dialect, now: float, migrations: Sequence[Migration] = MIGRATIONS
) -> tuple[int, list[int]]:
    """
    Bring a database's schema up to the newest of C{migrations}, inside the
    caller's transaction.

    @param now: POSIX time recorded with each applied migration.
    @return: the schema version reached and the versions applied now.
    @raise SchemaError: if the database is newer than C{migrations} know.
    """
    known = [version for version, statements in migrations]
    if known != list(range(1, len(known) + 1)):
        raise SchemaError(f"migration versions must be 1, 2, 3, ... in order, not {known}")
    newest = len(known)
    if dialect.lockSchema is not None:
        txn.execute(dialect.lockSchema)
    current = schemaVersion(txn, dialect)
    if current > newest:
        raise SchemaError(
            f"the database is at schema version {current}, newer than this "
            f"snomprov knows ({newest}): upgrade snomprov"
        )
    applied = []
    for version, statements in migrations[current:]:
        for statement in statements:
            # With (no) parameters: a driver of the "format" style reads
            # its escaped "%%" as "%" only then.
            txn.execute(dialect.ddl(statement), ())
        txn.execute(
            dialect.sql("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)"),
            (version, now),
        )
        applied.append(version)
    if applied:
        _log.info("Migrated the database schema from {old} to {new}", old=current, new=newest)
    return newest, applied
