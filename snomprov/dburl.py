# -*- test-case-name: tests.test_dburl -*-
"""
Database URLs, parsed (pure): the C{[store] url} (L{parseStoreURL}) and the
C{postgresql://} / C{mysql://} URL a store or a PBX account sink connects
to (L{parseDatabaseURL}).  No message, repr or C{safe()} form carries a
password.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["DatabaseURL", "StoreLocation", "parseDatabaseURL", "parseStoreURL", "STORE_URL_FORMS"]

_SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql"}
_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
_FORM = "postgresql://user[:password]@host[:port]/database"

STORE_URL_FORMS = "memory:, sqlite:PATH or postgresql://user[:password]@host[:port]/database"
"""
What a C{[store] url} may be, for messages.
"""


@dataclass(frozen=True)
class DatabaseURL:
    """
    A parsed C{postgresql://user[:password]@host[:port]/database} (or
    C{mysql://…}).

    @ivar scheme: C{postgresql} or C{mysql}.
    """

    scheme: str
    user: str
    password: str
    host: str
    port: int
    database: str

    def __repr__(self) -> str:
        return f"DatabaseURL({self.safe()!r})"

    def safe(self) -> str:
        """
        The URL without its password, for logs and messages.
        """
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port}/{self.database}"


def parseDatabaseURL(url: str, schemes: tuple[str, ...] = ("postgresql", "mysql")) -> DatabaseURL:
    """
    Read a database URL.

    @param schemes: the schemes accepted (C{postgres://} is
        C{postgresql://}).
    @raise ValueError: not such a URL (the message never holds the password).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"is not a database URL ({_FORM})") from None
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme not in schemes:
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"has the scheme {parts.scheme!r}: it must be {allowed}")
    if not parts.hostname:
        raise ValueError(f"names no host ({_FORM})")
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise ValueError(f"names no database ({_FORM})")
    if parts.query or parts.fragment:
        raise ValueError(f"has a query or fragment: only {_FORM}")
    return DatabaseURL(scheme=scheme, user=unquote(parts.username or ""), password=unquote(parts.password or ""),
                       host=parts.hostname, port=port or _DEFAULT_PORTS[scheme], database=database)


@dataclass(frozen=True)
class StoreLocation:
    """
    A parsed C{[store] url}.

    @ivar kind: C{memory}, C{sqlite} or C{postgresql}.
    @ivar path: an SQLite file (absolute) or C{":memory:"}; else C{None}.
    @ivar database: the PostgreSQL server and database; else C{None}.
    """

    kind: str
    path: str | None = None
    database: DatabaseURL | None = None

    def safe(self) -> str:
        """
        The store's name for logs and messages (no password).
        """
        if self.kind == "memory":
            return "memory:"
        if self.database is not None:
            return self.database.safe()
        return f"sqlite:{self.path}"


def parseStoreURL(url: str, baseDir: str) -> StoreLocation:
    """
    Read a C{[store] url}: C{memory:}, C{sqlite:PATH} (a relative C{PATH}
    resolved against C{baseDir}), C{sqlite::memory:}, or
    C{postgresql://user[:password]@host[:port]/database} (C{postgres://}
    too).

    @raise ValueError: saying what is wrong, without the URL's password.
    """
    scheme, sep, rest = url.partition(":")
    if not sep or not scheme:
        raise ValueError(f"is not a store URL: expected {STORE_URL_FORMS}")
    scheme = scheme.lower()
    if scheme in ("postgresql", "postgres"):
        return StoreLocation("postgresql", database=parseDatabaseURL(url, ("postgresql",)))
    if scheme == "memory":
        if rest:
            raise ValueError("memory: takes nothing after the colon")
        return StoreLocation("memory")
    if scheme == "sqlite":
        if rest == ":memory:":
            return StoreLocation("sqlite", path=rest)
        if not rest or rest.startswith("//"):
            raise ValueError("expected sqlite:PATH (relative to the data directory or absolute)")
        return StoreLocation("sqlite", path=os.path.normpath(os.path.join(baseDir, rest)))
    raise ValueError(f"has the unknown scheme {scheme!r}: expected {STORE_URL_FORMS}")
