"""
Tests for L{snomprov.rendercache.RenderCache}: both bounds hold after any
sequence of operations, least recently used entries go first, and the
scope index never keeps a key that is gone.
"""

from __future__ import annotations

from hypothesis import given, strategies as st

from snomprov.rendercache import RenderCache


def _consistent(cache: RenderCache) -> None:
    assert len(cache) <= cache.maxEntries
    assert cache.size <= cache.maxBytes
    assert cache.size == sum(size for _, size, _ in cache._entries.values())
    indexed = set().union(*cache._byScope.values()) if cache._byScope else set()
    assert indexed == {key for key, (_, _, scopes) in cache._entries.items() if scopes}
    assert all(cache._byScope.values())


def test_leastRecentlyUsedGoesFirst():
    """
    Past C{maxEntries}, the entry read least recently is evicted and
    counted.
    """
    cache = RenderCache(maxEntries=2, maxBytes=1000)
    cache.put("a", 1, 10, ["device:A"])
    cache.put("b", 2, 10, ["device:B"])
    assert cache.get("a") == 1
    cache.put("c", 3, 10, ["device:C"])
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert cache.evictions == 1
    _consistent(cache)


def test_bytesBound():
    """
    Past C{maxBytes}, old entries go until the new one fits; one larger
    than the bound alone is not kept at all.
    """
    cache = RenderCache(maxEntries=100, maxBytes=100)
    cache.put("a", 1, 60, ["site"])
    cache.put("b", 2, 60, ["site"])
    assert cache.get("a") is None and cache.get("b") == 2 and cache.size == 60
    cache.put("huge", 3, 101, ["site"])
    assert cache.get("huge") is None and cache.get("b") == 2
    _consistent(cache)


def test_dropScopes():
    """
    Dropping a scope drops its entries only; C{None} drops all.
    """
    cache = RenderCache(10, 1000)
    cache.put("a", 1, 1, ["device:A", "site"])
    cache.put("b", 2, 1, ["device:B", "site"])
    cache.dropScopes(["device:A"])
    assert cache.get("a") is None and cache.get("b") == 2
    _consistent(cache)
    cache.dropScopes(None)
    assert len(cache) == 0 and cache.size == 0
    _consistent(cache)


_keys = st.sampled_from("abcdefgh")
_scopes = st.lists(st.sampled_from(["site", "device:A", "device:B", "model:x"]), max_size=3)
_operations = st.lists(st.one_of(
    st.tuples(st.just("put"), _keys, st.integers(0, 70), _scopes),
    st.tuples(st.just("get"), _keys),
    st.tuples(st.just("drop"), st.one_of(st.none(), _scopes)),
), max_size=60)


@given(st.integers(1, 5), st.integers(1, 200), _operations)
def test_boundsAlwaysHold(maxEntries, maxBytes, operations):
    """
    After every operation both bounds hold and the index matches the
    entries; a key just put (and small enough) is found.
    """
    cache = RenderCache(maxEntries, maxBytes)
    for operation in operations:
        if operation[0] == "put":
            _, key, size, scopes = operation
            cache.put(key, (key, size), size, scopes)
            if size <= maxBytes:
                assert cache.get(key) == (key, size)
        elif operation[0] == "get":
            cache.get(operation[1])
        else:
            cache.dropScopes(operation[1])
        _consistent(cache)
