# -*- test-case-name: tests.test_pbx_reconcile -*-
"""
C{snomprov pbx sync}: compare what each sink holds with what the store's
lines give, and re-apply everything (DESIGN §4.3, §8).

The differences of one sink are its I{missing} accounts (a line whose
account the sink does not hold), its I{extra} ones (held by the sink,
which holds only what snomprov wrote, but no line gives them) and the
I{different} ones (as the sink's C{differs} tells).  Re-applying writes
every line's account, removes the extra ones, and marks every line (and
tombstone) applied at the version read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from twisted.internet import defer

from snomprov.pbx.account import AccountChange, SIPAccount, accountFor
from snomprov.pbx.sync import errorMessage, sinkDomain

__all__ = ["Difference", "storedAccounts", "differences", "reconcile"]


@dataclass(frozen=True)
class Difference:
    """
    One account that differs at a sink: C{what} is C{missing}, C{extra}
    or C{different}.
    """

    sink: str
    username: str
    domain: str
    what: str

    def __str__(self) -> str:
        return f"{self.sink}: {self.username}@{self.domain}: {self.what}"


@dataclass(frozen=True)
class _Stored:
    account: SIPAccount
    version: int


async def storedAccounts(store, sink) -> tuple[dict[tuple[str, str], _Stored], list[tuple[str, int, int]]]:
    """
    The accounts the store's lines give for C{sink}, keyed by C{(username,
    domain)}, with their versions; and the tombstones C{(mac, index,
    version)}.
    """
    accounts: dict[tuple[str, str], _Stored] = {}
    tombstones = []
    for device in await store.listDevices():
        lines = {line.index: line for line in await store.getLines(device.mac)}
        states = await store.accountSyncState(device.mac, [sink.name])
        versions = {state.index: state.version for state in states}
        for index, line in sorted(lines.items()):
            account = accountFor(device.mac, line, sinkDomain(sink, line))
            accounts[(account.username, account.domain)] = _Stored(account, versions.get(index, 0))
    for p in await _allPending(store, sink.name):
        if p.deleted:
            tombstones.append((p.mac, p.index, p.version))
    return accounts, tombstones


async def _allPending(store, sink: str) -> list:
    return await store.pendingAccounts(sink, 1_000_000)


def differences(sink, stored: dict[tuple[str, str], Any], held: dict[tuple[str, str], SIPAccount]) -> list[Difference]:
    """
    The differences of one sink, ordered by user name and domain.
    """
    found = []
    for key in sorted(set(stored) | set(held)):
        if key not in held:
            what = "missing"
        elif key not in stored:
            what = "extra"
        elif sink.differs(stored[key].account, held[key]):
            what = "different"
        else:
            continue
        found.append(Difference(sink.name, key[0], key[1], what))
    return found


async def reconcile(store, sinks: Sequence[Any], dryRun: bool, report) -> tuple[list[Difference], list[str]]:
    """
    Compare every sink, calling C{report(line)} for each difference and,
    without C{dryRun}, re-apply everything to it.

    @return: the differences, and one line per sink that failed to apply.
    """
    found: list[Difference] = []
    failed: list[str] = []
    for sink in sinks:
        stored, tombstones = await storedAccounts(store, sink)
        held = await sink.accounts()
        mine = differences(sink, stored, held)
        for difference in mine:
            report(str(difference))
        found.extend(mine)
        if dryRun:
            continue
        changes = [AccountChange(a.mac, a.index, 0, None, a.username)
                   for key, a in sorted(held.items()) if key not in stored]
        changes += [AccountChange(s.account.mac, s.account.index, s.version, s.account)
                    for _, s in sorted(stored.items(), key=lambda item: (item[1].account.mac, item[1].account.index))]
        try:
            await defer.maybeDeferred(sink.apply, changes)
        except Exception as e:
            failed.append(f"{sink.name}: cannot apply: {errorMessage(e)}")
            report(failed[-1])
            continue
        await store.markApplied(sink.name, [
            *((s.account.mac, s.account.index, s.version, s.account.username) for s in stored.values()),
            *((mac, index, version, None) for mac, index, version in tombstones),
        ])
        report(f"{sink.name}: applied {len(stored)} accounts, removed {len(changes) - len(stored)}")
    return found, failed
