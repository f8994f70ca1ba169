# -*- test-case-name: tests.test_store_accounts -*-
"""
The operators and tokens of L{snomprov.interfaces.IAccountStore}, written
once against L{AccountRecords} (as L{snomprov.store.writes} is for
devices): validation, the "there is always an admin" rule and the audit
events written in the same transaction.  Each backend provides the records
and mixes in L{AccountWrites}.
"""

from __future__ import annotations

from typing import Any, Iterable, Protocol

from snomprov.accounts import (
    InvalidAccount,
    Operator,
    Token,
    checkName,
    checkRole,
    isPasswordHash,
    isTokenHash,
)
from snomprov.device import Event
from snomprov.store.checks import checkEvents
from snomprov.store.errors import AccountExists, LastAdmin, NoAdmin, StoreError
from snomprov.store.writes import whenValid

__all__ = ["AccountRecords", "AccountWrites", "checkOperator", "checkToken"]


class AccountRecords(Protocol):
    """
    One transaction's view of a store's operators and tokens.
    """

    def getOperator(self, name: str) -> Operator | None: ...

    def listOperators(self) -> list[Operator]: ...

    def putOperator(self, operator: Operator) -> None: ...

    def removeOperator(self, name: str) -> bool: ...

    def getToken(self, name: str) -> Token | None: ...

    def findToken(self, tokenHash: str) -> Token | None: ...

    def listTokens(self) -> list[Token]: ...

    def putToken(self, token: Token) -> None: ...

    def removeToken(self, name: str) -> bool: ...

    def addEvents(self, events: tuple[Event, ...]) -> None: ...


_ARTICLE = {Operator: "an", Token: "a"}


def _checkAccount(value: Any, kind: type, what: str) -> None:
    if not isinstance(value, kind):
        raise StoreError(f"not {_ARTICLE[kind]} {kind.__name__}: {type(value).__name__}")
    try:
        checkName(value.name, f"{what} name")
        checkRole(value.role)
    except InvalidAccount as e:
        raise StoreError(str(e)) from None
    if isinstance(value.created, bool) or not isinstance(value.created, (int, float)):
        raise StoreError(f"{what} {value.name}: created must be a number")


def checkOperator(operator: object) -> Operator:
    """
    An operator to store: a valid name and role, and a password hash (never
    a password in clear).
    """
    _checkAccount(operator, Operator, "user")
    if not isPasswordHash(operator.passwordHash):  # type: ignore[union-attr]
        raise StoreError(f"user {operator.name}: the password is not an scrypt hash")  # type: ignore[union-attr]
    return operator  # type: ignore[return-value]


def checkToken(token: object) -> Token:
    """
    A token to store: a valid name and role, and the token's hash (never
    the token).
    """
    _checkAccount(token, Token, "token")
    if not isTokenHash(token.tokenHash):  # type: ignore[union-attr]
        raise StoreError(f"token {token.name}: not a token hash")  # type: ignore[union-attr]
    return token  # type: ignore[return-value]


def _checkName(name: object, what: str) -> str:
    if not isinstance(name, str):
        raise StoreError(f"{what} name must be a string, not {type(name).__name__}")
    return name


def addOperatorTo(records: AccountRecords, operator: Operator, events: tuple[Event, ...]) -> None:
    if records.getOperator(operator.name) is not None:
        raise AccountExists(f"user {operator.name} exists already")
    if operator.role != "admin" and not records.listOperators():
        raise NoAdmin(f"user {operator.name}: the first user must be an admin")
    records.putOperator(operator)
    records.addEvents(events)


def removeOperatorFrom(records: AccountRecords, name: str, events: tuple[Event, ...]) -> bool:
    operator = records.getOperator(name)
    if operator is None:
        return False
    if operator.role == "admin" and not any(
        other.role == "admin" and other.name != name for other in records.listOperators()
    ):
        raise LastAdmin(f"user {name} is the last admin: make another admin first")
    records.removeOperator(name)
    records.addEvents(events)
    return True


def addTokenTo(records: AccountRecords, token: Token, events: tuple[Event, ...]) -> None:
    if records.getToken(token.name) is not None:
        raise AccountExists(f"token {token.name} exists already")
    if records.findToken(token.tokenHash) is not None:
        raise AccountExists(f"token {token.name}: that token is already issued")
    records.putToken(token)
    records.addEvents(events)


def revokeTokenFrom(records: AccountRecords, name: str, events: tuple[Event, ...]) -> bool:
    if not records.removeToken(name):
        return False
    records.addEvents(events)
    return True


class AccountWrites:
    """
    L{snomprov.interfaces.IAccountStore}, written once: a backend mixes
    this in and provides C{_write(check, apply)} (as for
    L{snomprov.store.writes.StoreWrites}, on records that are also
    L{AccountRecords}) and C{_read(work)}, running C{work(records)} in a
    read transaction and returning a Deferred with its result.
    """

    def _write(self, check, apply):
        raise NotImplementedError()

    def _read(self, work):
        raise NotImplementedError()

    def addOperator(self, operator, events: Iterable[Event] = ()):
        return self._write(
            lambda: (checkOperator(operator), checkEvents(events)),
            lambda records, checked: addOperatorTo(records, *checked),
        )

    def getOperator(self, name):
        return whenValid(lambda: _checkName(name, "user"), lambda n: self._read(lambda r: r.getOperator(n)))

    def listOperators(self):
        return self._read(lambda r: r.listOperators())

    def removeOperator(self, name, events: Iterable[Event] = ()):
        return self._write(
            lambda: (_checkName(name, "user"), checkEvents(events)),
            lambda records, checked: removeOperatorFrom(records, *checked),
        )

    def addToken(self, token, events: Iterable[Event] = ()):
        return self._write(
            lambda: (checkToken(token), checkEvents(events)),
            lambda records, checked: addTokenTo(records, *checked),
        )

    def findToken(self, tokenHash):
        if not isTokenHash(tokenHash):
            return self._read(lambda r: None)
        return self._read(lambda r: r.findToken(tokenHash))

    def listTokens(self):
        return self._read(lambda r: r.listTokens())

    def revokeToken(self, name, events: Iterable[Event] = ()):
        return self._write(
            lambda: (_checkName(name, "token"), checkEvents(events)),
            lambda records, checked: revokeTokenFrom(records, *checked),
        )
