# -*- test-case-name: tests.test_api -*-
"""
Cursor paging for the API's lists: C{?limit=} (1 to L{MAX_LIMIT}, default
L{DEFAULT_LIMIT}) and C{?cursor=}, an opaque token (URL-safe base 64 of the
JSON of the last key a page held); an answer is C{{"items": [...],
"next": <cursor or null>}}.  Pure.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Callable, Iterable, TypeVar

from .problems import Problem

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "PAGING_PARAMETERS", "encodeCursor", "decodeCursor",
           "pageOf", "pageSchema"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

PAGING_PARAMETERS = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "cursor": {"type": "string", "maxLength": 512},
}
"""
The query parameters' schemas, for a list endpoint's declaration.
"""

_T = TypeVar("_T")


def encodeCursor(key: object) -> str:
    """
    The cursor of a page that ended at C{key} (any JSON value).
    """
    text = json.dumps(key, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode("ascii")


def decodeCursor(cursor: str, kind: type | tuple[type, ...] = object) -> object:
    """
    The key a cursor from L{encodeCursor} holds.

    @param kind: the type(s) the key must be.
    @raise Problem: 400, for anything that is not such a cursor.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = _BAD
    if key is _BAD or isinstance(key, bool) or not isinstance(key, kind):
        raise Problem(400, "invalid cursor: pass the next value of a previous page",
                      [{"field": "cursor", "message": "is not a cursor of this list"}])
    return key


_BAD = object()


def pageOf(items: Iterable[_T], keyOf: Callable[[_T], object], limit: int,
           cursor: str | None, kind: type = str) -> dict:
    """
    One page of C{items}, sorted by C{keyOf} ascending: those after the
    cursor's key, at most C{limit}.

    @return: C{{"items": [...], "next": ...}}, the items still as given.
    """
    after = None if cursor is None else decodeCursor(cursor, kind)
    chosen = [item for item in items if after is None or keyOf(item) > after]
    page = chosen[:limit]
    more = len(chosen) > limit
    return {"items": page, "next": encodeCursor(keyOf(page[-1])) if more else None}


def pageSchema(item: dict) -> dict:
    """
    The JSON Schema of a page of C{item}s.
    """
    return {
        "type": "object",
        "required": ["items", "next"],
        "properties": {"items": {"type": "array", "items": item},
                       "next": {"type": ["string", "null"]}},
    }
