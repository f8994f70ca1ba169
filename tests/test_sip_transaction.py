"""
Tests for L{snomprov.sip.transaction}: the NOTIFY retransmission schedule
and the SUBSCRIBE memory, driven by a L{Clock}.
"""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock
from twisted.logger import capturedLogs

from snomprov.sip.transaction import NotifyRetransmitter, SubscribeDeduplicator

PHONE = ("192.0.2.50", 5060)

# Seconds after the first send at which RFC 3261 Timer E retransmits a
# non-INVITE request over UDP with T1 = 0.5 s and T2 = 4 s, before Timer F
# (32 s).
SCHEDULE = [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]


class Recorder:
    """
    Records the datagrams sent (with the clock time) and the outcomes.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, bytes, tuple[str, int]]] = []
        self.outcomes: list[tuple[str, str]] = []

    def send(self, data: bytes, address: tuple[str, int]) -> None:
        self.sent.append((self.clock.seconds(), data, address))

    def outcome(self, name: str):
        return lambda result: self.outcomes.append((name, result))

    def start(self, retransmitter: NotifyRetransmitter, cseq: int, data: bytes) -> None:
        """
        Start NOTIFY C{data} with key C{("c", cseq)} to L{PHONE}; its
        outcome is recorded under C{data} as text.
        """
        retransmitter.start(("c", cseq), data, PHONE, self.outcome(data.decode()))

    def timeline(self) -> list[tuple[float, bytes]]:
        """
        When each datagram was sent, and what.
        """
        return [(t, d) for t, d, _ in self.sent]


def advanceTo(clock: Clock, when: float) -> None:
    """
    Move C{clock} to C{when} in steps of 1/8 s (exact in binary), firing
    what falls due on the way, as time passes for a real reactor.
    """
    while clock.seconds() < when:
        clock.advance(min(0.125, when - clock.seconds()))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def recorder(clock: Clock) -> Recorder:
    return Recorder(clock)


class TestNotifyRetransmitter:
    """
    L{NotifyRetransmitter}.
    """

    def test_schedule(self, clock: Clock, recorder: Recorder) -> None:
        """
        A NOTIFY is sent at once, then retransmitted 0.5, 1, 2, 4, 4, ...
        seconds after the previous send, to the same address.
        """
        retransmitter = NotifyRetransmitter(clock, recorder.send)
        recorder.start(retransmitter, 1, b"NOTIFY")
        assert [t for t, _, _ in recorder.sent] == [0.0]
        for when in SCHEDULE:
            advanceTo(clock, when - 0.125)
            assert recorder.sent[-1][0] < when
            advanceTo(clock, when)
        assert [t for t, _, _ in recorder.sent] == [0.0] + SCHEDULE
        assert {(d, a) for _, d, a in recorder.sent} == {(b"NOTIFY", PHONE)}
        assert recorder.outcomes == []

    def test_timeout(self, clock: Clock, recorder: Recorder) -> None:
        """
        Timer F reports C{"timeout"} 32 seconds after the first send, once;
        nothing is sent after, and no timer is left.
        """
        retransmitter = NotifyRetransmitter(clock, recorder.send)
        recorder.start(retransmitter, 1, b"NOTIFY")
        advanceTo(clock, 31.875)
        assert recorder.outcomes == []
        advanceTo(clock, 32.0)
        assert recorder.outcomes == [("NOTIFY", "timeout")]
        sent = len(recorder.sent)
        advanceTo(clock, 100.0)
        assert len(recorder.sent) == sent == 11
        assert recorder.outcomes == [("NOTIFY", "timeout")]
        assert len(retransmitter) == 0
        assert clock.getDelayedCalls() == []

    def test_stalledClock(self, clock: Clock, recorder: Recorder) -> None:
        """
        When the reactor wakes up only after Timer F's time, the NOTIFY is
        given up at once rather than retransmitted late.
        """
        retransmitter = NotifyRetransmitter(clock, recorder.send)
        recorder.start(retransmitter, 1, b"NOTIFY")
        clock.advance(40.0)
        assert len(recorder.sent) == 1
        assert recorder.outcomes == [("NOTIFY", "timeout")]

    def test_acknowledge(self, clock: Clock, recorder: Recorder) -> None:
        """
        The 200 stops the retransmissions and reports C{"acked"}; a second
        or unknown acknowledgement returns C{False}.
        """
        retransmitter = NotifyRetransmitter(clock, recorder.send)
        recorder.start(retransmitter, 1, b"NOTIFY")
        advanceTo(clock, 1.625)
        assert retransmitter.acknowledge(("c", 1)) is True
        assert recorder.outcomes == [("NOTIFY", "acked")]
        advanceTo(clock, 60.0)
        assert [t for t, _, _ in recorder.sent] == [0.0, 0.5, 1.5]
        assert recorder.outcomes == [("NOTIFY", "acked")]
        assert retransmitter.acknowledge(("c", 1)) is False
        assert retransmitter.acknowledge(("other", 1)) is False
        assert clock.getDelayedCalls() == []

    def test_independentTransactions(self, clock: Clock, recorder: Recorder) -> None:
        """
        Each NOTIFY keeps its own schedule and outcome.
        """
        retransmitter = NotifyRetransmitter(clock, recorder.send)
        recorder.start(retransmitter, 1, b"one")
        advanceTo(clock, 1.0)
        recorder.start(retransmitter, 2, b"two")
        advanceTo(clock, 2.0)
        assert recorder.timeline() == [
            (0.0, b"one"), (0.5, b"one"), (1.0, b"two"), (1.5, b"one"), (1.5, b"two"),
        ]
        retransmitter.acknowledge(("c", 2))
        advanceTo(clock, 32.0)
        assert recorder.outcomes == [("two", "acked"), ("one", "timeout")]

    def test_capacity(self, clock: Clock, recorder: Recorder) -> None:
        """
        At capacity, starting one more drops the oldest pending NOTIFY: its
        timer is cancelled, C{"dropped"} reported and counted.
        """
        retransmitter = NotifyRetransmitter(clock, recorder.send, capacity=2)
        for n in (1, 2, 3):
            recorder.start(retransmitter, n, b"%d" % n)
        assert recorder.outcomes == [("1", "dropped")]
        assert retransmitter.dropped == 1
        assert len(retransmitter) == 2 and ("c", 1) not in retransmitter
        advanceTo(clock, 0.5)
        assert sorted(d for t, d, _ in recorder.sent if t == 0.5) == [b"2", b"3"]
        assert len(clock.getDelayedCalls()) == 1  # one timer serves every pending NOTIFY

    def test_sameKeyReplaces(self, clock: Clock, recorder: Recorder) -> None:
        """
        Starting a key that is pending replaces the old NOTIFY (reported
        C{"dropped"}, not counted as a capacity drop) and restarts the
        schedule.
        """
        retransmitter = NotifyRetransmitter(clock, recorder.send)
        recorder.start(retransmitter, 1, b"old")
        advanceTo(clock, 0.75)
        recorder.start(retransmitter, 1, b"new")
        advanceTo(clock, 1.25)
        assert recorder.timeline() == [
            (0.0, b"old"), (0.5, b"old"), (0.75, b"new"), (1.25, b"new"),
        ]
        assert recorder.outcomes == [("old", "dropped")]
        assert retransmitter.dropped == 0

    def test_stopAll(self, clock: Clock, recorder: Recorder) -> None:
        """
        C{stopAll} cancels every timer without reporting outcomes.
        """
        retransmitter = NotifyRetransmitter(clock, recorder.send)
        recorder.start(retransmitter, 1, b"1")
        recorder.start(retransmitter, 2, b"2")
        retransmitter.stopAll()
        assert clock.getDelayedCalls() == []
        advanceTo(clock, 40.0)
        assert len(recorder.sent) == 2
        assert recorder.outcomes == []
        assert len(retransmitter) == 0

    def test_timerSkipsAcknowledged(self, clock: Clock, recorder: Recorder) -> None:
        """
        When the timer runs, it is set again for the earliest NOTIFY still
        waiting, not for one acknowledged meanwhile: acknowledged NOTIFYs
        cost no timer.
        """
        retransmitter = NotifyRetransmitter(clock, recorder.send)
        for n, at in enumerate([0.0, 0.1, 0.2, 0.3]):
            advanceTo(clock, at)
            recorder.start(retransmitter, n, b"%d" % n)
        retransmitter.acknowledge(("c", 0))
        retransmitter.acknowledge(("c", 1))
        advanceTo(clock, 0.5)
        assert [call.getTime() for call in clock.getDelayedCalls()] == [0.7]
        retransmitter.acknowledge(("c", 2))
        advanceTo(clock, 0.8)
        assert [t for t, _, _ in recorder.sent] == [0.0, 0.1, 0.2, 0.3, 0.8]

    def test_failingCallbacksLogged(self, clock: Clock) -> None:
        """
        A C{send} or C{onOutcome} that raises is logged; the retransmissions
        and the give-up still happen.
        """
        calls = []

        def send(data: bytes, address: tuple[str, int]) -> None:
            calls.append(clock.seconds())
            raise OSError("no route")

        def onOutcome(result: str) -> None:
            calls.append(result)
            raise RuntimeError("bug")

        retransmitter = NotifyRetransmitter(clock, send)
        with capturedLogs() as events:
            retransmitter.start(("c", 1), b"x", PHONE, onOutcome)
            advanceTo(clock, 32.0)
        assert calls == [0.0] + SCHEDULE + ["timeout"]
        failures = [e for e in events if "log_failure" in e]
        assert len(failures) == 12
        assert failures[-1]["log_failure"].check(RuntimeError)

    def test_capacityMustBePositive(self, clock: Clock, recorder: Recorder) -> None:
        """
        A table that can hold nothing is refused.
        """
        with pytest.raises(ValueError):
            NotifyRetransmitter(clock, recorder.send, capacity=0)


class TestSubscribeDeduplicator:
    """
    L{SubscribeDeduplicator}.
    """

    def test_hitAndMiss(self, clock: Clock) -> None:
        """
        A remembered SUBSCRIBE gives back its response; another Call-ID,
        From tag or CSeq does not.
        """
        dedup = SubscribeDeduplicator(clock)
        dedup.remember(("c1", "t1", 1), b"200 one")
        assert dedup.lookup("c1", "t1", 1) == b"200 one"
        assert dedup.lookup("c2", "t1", 1) is None
        assert dedup.lookup("c1", "t2", 1) is None
        assert dedup.lookup("c1", "t1", 2) is None

    def test_expiry(self, clock: Clock) -> None:
        """
        An entry is found until C{ttl} seconds after it was remembered, and
        pruned after.
        """
        dedup = SubscribeDeduplicator(clock, ttl=32.0)
        dedup.remember(("c1", "t1", 1), b"a")
        clock.advance(10)
        dedup.remember(("c2", "t2", 1), b"b")
        clock.advance(21.9)
        assert dedup.lookup("c1", "t1", 1) == b"a"
        clock.advance(0.1)
        assert dedup.lookup("c1", "t1", 1) is None
        assert dedup.lookup("c2", "t2", 1) == b"b"
        assert len(dedup) == 1
        clock.advance(10)
        assert dedup.lookup("c2", "t2", 1) is None
        assert len(dedup) == 0

    def test_rememberAgainRefreshes(self, clock: Clock) -> None:
        """
        Remembering a key again replaces its response and restarts its
        lifetime.
        """
        dedup = SubscribeDeduplicator(clock, ttl=32.0)
        dedup.remember(("c", "t", 1), b"a")
        clock.advance(20)
        dedup.remember(("c", "t", 1), b"b")
        clock.advance(20)
        assert dedup.lookup("c", "t", 1) == b"b"
        assert len(dedup) == 1

    def test_capacity(self, clock: Clock) -> None:
        """
        At capacity the oldest entry is evicted and counted.
        """
        dedup = SubscribeDeduplicator(clock, capacity=2)
        for n in (1, 2, 3):
            dedup.remember(("c", "t", n), b"%d" % n)
        assert dedup.lookup("c", "t", 1) is None
        assert (dedup.lookup("c", "t", 2), dedup.lookup("c", "t", 3)) == (b"2", b"3")
        assert dedup.evicted == 1
        assert len(dedup) == 2

    def test_expiredNotCountedAsEvicted(self, clock: Clock) -> None:
        """
        Entries that expired are pruned first, so they make room without
        counting as evictions; no timer is used.
        """
        dedup = SubscribeDeduplicator(clock, capacity=2, ttl=5.0)
        dedup.remember(("c", "t", 1), b"1")
        dedup.remember(("c", "t", 2), b"2")
        clock.advance(6)
        dedup.remember(("c", "t", 3), b"3")
        assert dedup.evicted == 0
        assert len(dedup) == 1
        assert clock.getDelayedCalls() == []

    def test_capacityMustBePositive(self, clock: Clock) -> None:
        """
        A table that can hold nothing is refused.
        """
        with pytest.raises(ValueError):
            SubscribeDeduplicator(clock, capacity=0)
