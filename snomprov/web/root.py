# -*- test-case-name: tests.test_web -*-
"""
The site root: phone-facing names go to the provisioning resource; the
operators' pages (C{/}), the API (C{/api/…}) and C{/metrics} hang here as
they come.
"""

from __future__ import annotations

from twisted.web.pages import notFound
from twisted.web.resource import Resource

from snomprov import __version__

__all__ = ["SiteRoot", "WELCOME"]

WELCOME = (
    f"snomprov {__version__}: zero-touch provisioning server for SIP desk phones.\n"
    "Phones fetch their settings from this address; operators use the snomprov\n"
    "command (snomprov --help) on this server.\n"
).encode("ascii")
"""
What C{GET /} answers (until the operators' pages hang there): what this
server is and where its operators go, nothing about any phone.
"""


class _Welcome(Resource):
    """
    L{WELCOME} as plain text, to C{GET} and C{HEAD}.
    """

    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return WELCOME

    render_HEAD = render_GET


class SiteRoot(Resource):
    """
    Routes the first path segment: named children first (C{api}, C{metrics},
    …), then everything else to the phone-facing resource.
    """

    def __init__(self, provisioning: Resource) -> None:
        super().__init__()
        self._provisioning = provisioning

    def getChild(self, path: bytes, request):
        if path == b"":
            if request.postpath:
                return notFound()
            return _Welcome()
        # Phone-facing: the provisioning resource sees the whole path.
        request.postpath.insert(0, request.prepath.pop())
        return self._provisioning

    def render(self, request):
        return notFound().render(request)
