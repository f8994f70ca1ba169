# -*- test-case-name: tests.test_api_validate -*-
"""
A small JSON Schema validator for the subset the API's declarations use,
answering every problem with its field (a JSON pointer), not only the first.
Pure.

Understood: C{type} (a name or a list of names), C{enum}, C{const},
C{properties}, C{required}, C{additionalProperties} (C{False} or a schema),
C{items}, C{minItems}, C{maxItems}, C{minLength}, C{maxLength}, C{pattern},
C{minimum}, C{maximum}.  Anything else (C{format}, C{description}) is
ignored, as JSON Schema allows for annotations.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["validate", "pointer"]


def _isType(value: object, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return False


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def pointer(parts: tuple) -> str:
    """
    The JSON pointer (RFC 6901) of a path of keys and indexes; C{""} for
    the whole document.
    """
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def validate(schema: dict, value: object, where: tuple = ()) -> list[dict]:
    """
    Every way C{value} breaks C{schema}.

    @return: C{{"field": <JSON pointer>, "message": <why>}} dicts, empty
        when C{value} is valid.
    """
    errors: list[dict] = []
    _check(schema, value, where, errors)
    return errors


def _check(schema: dict, value: object, where: tuple, errors: list[dict]) -> None:
    def fail(message: str, at: tuple = where) -> None:
        errors.append({"field": pointer(at), "message": message})

    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_isType(value, name) for name in names):
            fail(f"must be {' or '.join(names)}")
            return
    if "const" in schema and value != schema["const"]:
        fail(f"must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        fail("must be one of " + ", ".join(map(str, schema["enum"])))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            fail(f"must be at least {schema['minLength']} characters long")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            fail(f"must be at most {schema['maxLength']} characters long")
        if "pattern" in schema and _compiled(schema["pattern"]).search(value) is None:
            fail(f"must match {schema['pattern']}")
    if _isType(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            fail(f"must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            fail(f"must be at most {schema['maximum']}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            fail(f"must have at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            fail(f"must have at most {schema['maxItems']} items")
        if "items" in schema:
            for index, item in enumerate(value):
                _check(schema["items"], item, (*where, index), errors)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                fail("is required", (*where, name))
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                _check(properties[name], item, (*where, name), errors)
            elif extra is False:
                fail("is not allowed here", (*where, name))
            elif isinstance(extra, dict):
                _check(extra, item, (*where, name), errors)
