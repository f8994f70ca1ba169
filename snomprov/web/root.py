# -*- test-case-name: tests.test_web -*-
"""
The site root: phone-facing names go to the provisioning resource; the
operators' pages (C{/}), the API (C{/api/…}) and C{/metrics} hang here as
they come.
"""

from __future__ import annotations

from twisted.web.pages import notFound
from twisted.web.resource import Resource

__all__ = ["SiteRoot"]


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
            return notFound()
        # Phone-facing: the provisioning resource sees the whole path.
        request.postpath.insert(0, request.prepath.pop())
        return self._provisioning

    def render(self, request):
        return notFound().render(request)
