# -*- test-case-name: tests.test_gctuning -*-
"""
CPython's cyclic garbage collector, tuned for a long-running server.

The collector runs a young-generation pass every 700 allocations of
container objects by default, and every pass that survives promotes what
is alive into older generations, which full passes then walk whole.  A
plug-and-play storm allocates a few dozen containers per exchange (tuples
of rows and keys, pending NOTIFYs), so the collector ran every few dozen
exchanges and kept walking everything the daemon built at start-up
(Twisted, the vendors, the tables).  Nothing on the hot paths builds
reference cycles: refcounting frees it all, the collector only has to find
the rare cycle.

So, once the server has started: everything built so far is moved out of
the collector's sight (C{gc.freeze}), and passes run every C{young}
allocations instead of 700.  C{bench/pnp_path.py} shows the effect on the
plug-and-play path.
"""

from __future__ import annotations

import gc

from twisted.application.service import Service
from twisted.logger import Logger

__all__ = ["GarbageCollectorTuning", "SERVING_THRESHOLDS", "tuneForServing"]

SERVING_THRESHOLDS = (50_000, 20, 20)
"""
C{gc.set_threshold} while serving: a young pass every 50,000 container
allocations; older generations as often relative to it as by default.
"""


def tuneForServing(thresholds: tuple[int, int, int] = SERVING_THRESHOLDS) -> tuple[int, int, int]:
    """
    Freeze what exists now and set C{thresholds}.

    @return: the thresholds in force before.
    """
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    return before


class GarbageCollectorTuning(Service):
    """
    L{tuneForServing} when the service starts (the reactor is running,
    every other service has started); the previous thresholds back, and
    the frozen objects visible again, when it stops.
    """

    _log = Logger()
    _before: tuple[int, int, int] | None = None

    def __init__(self, reactor, thresholds: tuple[int, int, int] = SERVING_THRESHOLDS) -> None:
        self._reactor = reactor
        self._thresholds = thresholds

    def startService(self) -> None:
        super().startService()
        self._reactor.callWhenRunning(self._tune)

    def _tune(self) -> None:
        if not self.running:
            return
        self._before = tuneForServing(self._thresholds)
        self._log.debug("Garbage collector: {frozen} objects frozen, thresholds {thresholds}",
                        frozen=gc.get_freeze_count(), thresholds=self._thresholds)

    def stopService(self):
        if self._before is not None:
            gc.unfreeze()
            gc.set_threshold(*self._before)
            self._before = None
        return super().stopService()
