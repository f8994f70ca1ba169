"""
Tests for L{snomprov.operations.accounts}: every account operation through
the operations layer, against each store backend, with the audit events it
records and the look-ups the API authenticates with.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer

from snomprov.accounts import tokenHash, verifyPassword
from snomprov.audit import CLI, Audit, operatorActor, parseAudit, tokenActor
from snomprov.operations import accounts
from snomprov.operations.errors import Conflict, NotFound, Refused


# The device store tests' fixture: every backend they run against.
from test_store import store  # noqa: E402, F401


def run(coroutine):
    return defer.ensureDeferred(coroutine)


@defer.inlineCallbacks
def auditTrail(store):
    events = yield store.listEvents(limit=100)
    return [parseAudit(e) for e in reversed(events)]


@pytest_twisted.inlineCallbacks
def test_operatorLifecycle(store):
    """
    Add (the first forced to admin), list, authenticate by password, remove;
    each change audited with its actor and time.
    """
    first = yield run(accounts.addOperator(store, CLI, 5.0, "alice", "pw-a", "viewer"))
    assert (first.operator.name, first.operator.role, first.forcedAdmin) == ("alice", "admin", True)
    assert first.operator.created == 5.0 and verifyPassword("pw-a", first.operator.passwordHash)
    second = yield run(accounts.addOperator(store, operatorActor("alice"), 6.0, "bob", "pw-b", "viewer"))
    assert (second.operator.role, second.forcedAdmin) == ("viewer", False)
    assert [o.name for o in (yield run(accounts.listOperators(store)))] == ["alice", "bob"]
    assert (yield run(accounts.operatorForPassword(store, "bob", "pw-b"))) == second.operator
    assert (yield run(accounts.operatorForPassword(store, "bob", "pw-a"))) is None
    assert (yield run(accounts.operatorForPassword(store, "nobody", "pw-b"))) is None
    removed = yield run(accounts.removeOperator(store, operatorActor("alice"), 7.0, "bob"))
    assert removed == second.operator
    assert (yield auditTrail(store)) == [
        Audit("cli", "user:alice", "added as admin (the first user is an admin)"),
        Audit("operator:alice", "user:bob", "added as viewer"),
        Audit("operator:alice", "user:bob", "removed (viewer)"),
    ]
    assert [e.time for e in (yield store.listEvents())] == [7.0, 6.0, 5.0]


@pytest_twisted.inlineCallbacks
def test_passwordAskedOnlyForAFreeName(store):
    """
    A password given as a function is asked for only once the name is
    known to be free.
    """
    asked = []

    def ask():
        asked.append(True)
        return "pw"

    yield run(accounts.addOperator(store, CLI, 1.0, "alice", ask))
    with pytest.raises(Conflict, match="user alice exists already"):
        yield run(accounts.addOperator(store, CLI, 2.0, "alice", ask))
    assert asked == [True]


@pytest.mark.parametrize("name,password,role,message", [
    ("Alice", "pw", "operator", "bad user name 'Alice'"),
    ("alice", "pw", "root", "unknown role 'root'"),
    ("alice", "", "operator", "the password is empty"),
])
@pytest_twisted.inlineCallbacks
def test_addRefused(store, name, password, role, message):
    with pytest.raises(Refused, match=message):
        yield run(accounts.addOperator(store, CLI, 1.0, name, password, role))
    assert (yield store.listOperators()) == [] and (yield store.listEvents()) == []


@pytest_twisted.inlineCallbacks
def test_removeRefused(store):
    """
    An unknown user is L{NotFound}; the last admin is a L{Conflict}.
    """
    with pytest.raises(NotFound, match="no user zed"):
        yield run(accounts.removeOperator(store, CLI, 1.0, "zed"))
    yield run(accounts.addOperator(store, CLI, 1.0, "alice", "pw"))
    with pytest.raises(Conflict, match="last admin"):
        yield run(accounts.removeOperator(store, CLI, 2.0, "alice"))
    assert len((yield store.listOperators())) == 1 and len((yield store.listEvents())) == 1


@pytest_twisted.inlineCallbacks
def test_tokenLifecycle(store):
    """
    Issue (the secret handed back once, its hash stored), authenticate by
    the secret, list, revoke; each change audited, never with the secret.
    """
    issued = yield run(accounts.addToken(store, operatorActor("alice"), 3.0, "ci", "viewer"))
    assert issued.token.tokenHash == tokenHash(issued.secret) and issued.token.role == "viewer"
    assert issued.secret not in repr(issued)
    assert (yield run(accounts.tokenFor(store, issued.secret))) == issued.token
    assert (yield run(accounts.tokenFor(store, issued.token.tokenHash))) is None
    assert (yield run(accounts.tokenFor(store, "snp_\udc80"))) is None
    assert (yield run(accounts.tokenFor(store, None))) is None
    assert (yield run(accounts.listTokens(store))) == [issued.token]
    with pytest.raises(Conflict, match="token ci exists already"):
        yield run(accounts.addToken(store, CLI, 4.0, "ci"))
    yield run(accounts.revokeToken(store, tokenActor("ci"), 5.0, "ci"))
    assert (yield run(accounts.tokenFor(store, issued.secret))) is None
    with pytest.raises(NotFound, match="no token ci"):
        yield run(accounts.revokeToken(store, CLI, 6.0, "ci"))
    trail = yield auditTrail(store)
    assert trail == [Audit("operator:alice", "token:ci", "issued (viewer)"),
                     Audit("token:ci", "token:ci", "revoked")]
    assert not any(issued.secret in (a.summary + a.object) for a in trail)


@pytest.mark.parametrize("name,role,message", [("C I", "viewer", "bad token name"), ("ci", "x", "unknown role")])
@pytest_twisted.inlineCallbacks
def test_tokenRefused(store, name, role, message):
    with pytest.raises(Refused, match=message):
        yield run(accounts.addToken(store, CLI, 1.0, name, role))
    assert (yield store.listTokens()) == []
