# -*- test-case-name: tests.test_store_pbx -*-
"""
The PBX account tables (schema version 5, C{account_lines} and
C{account_sync}) for the SQL store: a mixin of its records, using their
C{_fetch}, C{_execute} and C{_executeMany}, and the
L{snomprov.interfaces.IAccountSyncStore} methods of the store, using its
C{_run}.
"""

from __future__ import annotations

from typing import Any, Sequence

from snomprov.device import Line
from snomprov.store.checks import checkMAC
from snomprov.store.pbxstate import (
    LineSyncState,
    PendingAccount,
    checkApplied,
    checkKeys,
    checkPendingLimit,
    checkSink,
    checkSinks,
)
from snomprov.store.writes import whenValid

__all__ = ["SQLPBXRecords", "SQLPBXStore"]

_NEXT_ACCOUNT = "UPDATE meta SET value = value + 1 WHERE name = 'account_version'"
_LAST_ACCOUNT = "SELECT value FROM meta WHERE name = 'account_version'"
_PUT_ACCOUNT_LINE = (
    "INSERT INTO account_lines (mac, idx, version, deleted) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (mac, idx) DO UPDATE SET version = excluded.version, deleted = excluded.deleted"
)
_PENDING = """
    SELECT a.mac, a.idx, a.version, a.deleted, s.applied_username,
           l."user", l.auth_user, l.password, l.display_name, l.registrar, l.outbound_proxy
    FROM account_lines a
    LEFT JOIN account_sync s ON s.sink = ? AND s.mac = a.mac AND s.idx = a.idx
    LEFT JOIN lines l ON l.mac = a.mac AND l.idx = a.idx AND a.deleted = 0
    WHERE a.version > COALESCE(s.applied_version, 0)
    ORDER BY a.version, a.mac, a.idx
    LIMIT ?
"""
_BACKLOG = """
    SELECT COUNT(*) FROM account_lines a
    LEFT JOIN account_sync s ON s.sink = ? AND s.mac = a.mac AND s.idx = a.idx
    WHERE a.version > COALESCE(s.applied_version, 0)
"""
_MARK_APPLIED = """
    INSERT INTO account_sync (sink, mac, idx, applied_version, applied_username, last_error, next_try, tries)
    VALUES (?, ?, ?, ?, ?, NULL, NULL, 0)
    ON CONFLICT (sink, mac, idx) DO UPDATE SET
        applied_version = excluded.applied_version, applied_username = excluded.applied_username,
        last_error = NULL, next_try = NULL, tries = 0
    WHERE excluded.applied_version >= account_sync.applied_version
"""
_MARK_FAILED = """
    INSERT INTO account_sync (sink, mac, idx, applied_version, last_error, next_try, tries)
    VALUES (?, ?, ?, 0, ?, ?, ?)
    ON CONFLICT (sink, mac, idx) DO UPDATE SET
        last_error = excluded.last_error, next_try = excluded.next_try, tries = excluded.tries
"""
_LINE_STATE = """
    SELECT a.idx, a.version, a.deleted, s.applied_version, s.last_error, s.next_try, s.tries
    FROM account_lines a
    LEFT JOIN account_sync s ON s.sink = ? AND s.mac = a.mac AND s.idx = a.idx
    WHERE a.mac = ?
    ORDER BY a.idx
"""
_TOMBSTONES = "SELECT mac, idx, version FROM account_lines WHERE deleted = 1"
_APPLIED_AT = "SELECT applied_version FROM account_sync WHERE sink = ? AND mac = ? AND idx = ?"
_DELETE_ACCOUNT_LINE = "DELETE FROM account_lines WHERE mac = ? AND idx = ?"
_DELETE_ACCOUNT_SYNC = "DELETE FROM account_sync WHERE mac = ? AND idx = ?"


