"""
Tests for L{snomprov.gctuning}: the collector tuned while serving, and put
back when the service stops.
"""

import gc

import pytest

from snomprov.gctuning import SERVING_THRESHOLDS, GarbageCollectorTuning


class RunningReactor:
    """
    A reactor already running: C{callWhenRunning} calls at once.
    """

    def callWhenRunning(self, f, *args, **kwargs):
        return f(*args, **kwargs)


class StartingReactor:
    """
    A reactor not yet running: C{callWhenRunning} keeps the calls.
    """

    def __init__(self):
        self.calls = []

    def callWhenRunning(self, f, *args, **kwargs):
        self.calls.append((f, args, kwargs))


@pytest.fixture(autouse=True)
def collectorState():
    """
    The collector's state put back whatever a test does.
    """
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tunedWhileServing():
    """
    Once started, the thresholds are the serving ones and the objects
    that existed are frozen; stopping restores the thresholds and unfreezes.
    """
    before = gc.get_threshold()
    assert before != SERVING_THRESHOLDS
    service = GarbageCollectorTuning(RunningReactor())
    service.startService()
    assert gc.get_threshold() == SERVING_THRESHOLDS
    assert gc.get_freeze_count() > 0
    service.stopService()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_waitsForTheReactor():
    """
    Nothing changes before the reactor runs; a service stopped before then
    never tunes.
    """
    before = gc.get_threshold()
    reactor = StartingReactor()
    service = GarbageCollectorTuning(reactor, thresholds=(1234, 5, 6))
    service.startService()
    assert gc.get_threshold() == before
    service.stopService()
    for f, args, kwargs in reactor.calls:
        f(*args, **kwargs)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_customThresholds():
    service = GarbageCollectorTuning(RunningReactor(), thresholds=(1234, 5, 6))
    service.startService()
    assert gc.get_threshold() == (1234, 5, 6)
    service.stopService()
