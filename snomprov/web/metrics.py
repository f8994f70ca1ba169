# -*- test-case-name: tests.test_metrics -*-
"""
C{/metrics}: C{prometheus_client}'s Twisted resource on the daemon's own
registry, with the device counts brought up to date (in the reactor
thread, from the store at most every few seconds) before it renders.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

__all__ = ["MetricsPage", "metricsResource"]


class MetricsPage(Resource):
    """
    A leaf that runs C{beforeScrape} and then lets C{exposition} answer.

    @ivar exposition: the resource writing the text (for the daemon,
        C{prometheus_client.twisted.MetricsResource}).
    """

    isLeaf = True
    _log = Logger()

    def __init__(self, exposition: Resource, beforeScrape) -> None:
        """
        @param beforeScrape: returns a Deferred firing once what is
            scraped is current; a failure is logged and the scrape goes on.
        """
        super().__init__()
        self.exposition = exposition
        self._beforeScrape = beforeScrape

    def render(self, request):
        if request.method != b"GET":
            return self.exposition.render(request)
        d = defer.maybeDeferred(self._beforeScrape)
        d.addErrback(lambda failure: self._log.failure("Before /metrics", failure))
        d.addCallback(lambda _: self._expose(request))
        return NOT_DONE_YET

    def _expose(self, request) -> None:
        if request._disconnected:
            return
        body = self.exposition.render(request)
        if body is not NOT_DONE_YET:
            request.write(body)
            request.finish()


def metricsResource(metrics) -> Resource:
    """
    C{/metrics} of a L{snomprov.metrics.Metrics}, through
    C{prometheus_client.twisted.MetricsResource} (which renders in the
    global reactor's thread pool; imported here, not at module import,
    because it imports the global reactor).
    """
    from prometheus_client.twisted import MetricsResource

    return MetricsPage(MetricsResource(metrics.registry), metrics.devices.refresh)
