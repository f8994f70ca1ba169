# -*- test-case-name: tests.test_accounts -*-
"""
Operators and API tokens as pure values: roles, names, password hashes and
tokens.  Nothing here does I/O or knows about Twisted.

Roles are ordered C{admin} > C{operator} > C{viewer} (DESIGN §2): L{permits}
says whether a role may do what needs another.

A password is kept only as an scrypt hash (L{hashPassword}), written as one
self-describing string, C{scrypt$<n>$<r>$<p>$<salt>$<key>} (salt and key in
unpadded URL-safe base 64), so that the parameters can change later and old
hashes still verify.  An API token (L{newToken}) is C{snp_} and 43 random
URL-safe characters (256 bits): it is shown once and kept only as its
SHA-256 (L{tokenHash}), which is enough for a secret of that entropy and
lets a token be looked up by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

__all__ = [
    "ROLES",
    "InvalidAccount",
    "permits",
    "checkRole",
    "checkName",
    "Operator",
    "Token",
    "hashPassword",
    "verifyPassword",
    "isPasswordHash",
    "TOKEN_PREFIX",
    "newToken",
    "tokenHash",
    "isTokenHash",
    "verifyToken",
]

ROLES: tuple[str, ...] = ("viewer", "operator", "admin")
"""
The roles, least to most powerful.
"""

_RANK = {role: rank for rank, role in enumerate(ROLES)}


class InvalidAccount(ValueError):
    """
    A name, role, password or token is refused; the message says why and
    never holds a secret.
    """


def checkRole(role: object) -> str:
    """
    @return: C{role}, when it is one of L{ROLES}.
    @raise InvalidAccount: naming it and the roles there are.
    """
    if not isinstance(role, str) or role not in _RANK:
        raise InvalidAccount(f"unknown role {role!r}: use admin, operator or viewer")
    return role


def permits(role: str, needed: str) -> bool:
    """
    Whether C{role} may do what needs C{needed}: the same role or a more
    powerful one.

    @raise InvalidAccount: if either is not a role.
    """
    return _RANK[checkRole(role)] >= _RANK[checkRole(needed)]


_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def checkName(name: object, what: str = "name") -> str:
    """
    An operator's or a token's name: 1 to 64 lower-case ASCII letters,
    digits, C{.}, C{_} or C{-}, starting with a letter or a digit (so that
    it fits in an audit event's actor, C{operator:<name>}, and in a URL).

    @param what: how the message calls the name (C{"user name"}).
    @return: C{name}.
    @raise InvalidAccount: saying what is allowed.
    """
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise InvalidAccount(
            f"bad {what} {name!r}: use 1 to 64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit"
        )
    return name


@dataclass(frozen=True)
class Operator:
    """
    Someone who logs in to the operators' pages and API.

    @ivar passwordHash: from L{hashPassword}; never the password.
    @ivar created: POSIX time it was added.
    """

    name: str
    role: str
    passwordHash: str = field(repr=False)
    created: float


@dataclass(frozen=True)
class Token:
    """
    An API token, as stored: its hash, never the token.

    @ivar tokenHash: from L{tokenHash}.
    @ivar created: POSIX time it was issued.
    """

    name: str
    role: str
    tokenHash: str = field(repr=False)
    created: float


# ---------------------------------------------------------------------------
# Passwords

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAX_COST = 2**21  # n * r * p: scrypt then uses at most 256 MiB
_MAX_PASSWORD = 1024  # characters: longer is refused before hashing


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
        maxmem=256 * n * r * p + 1024 * 1024,
    )  # fmt: skip


def _checkPassword(password: object) -> str:
    if not isinstance(password, str):
        raise InvalidAccount("the password must be text")
    if not password:
        raise InvalidAccount("the password is empty")
    if len(password) > _MAX_PASSWORD:
        raise InvalidAccount(f"the password is longer than {_MAX_PASSWORD} characters")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidAccount("the password is not valid Unicode text") from None
    return password


def hashPassword(password: str, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """
    The scrypt hash of a password, with a fresh random 16-byte salt, as
    C{scrypt$<n>$<r>$<p>$<salt>$<key>}.

    @param n: scrypt's cost (a power of two); C{r}, C{p}: its block size
        and parallelism.  The defaults are what new hashes use; tests pass
        cheaper ones.
    @raise InvalidAccount: for an empty or unusable password.
    """
    _checkPassword(password)
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(password, salt, n, r, p, _KEY_BYTES)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


_HASH = re.compile(
    r"scrypt\$([1-9][0-9]{0,7})\$([1-9][0-9]{0,2})\$([1-9][0-9]{0,2})"
    r"\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{16,})"
)


def _parseHash(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    """
    The parameters, salt and key of a hash from L{hashPassword}, or C{None}
    if it is not one (or asks for more than scrypt may use here).
    """
    match = _HASH.fullmatch(stored) if isinstance(stored, str) else None
    if match is None:
        return None
    n, r, p = (int(group) for group in match.groups()[:3])
    if n < 2 or n & (n - 1) or n * r * p > _MAX_COST:
        return None
    try:
        return n, r, p, _unb64(match.group(4)), _unb64(match.group(5))
    except ValueError:
        return None


def isPasswordHash(stored: object) -> bool:
    """
    Whether C{stored} is a hash L{verifyPassword} can check (and so not a
    password in clear).
    """
    return isinstance(stored, str) and _parseHash(stored) is not None


def verifyPassword(password: str, stored: str) -> bool:
    """
    Whether C{password} is the one C{stored} (from L{hashPassword}, with
    whatever parameters it names) was made from; compared in constant time.
    A malformed C{stored} verifies nothing.
    """
    parsed = _parseHash(stored)
    if parsed is None or not isinstance(password, str):
        return False
    n, r, p, salt, key = parsed
    try:
        candidate = _scrypt(_checkPassword(password), salt, n, r, p, len(key))
    except (InvalidAccount, ValueError, MemoryError):
        return False
    return hmac.compare_digest(candidate, key)


# ---------------------------------------------------------------------------
# Tokens

TOKEN_PREFIX = "snp_"
_TOKEN_BYTES = 32
_TOKEN_HASH = re.compile(r"sha256\$[0-9a-f]{64}")


def newToken() -> str:
    """
    A new API token: L{TOKEN_PREFIX} and 256 random bits, URL-safe.
    """
    return TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def tokenHash(token: str) -> str:
    """
    What is stored of a token, and what it is looked up by:
    C{sha256$<hex digest>}.
    """
    return "sha256$" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def isTokenHash(stored: object) -> bool:
    """
    Whether C{stored} is a token hash from L{tokenHash}.
    """
    return isinstance(stored, str) and _TOKEN_HASH.fullmatch(stored) is not None


def verifyToken(token: str, stored: str) -> bool:
    """
    Whether C{token} is the one whose hash is C{stored}, compared in
    constant time; anything not shaped as our tokens verifies nothing.
    """
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or not isTokenHash(stored):
        return False
    try:
        candidate = tokenHash(token)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(candidate, stored)