class SQLPBXRecords:
    """
    The account tables over one transaction.
    """

    def _fetch(self, statement: str, *params: Any) -> list[Sequence[Any]]:
        raise NotImplementedError()

    def _execute(self, statement: str, *params: Any) -> None:
        raise NotImplementedError()

    def _executeMany(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError()

    def moveAccountLines(self, mac: str, moves: list[tuple[int, bool]]) -> None:
        self._execute(_NEXT_ACCOUNT)
        version = self._fetch(_LAST_ACCOUNT)[0][0]
        self._executeMany(_PUT_ACCOUNT_LINE, [(mac, index, version, int(deleted)) for index, deleted in moves])

    def pendingAccounts(self, sink: str, limit: int) -> list[PendingAccount]:
        found = []
        for row in self._fetch(_PENDING, sink, limit):
            mac, index, version, deleted, username, user = row[:6]
            line = None
            if not deleted and user is not None:
                authUser, password, displayName, registrar, outboundProxy = row[6:]
                line = Line(index=index, user=user, password=password, displayName=displayName,
                            registrar=registrar, authUser=authUser, outboundProxy=outboundProxy)
            found.append(PendingAccount(mac, index, version, bool(deleted), line, username))
        return found

    def markApplied(self, sink: str, rows: list[tuple[str, int, int, str | None]]) -> None:
        self._executeMany(_MARK_APPLIED, [(sink, *row) for row in rows])

    def markFailed(self, sink: str, keys: list[tuple[str, int]], error: str, nextTry: float | None,
                   tries: int) -> None:
        self._executeMany(_MARK_FAILED, [(sink, mac, index, error, nextTry, tries) for mac, index in keys])

    def accountBacklog(self, sinks: tuple[str, ...]) -> dict[str, int]:
        return {sink: self._fetch(_BACKLOG, sink)[0][0] for sink in sinks}

    def accountSyncState(self, mac: str, sinks: tuple[str, ...]) -> list[LineSyncState]:
        found = []
        for sink in sinks:
            for index, version, deleted, applied, error, nextTry, tries in self._fetch(_LINE_STATE, sink, mac):
                found.append(LineSyncState(sink, index, version, bool(deleted), applied or 0, error,
                                           nextTry, tries or 0))
        return sorted(found, key=lambda state: (state.index, sinks.index(state.sink)))

    def pruneAccounts(self, sinks: tuple[str, ...]) -> int:
        pruned = 0
        for mac, index, version in self._fetch(_TOMBSTONES):
            applied = [self._fetch(_APPLIED_AT, sink, mac, index) for sink in sinks]
            if all(rows and rows[0][0] >= version for rows in applied):
                self._execute(_DELETE_ACCOUNT_LINE, mac, index)
                self._execute(_DELETE_ACCOUNT_SYNC, mac, index)
                pruned += 1
        return pruned


class SQLPBXStore:
    """
    L{snomprov.interfaces.IAccountSyncStore} for a store with
    C{_run(work, write)} over records that are L{SQLPBXRecords}.
    """

    def _run(self, work, write=False):
        raise NotImplementedError()

    def pendingAccounts(self, sink, limit=100):
        return whenValid(lambda: (checkSink(sink), checkPendingLimit(limit)),
                         lambda checked: self._run(lambda r: r.pendingAccounts(*checked)))

    def markApplied(self, sink, rows):
        return whenValid(lambda: (checkSink(sink), checkApplied(rows)),
                         lambda checked: self._run(lambda r: r.markApplied(*checked), write=True))

    def markFailed(self, sink, keys, error, nextTry, tries):
        return whenValid(
            lambda: (checkSink(sink), checkKeys(keys)),
            lambda checked: self._run(lambda r: r.markFailed(*checked, str(error), nextTry, tries), write=True),
        )

    def accountBacklog(self, sinks):
        return whenValid(lambda: checkSinks(sinks), lambda checked: self._run(lambda r: r.accountBacklog(checked)))

    def accountSyncState(self, mac, sinks):
        return whenValid(lambda: (checkMAC(mac), checkSinks(sinks)),
                         lambda checked: self._run(lambda r: r.accountSyncState(*checked)))

    def pruneAccounts(self, sinks):
        return whenValid(lambda: checkSinks(sinks),
                         lambda checked: self._run(lambda r: r.pruneAccounts(checked), write=True))
