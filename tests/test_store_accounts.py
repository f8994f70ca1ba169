"""
Tests for the operators and tokens of every store
(L{snomprov.interfaces.IAccountStore}): one contract suite run against each
backend the device store tests run against (their fixture), then what only
SQL promises (persistence, the schema's migration).
"""

from __future__ import annotations

import sqlite3

import pytest
import pytest_twisted
from zope.interface.verify import verifyObject

from snomprov.accounts import Operator, Token, hashPassword, newToken, tokenHash
from snomprov.audit import auditEvent
from snomprov.device import Event
from snomprov.interfaces import IAccountStore
from snomprov.store import AccountExists, LastAdmin, NoAdmin, StoreError
from snomprov.store.migrations import MIGRATIONS

# The device store tests' fixture: every backend they run against.
from test_store import _openSQLite, _tableRows, store  # noqa: E402, F401

HASH = hashPassword("pw", n=16, r=1, p=1)
ALICE = Operator("alice", "admin", HASH, 10.0)
BOB = Operator("bob", "viewer", hashPassword("pw2", n=16, r=1, p=1), 11.0)
SECRET = newToken()
CI = Token("ci", "operator", tokenHash(SECRET), 12.0)


def audit(summary, object="user:alice"):
    return auditEvent(1.0, "cli", object, summary)


def test_providesInterface(store):
    assert verifyObject(IAccountStore, store)


@pytest_twisted.inlineCallbacks
def test_emptyStore(store):
    assert (yield store.listOperators()) == []
    assert (yield store.listTokens()) == []
    assert (yield store.getOperator("alice")) is None
    assert (yield store.findToken(CI.tokenHash)) is None


@pytest_twisted.inlineCallbacks
def test_operatorsRoundTrip(store):
    """
    Added operators come back whole, ordered by name, with their audit
    events appended.
    """
    yield store.addOperator(Operator("carol", "admin", HASH, 9.0), [audit("added", "user:carol")])
    yield store.addOperator(BOB, [audit("added", "user:bob")])
    yield store.addOperator(ALICE)
    assert [o.name for o in (yield store.listOperators())] == ["alice", "bob", "carol"]
    assert (yield store.getOperator("bob")) == BOB
    assert [e.detail for e in (yield store.listEvents())] == [
        "cli user:bob: added", "cli user:carol: added"]


@pytest_twisted.inlineCallbacks
def test_firstOperatorMustBeAdmin(store):
    """
    The first operator must be an admin: a viewer first is refused, with
    nothing stored, not even its audit event.
    """
    with pytest.raises(NoAdmin, match="the first user must be an admin"):
        yield store.addOperator(BOB, [audit("added", "user:bob")])
    assert (yield store.listOperators()) == []
    assert (yield store.listEvents()) == []


@pytest_twisted.inlineCallbacks
def test_duplicateOperatorRefused(store):
    """
    An operator of a name taken is refused, the stored one kept, no event
    written.
    """
    yield store.addOperator(ALICE)
    with pytest.raises(AccountExists, match="user alice exists already"):
        yield store.addOperator(Operator("alice", "viewer", BOB.passwordHash, 20.0), [audit("again")])
    assert (yield store.listOperators()) == [ALICE]
    assert (yield store.listEvents()) == []


@pytest_twisted.inlineCallbacks
def test_removeOperator(store):
    """
    Removing an operator says whether it existed; only a real removal is
    audited.
    """
    yield store.addOperator(ALICE)
    yield store.addOperator(BOB)
    assert (yield store.removeOperator("bob", [audit("removed", "user:bob")])) is True
    assert (yield store.removeOperator("bob", [audit("removed again", "user:bob")])) is False
    assert (yield store.listOperators()) == [ALICE]
    assert [e.detail for e in (yield store.listEvents())] == ["cli user:bob: removed"]


@pytest_twisted.inlineCallbacks
def test_lastAdminKept(store):
    """
    The last admin cannot be removed (even when it is the only operator);
    once there is another admin, it can.
    """
    yield store.addOperator(ALICE)
    yield store.addOperator(BOB)
    with pytest.raises(LastAdmin, match="user alice is the last admin"):
        yield store.removeOperator("alice", [audit("removed")])
    assert (yield store.listOperators()) == [ALICE, BOB]
    assert (yield store.listEvents()) == []
    yield store.addOperator(Operator("carol", "admin", HASH, 13.0))
    assert (yield store.removeOperator("alice")) is True
    with pytest.raises(LastAdmin, match="user carol is the last admin"):
        yield store.removeOperator("carol")


@pytest_twisted.inlineCallbacks
def test_tokens(store):
    """
    Tokens are found by their hash, listed by name, revoked by name; each
    change appends its events.
    """
    other = Token("backup", "viewer", tokenHash(newToken()), 13.0)
    yield store.addToken(CI, [audit("issued", "token:ci")])
    yield store.addToken(other)
    assert (yield store.listTokens()) == [other, CI]
    assert (yield store.findToken(tokenHash(SECRET))) == CI
    assert (yield store.findToken(tokenHash(newToken()))) is None
    assert (yield store.findToken(SECRET)) is None
    assert (yield store.revokeToken("ci", [audit("revoked", "token:ci")])) is True
    assert (yield store.revokeToken("ci", [audit("revoked again", "token:ci")])) is False
    assert (yield store.findToken(tokenHash(SECRET))) is None
    assert (yield store.listTokens()) == [other]
    assert [e.detail for e in (yield store.listEvents())] == [
        "cli token:ci: revoked", "cli token:ci: issued"]


