# -*- test-case-name: tests.test_sites -*-
"""
The two site roots, built in one place: the phones' (C{[http] listen}) and
the operators' (C{[admin] listen}).

The operators' paths (C{/api}, C{/metrics}, later the pages) are the
children handed to L{siteRoots}.  With C{[admin] listen} empty they hang on
the phones' root beside the phone-facing names; set, they hang on an
L{AdminRoot} of their own, and the phones' root has none of them.
"""

from __future__ import annotations

from typing import Mapping

from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import Site

from snomprov import __version__

from .root import SiteRoot

__all__ = ["AdminRoot", "makeSite", "siteRoots"]


class _Index(Resource):
    """
    What C{GET /} on the operators' listeners answers until the pages hang
    there: which paths they serve.
    """

    isLeaf = True

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self._text = (f"snomprov {__version__}: operators' endpoint; "
                      f"{', '.join('/' + name for name in names) or 'nothing yet'}\n").encode("utf-8")

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return self._text

    render_HEAD = render_GET


class AdminRoot(Resource):
    """
    The root of the operators' listeners: its named children, C{/} (an
    index of them, unless a child is named C{b""}), 404 for anything else
    (no phone-facing name).
    """

    def getChild(self, path: bytes, request):
        if path == b"" and not request.postpath:
            return _Index(sorted(name.decode("utf-8") for name in self.children if name))
        return notFound()

    def render(self, request):
        return notFound().render(request)


def siteRoots(provisioning: Resource, adminChildren: Mapping[bytes, Resource],
              separate: bool) -> tuple[Resource, Resource | None]:
    """
    The phones' root and the operators' root.

    @param provisioning: the phone-facing resource.
    @param adminChildren: the operators' paths: first segment (C{b"api"},
        C{b"metrics"}) to its resource.
    @param separate: whether C{[admin] listen} is set.
    @return: C{(phones, operators)}; C{operators} is C{None} when not
        C{separate}: the phones' root carries C{adminChildren} too.
    """
    phones = SiteRoot(provisioning)
    operators = AdminRoot() if separate else None
    for name, child in adminChildren.items():
        (operators if separate else phones).putChild(name, child)
    return phones, operators


class _SiteWithoutAccessLog(Site):
    """
    A C{Site} that writes no line per request.
    """

    def log(self, request) -> None:
        pass


def makeSite(root: Resource, accessLog: bool = True) -> Site:
    """
    A C{Site} for C{root} that shows no traceback to clients.

    @param accessLog: whether each request is a line of the log (Twisted's
        combined log format).
    """
    site = Site(root) if accessLog else _SiteWithoutAccessLog(root)
    site.displayTracebacks = False
    return site
