# -*- test-case-name: tests.test_pages -*-
"""
C{/static/pages.css} and C{/static/pages.js}: the pages' one stylesheet
and one script, read from the package once, served to anyone (the login
page needs them).
"""

from __future__ import annotations

from importlib.resources import files

from .resource import PageCall, Raw, Route

__all__ = ["ROUTES", "STATIC"]

STATIC = {"pages.css": b"text/css; charset=utf-8", "pages.js": b"text/javascript; charset=utf-8"}

_read: dict[str, bytes] = {}


async def staticFile(call: PageCall):
    name = call.path["name"]
    if name not in STATIC:
        return Raw(b"not found\n", b"text/plain; charset=utf-8", 404)
    if name not in _read:
        _read[name] = files(__package__).joinpath("static", name).read_bytes()
    return Raw(_read[name], STATIC[name], headers={b"Cache-Control": b"max-age=300"})


ROUTES = (Route("GET", "/static/{name}", staticFile, None),)
