# -*- test-case-name: tests.test_store_accounts -*-
"""
The operators and tokens tables (schema version 3) as
L{snomprov.store.accounts.AccountRecords}: a mixin of the SQL store's
records, using their C{_fetch}, C{_execute} and C{_delete}.
"""

from __future__ import annotations

from typing import Any, Sequence

from snomprov.accounts import Operator, Token

__all__ = ["SQLAccountRecords"]

_SELECT_OPERATORS = "SELECT name, role, password_hash, created FROM operators"
_GET_OPERATOR = _SELECT_OPERATORS + " WHERE name = ?"
_LIST_OPERATORS = _SELECT_OPERATORS + " ORDER BY name"
_INSERT_OPERATOR = "INSERT INTO operators (name, role, password_hash, created) VALUES (?, ?, ?, ?)"
_DELETE_OPERATOR = "DELETE FROM operators WHERE name = ?"
_SELECT_TOKENS = "SELECT name, role, token_hash, created FROM tokens"
_GET_TOKEN = _SELECT_TOKENS + " WHERE name = ?"
_FIND_TOKEN = _SELECT_TOKENS + " WHERE token_hash = ?"
_LIST_TOKENS = _SELECT_TOKENS + " ORDER BY name"
_INSERT_TOKEN = "INSERT INTO tokens (name, role, token_hash, created) VALUES (?, ?, ?, ?)"
_DELETE_TOKEN = "DELETE FROM tokens WHERE name = ?"


def _operator(row: Sequence[Any]) -> Operator:
    return Operator(*row)


def _token(row: Sequence[Any]) -> Token:
    return Token(*row)


class SQLAccountRecords:
    """
    L{snomprov.store.accounts.AccountRecords} over SQL, for a class that
    has C{_fetch(statement, *params)}, C{_execute(statement, *params)} and
    C{_delete(statement, *params)}.
    """

    def _fetch(self, statement: str, *params: Any) -> list[Sequence[Any]]:
        raise NotImplementedError()

    def _execute(self, statement: str, *params: Any) -> None:
        raise NotImplementedError()

    def _delete(self, statement: str, *params: Any) -> bool:
        raise NotImplementedError()

    def getOperator(self, name: str) -> Operator | None:
        rows = self._fetch(_GET_OPERATOR, name)
        return _operator(rows[0]) if rows else None

    def listOperators(self) -> list[Operator]:
        return [_operator(row) for row in self._fetch(_LIST_OPERATORS)]

    def putOperator(self, operator: Operator) -> None:
        self._execute(_INSERT_OPERATOR, operator.name, operator.role, operator.passwordHash,
                      operator.created)

    def removeOperator(self, name: str) -> bool:
        return self._delete(_DELETE_OPERATOR, name)

    def getToken(self, name: str) -> Token | None:
        rows = self._fetch(_GET_TOKEN, name)
        return _token(rows[0]) if rows else None

    def findToken(self, tokenHash: str) -> Token | None:
        rows = self._fetch(_FIND_TOKEN, tokenHash)
        return _token(rows[0]) if rows else None

    def listTokens(self) -> list[Token]:
        return [_token(row) for row in self._fetch(_LIST_TOKENS)]

    def putToken(self, token: Token) -> None:
        self._execute(_INSERT_TOKEN, token.name, token.role, token.tokenHash, token.created)

    def removeToken(self, name: str) -> bool:
        return self._delete(_DELETE_TOKEN, name)
