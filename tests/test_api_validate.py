"""
Tests for L{snomprov.web.api.validate}: every problem of a value, each
with its JSON pointer; and for L{snomprov.web.api.paging}'s cursors.
"""

from __future__ import annotations

import pytest

from snomprov.web.api.paging import decodeCursor, encodeCursor, pageOf
from snomprov.web.api.problems import Problem
from snomprov.web.api.validate import pointer, validate

SCHEMA = {
    "type": "object",
    "required": ["name", "lines"],
    "properties": {
        "name": {"type": "string", "minLength": 2, "pattern": "^[a-z]+$"},
        "count": {"type": "integer", "minimum": 1, "maximum": 3},
        "mode": {"enum": ["a", "b"]},
        "lines": {"type": "array", "maxItems": 2, "items": {"type": "object", "required": ["user"],
                                                            "properties": {"user": {"type": "string"}}}},
        "note": {"type": ["string", "null"]},
    },
    "additionalProperties": False,
}


def test_valid():
    assert validate(SCHEMA, {"name": "ab", "lines": [{"user": "x"}], "count": 2, "note": None}) == []


def test_everyProblemWithItsField():
    errors = validate(SCHEMA, {"name": "A", "count": True, "mode": "c", "extra": 1,
                               "lines": [{"user": 1}, {}, {"user": "z"}]})
    assert sorted(e["field"] for e in errors) == sorted(
        ["/name", "/name", "/count", "/mode", "/extra", "/lines", "/lines/0/user", "/lines/1/user"])
    assert validate(SCHEMA, []) == [{"field": "", "message": "must be object"}]
    assert validate({"type": "integer", "maximum": 3}, 4)[0]["message"] == "must be at most 3"


def test_pointerEscapes():
    assert pointer(("a/b", "c~d", 0)) == "/a~1b/c~0d/0"


def test_cursors():
    assert decodeCursor(encodeCursor("alice"), str) == "alice"
    assert decodeCursor(encodeCursor(17), int) == 17
    for bad in ["!!", encodeCursor("x")[:-1] + "*", encodeCursor(True)]:
        with pytest.raises(Problem) as e:
            decodeCursor(bad, (str, int))
        assert e.value.status == 400 and e.value.errors[0]["field"] == "cursor"
    with pytest.raises(Problem):
        decodeCursor(encodeCursor(3), str)
    page = pageOf(["a", "b", "c"], lambda s: s, 2, None)
    assert page["items"] == ["a", "b"]
    assert pageOf(["a", "b", "c"], lambda s: s, 2, page["next"]) == {"items": ["c"], "next": None}
