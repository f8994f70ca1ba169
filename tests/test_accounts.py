"""
Tests for L{snomprov.accounts} (roles, names, password hashes, tokens) and
L{snomprov.audit} (audit events): pure values.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snomprov.accounts import (
    ROLES,
    SCRYPT_N,
    TOKEN_PREFIX,
    InvalidAccount,
    Operator,
    Token,
    checkName,
    checkRole,
    hashPassword,
    isPasswordHash,
    isTokenHash,
    newToken,
    permits,
    tokenHash,
    verifyPassword,
    verifyToken,
)
from snomprov.audit import AUDIT, CLI, Audit, auditEvent, operatorActor, parseAudit, tokenActor
from snomprov.device import Event

CHEAP = {"n": 16, "r": 1, "p": 1}
"""
scrypt parameters cheap enough for property tests; the defaults are tested
apart.
"""

passwords = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=64)


def test_rolesOrdered():
    """
    C{admin} permits everything, C{operator} what C{operator} and
    C{viewer} need, C{viewer} only what C{viewer} needs.
    """
    expected = {
        ("admin", "admin"): True, ("admin", "operator"): True, ("admin", "viewer"): True,
        ("operator", "admin"): False, ("operator", "operator"): True, ("operator", "viewer"): True,
        ("viewer", "admin"): False, ("viewer", "operator"): False, ("viewer", "viewer"): True,
    }  # fmt: skip
    assert {(a, b): permits(a, b) for a in ROLES for b in ROLES} == expected


@pytest.mark.parametrize("role", ["root", "Admin", "", None, 1])
def test_unknownRoleRefused(role):
    """
    Anything but the three roles is refused with a message naming them.
    """
    with pytest.raises(InvalidAccount, match="use admin, operator or viewer"):
        checkRole(role)
    with pytest.raises(InvalidAccount):
        permits("admin", role)


@pytest.mark.parametrize("name", ["alice", "a", "ops.team-1", "x_y", "0day", "a" * 64])
def test_goodNames(name):
    assert checkName(name) == name


@pytest.mark.parametrize("name", ["", "Alice", "al ice", "-alice", ".x", "a" * 65, "al:ice", "é", None])
def test_badNamesRefused(name):
    """
    A bad name is refused with one message saying what a name may be.
    """
    with pytest.raises(InvalidAccount) as raised:
        checkName(name, "user name")
    assert str(raised.value) == (
        f"bad user name {name!r}: use 1 to 64 lower-case letters, digits, '.', '_' or '-', "
        "starting with a letter or a digit"
    )


@settings(max_examples=50, deadline=None)
@given(passwords)
def test_passwordRoundTrip(password):
    """
    A password verifies against its own hash.
    """
    stored = hashPassword(password, **CHEAP)
    assert isPasswordHash(stored)
    assert verifyPassword(password, stored)


@settings(max_examples=50, deadline=None)
@given(passwords, passwords)
def test_wrongPasswordFails(password, other):
    """
    Another password does not verify.
    """
    stored = hashPassword(password, **CHEAP)
    assert verifyPassword(other, stored) == (other == password)


@settings(max_examples=30, deadline=None)
@given(passwords)
def test_hashHoldsNoPasswordAndIsSalted(password):
    """
    Two hashes of one password differ (fresh salt) and neither holds it.
    """
    first, second = hashPassword(password, **CHEAP), hashPassword(password, **CHEAP)
    assert first != second
    assert password not in first.split("$")[4:]


def test_defaultHashSelfDescribing():
    """
    A hash with the default parameters names them, and one made with other
    parameters still verifies: they can change later.
    """
    stored = hashPassword("correct horse")
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", SCRYPT_N, 8, 1)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", salt) and re.fullmatch(r"[A-Za-z0-9_-]{43}", key)
    assert verifyPassword("correct horse", stored)
    assert not verifyPassword("correct horsf", stored)
    older = hashPassword("correct horse", n=1024, r=4, p=2)
    assert older.startswith("scrypt$1024$4$2$") and verifyPassword("correct horse", older)


@pytest.mark.parametrize("password", ["", None, "x" * 1025])
def test_badPasswordRefused(password):
    with pytest.raises(InvalidAccount):
        hashPassword(password, **CHEAP)


@pytest.mark.parametrize("stored", [
    "", "secret", "scrypt$16$1$1$short$short", "scrypt$15$1$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
    "scrypt$1048576$1000$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "sha256$" + "0" * 64,
])
def test_malformedHashVerifiesNothing(stored):
    """
    What is not an scrypt hash of ours (a password in clear, parameters
    that are not a power of two or that would take too much memory) is not
    a hash and verifies nothing.
    """
    assert not isPasswordHash(stored)
    assert not verifyPassword(stored, stored)
    assert not verifyPassword("secret", stored)


@settings(max_examples=50)
@given(st.integers())
def test_tokensNeverTheirHash(_):
    """
    A new token is recognisable, different every time, never equal to (nor
    inside) its hash, and verifies against its hash only.
    """
    token, other = newToken(), newToken()
    assert token.startswith(TOKEN_PREFIX) and len(token) == len(TOKEN_PREFIX) + 43
    assert token != other
    stored = tokenHash(token)
    assert isTokenHash(stored) and stored != token and token not in stored
    assert verifyToken(token, stored)
    assert not verifyToken(other, stored)
    assert not verifyToken(stored, stored)


@pytest.mark.parametrize("token", ["", "abc", None, "snp_\udc80"])
def test_badTokensVerifyNothing(token):
    assert not verifyToken(token, tokenHash("snp_x"))


def test_reprHoldsNoHash():
    """
    An operator's or token's repr (what a log or a traceback shows) holds
    no hash.
    """
    operator = Operator("alice", "admin", hashPassword("pw", **CHEAP), 1.0)
    token = Token("ci", "viewer", tokenHash(newToken()), 2.0)
    assert "scrypt" not in repr(operator) and "sha256" not in repr(token)
    assert "alice" in repr(operator) and "ci" in repr(token)


def test_auditEventRoundTrip():
    """
    An audit event names actor, object and summary, and reads back.
    """
    event = auditEvent(5.0, CLI, "user:alice", "added as admin")
    assert event == Event(5.0, None, AUDIT, "cli user:alice: added as admin")
    assert parseAudit(event) == Audit("cli", "user:alice", "added as admin")
    assert operatorActor("bob") == "operator:bob" and tokenActor("ci") == "token:ci"
    assert parseAudit(auditEvent(1.0, tokenActor("ci"), "device:000413922D24", "x: y")) == Audit(
        "token:ci", "device:000413922D24", "x: y")


def test_notAudit():
    assert parseAudit(Event(1.0, None, "subscribe", "cli user:a: b")) is None
    assert parseAudit(Event(1.0, None, AUDIT, "nonsense")) is None


@pytest.mark.parametrize("actor,object", [("c li", "user:a"), ("cli", "user:"), ("", "x"), ("cli", "a b")])
def test_auditWordsWithoutSpaces(actor, object):
    with pytest.raises(ValueError):
        auditEvent(1.0, actor, object, "summary")