@pytest_twisted.inlineCallbacks
def test_duplicateTokenRefused(store):
    """
    A token name taken, or a token hash already issued, is refused.
    """
    yield store.addToken(CI)
    with pytest.raises(AccountExists, match="token ci exists already"):
        yield store.addToken(Token("ci", "viewer", tokenHash(newToken()), 1.0))
    with pytest.raises(AccountExists, match="already issued"):
        yield store.addToken(Token("copy", "viewer", CI.tokenHash, 1.0))
    assert (yield store.listTokens()) == [CI]


@pytest.mark.parametrize("operator,message", [
    (Operator("alice", "admin", "pw", 1.0), "not an scrypt hash"),
    (Operator("alice", "admin", tokenHash("x"), 1.0), "not an scrypt hash"),
    (Operator("Alice", "admin", HASH, 1.0), "bad user name"),
    (Operator("alice", "root", HASH, 1.0), "unknown role"),
    (Operator("alice", "admin", HASH, None), "created must be a number"),
    (Token("ci", "viewer", HASH, 1.0), "not an Operator"),
])
@pytest_twisted.inlineCallbacks
def test_badOperatorsRefused(store, operator, message):
    """
    What is not an operator with a valid name, role and password hash (a
    password in clear) is refused before anything is written.
    """
    with pytest.raises(StoreError, match=message):
        yield store.addOperator(operator)
    assert (yield store.listOperators()) == []


@pytest.mark.parametrize("token,message", [
    (Token("ci", "viewer", SECRET, 1.0), "not a token hash"),
    (Token("ci", "viewer", HASH, 1.0), "not a token hash"),
    (Token("c i", "viewer", tokenHash(SECRET), 1.0), "bad token name"),
    (Token("ci", "superuser", tokenHash(SECRET), 1.0), "unknown role"),
])
@pytest_twisted.inlineCallbacks
def test_badTokensRefused(store, token, message):
    """
    A token in clear, or with a bad name or role, is refused.
    """
    with pytest.raises(StoreError, match=message):
        yield store.addToken(token)
    assert (yield store.listTokens()) == []


@pytest_twisted.inlineCallbacks
def test_badEventsRefuseTheChange(store):
    """
    An account change whose events are bad is refused whole.
    """
    with pytest.raises(StoreError, match="not an Event"):
        yield store.addOperator(ALICE, ["added"])
    assert (yield store.listOperators()) == []


@pytest_twisted.inlineCallbacks
def test_accountsLeaveSettingsVersion(store):
    """
    Operators and tokens are nothing a phone's file depends on: the
    settings version stays.
    """
    yield store.addOperator(ALICE)
    yield store.addToken(CI)
    yield store.revokeToken("ci")
    assert (yield store.settingsVersion()) == 0


# ---------------------------------------------------------------------------
# SQL only


@pytest_twisted.inlineCallbacks
def test_sqliteKeepsOnlyHashes(tmp_path):
    """
    Reopened, an SQLite store gives the operators and tokens back; its file
    holds their hashes, never the password or the token.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path)
    password = "correct horse battery"
    alice = Operator("alice", "admin", hashPassword(password, n=16, r=1, p=1), 1.0)
    yield store.addOperator(alice)
    yield store.addToken(CI)
    yield store.close()
    store = yield _openSQLite(path)
    try:
        assert (yield store.listOperators()) == [alice]
        assert (yield store.findToken(CI.tokenHash)) == CI
    finally:
        yield store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert password.encode() not in data and SECRET.encode() not in data
    assert _tableRows(path, "SELECT password_hash FROM operators") == [(alice.passwordHash,)]
    assert _tableRows(path, "SELECT token_hash FROM tokens") == [(CI.tokenHash,)]


@pytest_twisted.inlineCallbacks
def test_sqliteMigratesVersion2(tmp_path):
    """
    A database at schema version 2 (before accounts) keeps its events and
    gains the operators and tokens tables.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path, MIGRATIONS[:2])
    yield store.addEvents([Event(1.0, None, "subscribe", "old")])
    yield store.close()
    assert _tableRows(path, "SELECT name FROM sqlite_master WHERE name IN ('operators', 'tokens')") == []
    store = yield _openSQLite(path)
    try:
        yield store.addOperator(ALICE)
        assert (yield store.listOperators()) == [ALICE]
        assert (yield store.listEvents()) == [Event(1.0, None, "subscribe", "old")]
    finally:
        yield store.close()
    assert _tableRows(path, "SELECT max(version) FROM schema_version") == [(MIGRATIONS[-1][0],)]


@pytest_twisted.inlineCallbacks
def test_sqliteSchemaRefusesClearText(tmp_path):
    """
    The tables themselves refuse what is not a hash or a role, past the
    store's checks.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path)
    yield store.close()
    connection = sqlite3.connect(str(path))
    try:
        for statement in ("INSERT INTO operators VALUES ('a', 'admin', 'pw', 1.0)",
                          "INSERT INTO operators VALUES ('a', 'root', 'scrypt$x', 1.0)",
                          "INSERT INTO tokens VALUES ('a', 'viewer', 'snp_abc', 1.0)"):
            with pytest.raises(sqlite3.IntegrityError):
                connection.execute(statement)
    finally:
        connection.close()
