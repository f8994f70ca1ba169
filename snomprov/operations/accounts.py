# -*- test-case-name: tests.test_operations_accounts -*-
"""
Managing operators and API tokens (DESIGN §2, §4.3), and telling who
presents a password or a token.

Every function takes an L{snomprov.interfaces.IAccountStore} and, for a
change, the actor (C{cli}, C{operator:<name>}, C{token:<name>}) and the
time; the change and its audit event are written in one transaction.  The
first operator is always an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from snomprov.accounts import (
    InvalidAccount,
    Operator,
    Token,
    checkName,
    checkRole,
    hashPassword,
    newToken,
    tokenHash,
    verifyPassword,
)
from snomprov.audit import auditEvent
from snomprov.operations.errors import Conflict, NotFound, Refused
from snomprov.store.errors import AccountExists, LastAdmin, NoAdmin

__all__ = [
    "AddedOperator",
    "checkNewOperator",
    "addOperator",
    "listOperators",
    "removeOperator",
    "IssuedToken",
    "addToken",
    "listTokens",
    "revokeToken",
    "operatorForPassword",
    "tokenFor",
]


def _checked(check, value, *args):
    try:
        return check(value, *args)
    except InvalidAccount as e:
        raise Refused(str(e)) from None


async def _written(write):
    """
    Await a store write, its refusals as L{Conflict}.
    """
    try:
        return await write
    except (AccountExists, LastAdmin, NoAdmin) as e:
        raise Conflict(str(e)) from None


@dataclass(frozen=True)
class AddedOperator:
    """
    @ivar forcedAdmin: whether the operator was made an admin though
        another role was asked for (the first operator always is).
    """

    operator: Operator
    forcedAdmin: bool


def checkNewOperator(name: str, role: str) -> None:
    """
    What L{addOperator} checks before it looks at the store: a caller may
    check this before it asks for a password.

    @raise Refused: for a bad name or role.
    """
    _checked(checkName, name, "user name")
    _checked(checkRole, role)


async def addOperator(store, actor: str, now: float, name: str,
                      password: str | Callable[[], str], role: str = "operator") -> AddedOperator:
    """
    Add an operator with C{password} (only its scrypt hash is kept).

    @param password: the password, or a function asking for it, called
        once the name is known to be free.
    @raise Refused: for a bad name, role or password (an empty one).
    @raise Conflict: for a name taken.
    """
    checkNewOperator(name, role)
    if await store.getOperator(name) is not None:
        raise Conflict(f"user {name} exists already")
    if callable(password):
        password = password()
    first = not await store.listOperators()
    stored = "admin" if first else role
    operator = Operator(name, stored, _checked(hashPassword, password), now)
    summary = f"added as {stored}" + (" (the first user is an admin)" if stored != role else "")
    await _written(store.addOperator(operator, [auditEvent(now, actor, f"user:{name}", summary)]))
    return AddedOperator(operator, stored != role)


async def listOperators(store) -> list[Operator]:
    """
    Every operator, ordered by name.
    """
    return await store.listOperators()


async def removeOperator(store, actor: str, now: float, name: str) -> Operator:
    """
    Remove an operator.

    @return: the operator removed.
    @raise NotFound: for an unknown name.
    @raise Conflict: for the last admin.
    """
    _checked(checkName, name, "user name")
    operator = await store.getOperator(name)
    if operator is None:
        raise NotFound(f"no user {name}")
    event = auditEvent(now, actor, f"user:{name}", f"removed ({operator.role})")
    if not await _written(store.removeOperator(name, [event])):
        raise NotFound(f"no user {name}")
    return operator


@dataclass(frozen=True)
class IssuedToken:
    """
    A new token: what is stored, and the secret to show once.
    """

    token: Token
    secret: str

    def __repr__(self) -> str:
        return f"IssuedToken({self.token!r})"


async def addToken(store, actor: str, now: float, name: str, role: str = "operator") -> IssuedToken:
    """
    Issue a new API token; only its hash is kept.

    @raise Refused: for a bad name or role.
    @raise Conflict: for a name taken.
    """
    _checked(checkName, name, "token name")
    _checked(checkRole, role)
    secret = newToken()
    token = Token(name, role, tokenHash(secret), now)
    event = auditEvent(now, actor, f"token:{name}", f"issued ({role})")
    await _written(store.addToken(token, [event]))
    return IssuedToken(token, secret)


async def listTokens(store) -> list[Token]:
    """
    Every token (their names and roles; the secrets are not kept), ordered
    by name.
    """
    return await store.listTokens()


async def revokeToken(store, actor: str, now: float, name: str) -> None:
    """
    Revoke a token: it no longer authorises anything.

    @raise NotFound: for an unknown name.
    """
    _checked(checkName, name, "token name")
    if not await store.revokeToken(name, [auditEvent(now, actor, f"token:{name}", "revoked")]):
        raise NotFound(f"no token {name}")


async def operatorForPassword(store, name: str, password: str) -> Operator | None:
    """
    The operator C{name} if C{password} is theirs, else C{None} (an unknown
    name and a wrong password are not told apart).  scrypt takes tens of
    milliseconds: a caller in the daemon runs this in a thread or limits
    its rate.
    """
    operator = await store.getOperator(name) if isinstance(name, str) else None
    if operator is None or not verifyPassword(password, operator.passwordHash):
        return None
    return operator


async def tokenFor(store, secret: str) -> Token | None:
    """
    The token a client presents (C{Authorization: Bearer <secret>}), or
    C{None} if it is not a token issued and not revoked.
    """
    try:
        found = tokenHash(secret) if isinstance(secret, str) else None
    except UnicodeEncodeError:
        found = None
    return None if found is None else await store.findToken(found)
