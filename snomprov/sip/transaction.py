# -*- test-case-name: tests.test_sip_transaction -*-
"""
The timers of plug-and-play: NOTIFY retransmission (RFC 3261 §17.1.2,
non-INVITE client transactions over UDP) and the memory of answered
SUBSCRIBEs that lets a repeated one get the same C{200 OK} and no second
NOTIFY (DESIGN.md §1.1 step 4).

Both run on an injected L{IReactorTime}; tests pass a
L{twisted.internet.task.Clock}.  Both tables are bounded.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from itertools import count
from operator import itemgetter
from collections.abc import Callable, Hashable

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

__all__ = [
    "T1",
    "T2",
    "NotifyRetransmitter",
    "SubscribeDeduplicator",
]

T1 = 0.5
"""
RFC 3261 T1: the round-trip estimate and first retransmission interval.
"""

T2 = 4.0
"""
RFC 3261 T2: the longest retransmission interval of a non-INVITE request.
"""

Address = tuple[str, int]


class _Pending:
    """
    One NOTIFY waiting for its C{200 OK}.

    @ivar interval: the wait before the next retransmission after the one
        scheduled.
    @ivar deadline: when Timer F fires.
    """

    __slots__ = ("data", "address", "onOutcome", "interval", "deadline")

    def __init__(
        self,
        data: bytes,
        address: Address,
        onOutcome: Callable[[str], None],
        interval: float,
        deadline: float,
    ) -> None:
        self.data = data
        self.address = address
        self.onOutcome = onOutcome
        self.interval = interval
        self.deadline = deadline


# A timer this close to its due time counts as due (float rounding of the
# clock's now + delay).
_EPSILON = 1e-9

_ORDER = itemgetter(0, 1)


class NotifyRetransmitter:
    """
    Sends NOTIFYs and retransmits each until its C{200 OK} arrives: Timer E
    starts at C{t1} and doubles up to C{t2} (0.5, 1, 2, 4, 4, ... seconds
    after the previous send); Timer F gives up C{64 * t1} (32 s) after the
    first send.

    Each NOTIFY ends with exactly one call of its C{onOutcome}:
    C{"acked"} (L{acknowledge}), C{"timeout"} (Timer F), or C{"dropped"}
    (pushed out of a full table, or replaced by a L{start} with the same
    key).  L{stopAll} ends them all without outcome.

    Every NOTIFY follows the same schedule, so the NOTIFYs sent the same
    number of times are due in the order they were started: one FIFO queue
    per number of sends, and a single timer for the earliest due time.  An
    acknowledged or dropped NOTIFY leaves the table at once and its queue
    entry is skipped when it comes up.

    @ivar dropped: how many NOTIFYs were pushed out because the table was
        full.
    @ivar retransmitted: how many copies Timer E sent after the first ones.
    @ivar capacity: the most NOTIFYs pending at once.
    """

    _log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        send: Callable[[bytes, Address], None],
        capacity: int = 10000,
        t1: float = T1,
        t2: float = T2,
    ) -> None:
        """
        @param send: writes a datagram (C{transport.write}).
        """
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self._clock = clock
        self._send = send
        self.capacity = capacity
        self._t1 = t1
        self._t2 = t2
        # Oldest first, taken from the front when the table is full: an
        # OrderedDict, as a plain dict finds its first key by skipping
        # every slot emptied since it last grew (12 us a time when full).
        self._pending: OrderedDict[Hashable, _Pending] = OrderedDict()
        # Per number of sends: (due, sequence, stage, key, pending), oldest first.
        self._queues: list[deque[tuple[float, int, int, Hashable, _Pending]]] = [deque()]
        self._sequence = count()
        self._call: IDelayedCall | None = None
        self._callAt = 0.0
        self.dropped = 0
        self.retransmitted = 0

    def __len__(self) -> int:
        """
        How many NOTIFYs are waiting for their C{200 OK}.
        """
        return len(self._pending)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._pending

    def start(
        self,
        key: Hashable,
        data: bytes,
        address: Address,
        onOutcome: Callable[[str], None],
    ) -> None:
        """
        Send C{data} to C{address} now and retransmit it until
        L{acknowledge}C{(key)} or Timer F.

        @param key: what the NOTIFY's response will be matched by: its Via
            branch for plug-and-play (L{snomprov.pnp}), C{(Call-ID, CSeq
            number)} for a push (L{snomprov.sip.uaprofile.transactionKey}).
        @param onOutcome: called once with C{"acked"}, C{"timeout"} or
            C{"dropped"}.
        """
        pendingByKey = self._pending
        old = pendingByKey.pop(key, None)
        if old is not None:
            self._finish(old, "dropped")
        elif len(pendingByKey) >= self.capacity:
            self.dropped += 1
            self._finish(pendingByKey.popitem(last=False)[1], "dropped")
        now = self._clock.seconds()
        t1 = self._t1
        pending = _Pending(data, address, onOutcome, t1, now + 64 * t1)
        pendingByKey[key] = pending
        self._transmit(pending)
        due = now + t1
        self._queues[0].append((due, next(self._sequence), 0, key, pending))
        if self._call is None or due < self._callAt:
            self._schedule(due, now)

    def acknowledge(self, key: Hashable) -> bool:
        """
        The C{200 OK} of the NOTIFY C{key} arrived: stop retransmitting it.

        @return: C{False} if no NOTIFY with that key is pending (the
            response matches no transaction).
        """
        pending = self._pending.pop(key, None)
        if pending is None:
            return False
        self._finish(pending, "acked")
        return True

    def stopAll(self) -> None:
        """
        Cancel the timer and forget every pending NOTIFY, without calling
        their C{onOutcome} (for C{stopService}).
        """
        self._pending = OrderedDict()
        self._queues = [deque()]
        if self._call is not None:
            if self._call.active():
                self._call.cancel()
            self._call = None

    def _schedule(self, due: float, now: float) -> None:
        """
        Run L{_fire} at C{due} (instead of when it was due to run).
        """
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._callAt = due
        self._call = self._clock.callLater(max(0.0, due - now), self._fire)

    def _fire(self) -> None:
        """
        Timers E and F of every NOTIFY now due: retransmit, or give up at
        the deadline.
        """
        self._call = None
        now = self._clock.seconds()
        limit = now + _EPSILON
        pendingByKey = self._pending
        queues = self._queues
        t2 = self._t2
        due = []
        for queue in queues:
            while queue and queue[0][0] <= limit:
                due.append(queue.popleft())
        if len(due) > 1:
            due.sort(key=_ORDER)  # in the order they were scheduled
        sequence = self._sequence
        for _, _, stage, key, pending in due:
            if pendingByKey.get(key) is not pending:
                continue
            if now >= pending.deadline - _EPSILON:
                del pendingByKey[key]
                self._finish(pending, "timeout")
                continue
            self._transmit(pending)
            self.retransmitted += 1
            delay = pending.interval = min(pending.interval * 2, t2)
            stage += 1
            if stage == len(queues):
                queues.append(deque())
            queues[stage].append(
                (now + min(delay, pending.deadline - now), next(sequence), stage, key, pending)
            )
        # Skip what was acknowledged or dropped meanwhile, so that the timer
        # next runs for a NOTIFY still waiting (not once per NOTIFY sent).
        for queue in queues:
            while queue and pendingByKey.get(queue[0][3]) is not queue[0][4]:
                queue.popleft()
        due = min((queue[0][0] for queue in queues if queue), default=None)
        if due is not None and self._call is None:
            self._schedule(due, now)

    def _transmit(self, pending: _Pending) -> None:
        """
        Send one copy; a failing C{send} is logged, the timers go on.
        """
        try:
            self._send(pending.data, pending.address)
        except Exception:
            self._log.failure("Sending a NOTIFY to {address} failed", address=pending.address)

    def _finish(self, pending: _Pending, outcome: str) -> None:
        """
        Report C{outcome}; a failing C{onOutcome} is logged.
        """
        try:
            pending.onOutcome(outcome)
        except Exception:
            self._log.failure("NOTIFY outcome callback failed ({outcome})", outcome=outcome)


class SubscribeDeduplicator:
    """
    The C{200 OK}s we sent to recent SUBSCRIBEs, so that a retransmitted
    SUBSCRIBE (same Call-ID, From tag and CSeq) gets the same answer and no
    second NOTIFY.

    Entries live C{ttl} seconds.  With one C{ttl} for all, insertion order
    is expiry order: expired entries are pruned from the front of an
    C{OrderedDict} on each call, with no timer per entry (a plain dict
    would find its front by skipping every slot emptied since it last
    grew).

    @ivar evicted: how many live entries were pushed out because the table
        was full.
    @ivar capacity: the most entries kept.
    """

    def __init__(self, clock: IReactorTime, capacity: int = 10000, ttl: float = 32.0) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self._clock = clock
        self.capacity = capacity
        self.ttl = ttl
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self.evicted = 0

    def __len__(self) -> int:
        """
        How many entries are kept (expired ones included until pruned).
        """
        return len(self._entries)

    def lookup(self, callID: str, fromTag: str, cseq: int) -> bytes | None:
        """
        The response remembered for this SUBSCRIBE, or C{None}.
        """
        now = self._clock.seconds()
        self._prune(now)
        entry = self._entries.get((callID, fromTag, cseq))
        if entry is None or entry[0] <= now:
            return None
        return entry[1]

    def remember(self, key: tuple[str, str, int], response: bytes) -> None:
        """
        Keep C{response} for C{ttl} seconds.

        @param key: C{(Call-ID, From tag, CSeq number)}, as given by
            L{snomprov.sip.uaprofile.subscribeKey}.
        """
        now = self._clock.seconds()
        self._prune(now)
        entries = self._entries
        entries.pop(key, None)
        if len(entries) >= self.capacity:
            entries.popitem(last=False)
            self.evicted += 1
        entries[key] = (now + self.ttl, response)

    def _prune(self, now: float) -> None:
        """
        Drop the expired entries at the front.
        """
        entries = self._entries
        while entries:
            key = next(iter(entries))
            if entries[key][0] > now:
                return
            del entries[key]
