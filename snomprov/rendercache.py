# -*- test-case-name: tests.test_rendercache -*-
"""
The provisioner's cache of renderings, bounded in entries and in bytes.

Least recently used entries go first when either bound is passed.  Each
entry is indexed by the scopes it was made from, so that a change of a
scope drops exactly its entries (L{RenderCache.dropScopes}), and an evicted
entry leaves no key behind in that index.  Pure: no reactor, no store.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Hashable, Iterable

__all__ = ["RenderCache"]


class RenderCache:
    """
    @ivar maxEntries: the most entries kept.
    @ivar maxBytes: the most bytes (the sizes given to L{put}) kept.
    @ivar size: the bytes kept now.
    @ivar evictions: entries dropped to stay within the bounds.
    """

    def __init__(self, maxEntries: int, maxBytes: int) -> None:
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.size = 0
        self.evictions = 0
        # key -> (value, size, scopes)
        self._entries: OrderedDict[Hashable, tuple[Any, int, tuple[str, ...]]] = OrderedDict()
        self._byScope: dict[str, set[Hashable]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Any:
        """
        The value kept under C{key} (now the most recently used), or C{None}.
        """
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, value: Any, size: int, scopes: Iterable[str]) -> None:
        """
        Keep C{value} under C{key}, indexed by C{scopes}; evict the least
        recently used entries while a bound is passed.  A value larger than
        C{maxBytes} on its own is not kept.
        """
        self._drop(key)
        if size > self.maxBytes:
            return
        scopes = tuple(scopes)
        self._entries[key] = (value, size, scopes)
        self.size += size
        byScope = self._byScope
        for scope in scopes:
            keys = byScope.get(scope)
            if keys is None:
                byScope[scope] = {key}
            else:
                keys.add(key)
        entries = self._entries
        while len(entries) > self.maxEntries or self.size > self.maxBytes:
            self._drop(next(iter(entries)))
            self.evictions += 1

    def dropScopes(self, scopes: Iterable[str] | None) -> None:
        """
        Drop every entry made from any of C{scopes}; C{None}: every entry.
        """
        if scopes is None:
            self._entries.clear()
            self._byScope.clear()
            self.size = 0
            return
        for scope in scopes:
            for key in list(self._byScope.get(scope, ())):
                self._drop(key)

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self.size -= entry[1]
        byScope = self._byScope
        for scope in entry[2]:
            keys = byScope.get(scope)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del byScope[scope]
