"""
Tests for L{snomprov.operations.resync}: which phones a push picks, its
rate on a L{Clock}, its bound on NOTIFYs waiting at once, and what it
records.  The NOTIFYs are a fake L{snomprov.push.pushResync}.
"""

from __future__ import annotations

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from snomprov.audit import parseAudit
from snomprov.device import DeviceInfo, Line, Setting, SettingsLayer
from snomprov.operations.errors import Refused
from snomprov.operations.resync import NO_PROVEN_ADDRESS, planResync, resyncDevices
from snomprov.recorder import Recorder
from snomprov.registry import VendorRegistry
from snomprov.store.memory import MemoryDeviceStore
from snomprov.vendors.generic import GenericUAProfileVendor
from snomprov.vendors.linksys import linksysVendor
from snomprov.vendors.snom import snomVendor

SNOM1, SNOM2, SNOM3 = "000413000001", "000413000002", "000413000003"
SPA = "000E08000001"
NOADDRESS = "000413000009"
OTHER = "00A0B0000001"
REGISTRY = VendorRegistry([snomVendor, linksysVendor, GenericUAProfileVendor("acme", "{base_url}/x")])


class FakePush:
    """
    L{snomprov.push.pushResync}'s stand-in: remembers each push, says it was
    sent, and answers when told (or at once with C{answer}).
    """

    def __init__(self, clock: Clock, answer: str | None = "acked") -> None:
        self.clock = clock
        self.answer = answer
        self.pushes: list[tuple[float, tuple[str, int], str]] = []
        self.credentials: list = []
        self.waiting: list[defer.Deferred] = []

    def __call__(self, reactor, address, event, onSend=None, credentials=None):
        assert reactor is self.clock
        self.pushes.append((self.clock.seconds(), address, event))
        self.credentials.append(credentials)
        if address[0] == "192.0.2.66":
            raise OSError("no port")
        if onSend is not None:
            onSend(1)
        if self.answer is not None:
            return defer.succeed(self.answer)
        d = defer.Deferred()
        self.waiting.append(d)
        return d


def _device(mac, vendor="snom", ip=None, sip=None):
    return DeviceInfo(mac=mac, vendor=vendor, model=None, ip=ip, state="seen", sipAddress=sip)


def makeStore():
    store = MemoryDeviceStore()
    store.mergeDevices([
        _device(SNOM1, sip=("192.0.2.1", 5060)), _device(SNOM2, sip=("192.0.2.2", 5062)),
        _device(SNOM3, ip="192.0.2.3"), _device(SPA, "linksys", sip=("192.0.2.4", 5060)),
        _device(NOADDRESS), _device(OTHER, "acme", sip=("192.0.2.5", 5060)),
    ])
    return store


def run(clock, coroutine, advance=0.0):
    """
    Run a coroutine on the clock, advancing it in small steps.

    @return: what it returned.
    """
    d = defer.ensureDeferred(coroutine)
    steps = int(advance * 100)
    for _ in range(steps):
        clock.advance(0.01)
    results = []
    d.addBoth(results.append)
    assert results, "the push did not end"
    if isinstance(results[0], Exception) or hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


def test_allAtTheRate():
    """
    C{all} pushes every phone with an address and a resync vendor, at most
    C{rate} NOTIFYs a second; the others are reported as skipped.
    """
    store, clock = makeStore(), Clock()
    push = FakePush(clock)
    plan, results = run(clock, resyncDevices(store, REGISTRY, clock, "cli", all=True, rate=2, push=push),
                        advance=5)
    assert [t for t, _, _ in push.pushes] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert [a for _, a, _ in push.pushes] == [("192.0.2.1", 5060), ("192.0.2.2", 5062),
                                              ("192.0.2.3", 5060), ("192.0.2.4", 5060)]
    assert [e for _, _, e in push.pushes][-1] == linksysVendor.resyncEvent
    assert dict(plan.skipped) == {NOADDRESS: ("no proven address: the phone has not acknowledged a NOTIFY "
                                             "nor fetched its file with a proof"),
                                  OTHER: "its vendor acme cannot be pushed"}
    assert [r.outcome for r in results] == ["acked"] * 4


def test_eventsAndOneAudit():
    """
    Each NOTIFY's outcome is a C{resync-sent} event of its phone; the push
    is one audit event naming the actor, before any NOTIFY.
    """
    store, clock = makeStore(), Clock()
    push = FakePush(clock, answer="timeout")
    run(clock, resyncDevices(store, REGISTRY, clock, "operator:alice", macs=[SNOM1, "00:04:13:00:00:02"],
                             rate=10, push=push), advance=1)
    events = list(reversed(store.listEvents(limit=100).result))
    assert [e.kind for e in events] == ["audit", "resync-sent", "resync-sent"]
    audit = parseAudit(events[0])
    assert (audit.actor, audit.object) == ("operator:alice", "resync:selection")
    assert audit.summary == "2 queued at 10/s, 0 skipped"
    assert [(e.mac, e.detail) for e in events[1:]] == [
        (SNOM1, f"192.0.2.1:5060 {snomVendor.resyncEvent}: timeout"),
        (SNOM2, f"192.0.2.2:5062 {snomVendor.resyncEvent}: timeout"),
    ]


def test_staleOnly():
    """
    C{stale} pushes the phones whose fetched version is older than their
    current one, not the never-fetched nor the up-to-date.
    """
    store, clock = makeStore(), Clock()
    store.setLines(SNOM1, (Line(1, "u", "p", "n", "r"),))
    store.setLines(SNOM2, (Line(1, "u", "p", "n", "r"),))
    versions = store.deviceVersions([SNOM1, SNOM2, SNOM3]).result
    store.markFetched([(mac, current) for mac, (current, _) in versions.items()])
    store.putLayer(SettingsLayer(f"device:{SNOM2}", (Setting("language", "Dansk"),)))
    push = FakePush(clock)
    plan, results = run(clock, resyncDevices(store, REGISTRY, clock, "cli", stale=True, push=push))
    assert plan.what == "resync:stale" and [t.mac for t in plan.targets] == [SNOM2]
    assert [a for _, a, _ in push.pushes] == [("192.0.2.2", 5062)]


def test_concurrencyBounded():
    """
    At most C{concurrency} NOTIFYs wait for an answer at once; the next
    begins when one ends.
    """
    store, clock = makeStore(), Clock()
    push = FakePush(clock, answer=None)
    d = defer.ensureDeferred(resyncDevices(store, REGISTRY, clock, "cli", all=True, rate=100,
                                           push=push, concurrency=2))
    clock.advance(1)
    clock.advance(1)
    assert len(push.pushes) == 2
    push.waiting[0].callback("acked")
    clock.advance(0.01)
    assert len(push.pushes) == 3
    for waiting in push.waiting[1:]:
        waiting.callback("acked")
    clock.advance(0.01)
    push.waiting[-1].callback("acked")
    clock.advance(1)
    plan, results = d.result
    assert len(results) == 4 and {r.outcome for r in results} == {"acked"}


def test_failedPushNotFatal():
    """
    A NOTIFY that cannot be sent is a C{failed} outcome; the others go on.
    """
    store, clock = makeStore(), Clock()
    store.mergeDevices([_device(SNOM1, sip=("192.0.2.66", 5060))])
    push = FakePush(clock)
    plan, results = run(clock, resyncDevices(store, REGISTRY, clock, "cli", macs=[SNOM1, SNOM2], push=push),
                        advance=1)
    assert [r.outcome for r in results] == ["failed: OSError: no port", "acked"]


def test_onSendAndOnDone():
    """
    C{onSend} hears each send of each NOTIFY, C{onDone} each result.
    """
    store, clock = makeStore(), Clock()
    sends, done = [], []
    run(clock, resyncDevices(store, REGISTRY, clock, "cli", macs=[SNOM1], push=FakePush(clock),
                             onSend=lambda target, n: sends.append((target.mac, n)),
                             onDone=done.append))
    assert sends == [(SNOM1, 1)] and [(r.target.mac, r.outcome) for r in done] == [(SNOM1, "acked")]


@pytest.mark.parametrize("kwargs, message", [
    ({}, "name the phones"),
    ({"stale": True, "all": True}, "name the phones"),
    ({"macs": ["nonsense"]}, "nonsense"),
    ({"macs": []}, "at least one"),
    ({"all": True, "rate": 0}, "rate"),
    ({"all": True, "rate": 5000}, "rate"),
])
def test_refused(kwargs, message):
    """
    Bad selections and rates are refused before anything is sent or
    recorded.
    """
    store, clock = makeStore(), Clock()
    push = FakePush(clock)
    with pytest.raises(Refused, match=message):
        run(clock, resyncDevices(store, REGISTRY, clock, "cli", push=push, **kwargs))
    assert push.pushes == [] and store.listEvents().result == []


def test_planNamesUnknownDevices():
    """
    A MAC not stored is skipped as no such device; one phone is the audit
    object C{device:<MAC>}.
    """
    store, clock = makeStore(), Clock()
    plan = run(clock, planResync(store, REGISTRY, macs=["000413FFFFFF"]))
    assert plan.what == "device:000413FFFFFF" and plan.skipped == (("000413FFFFFF", "no such device"),)


def test_pushGetsTheLinesCredentials():
    """
    The push is given the first line with a password's auth user (else its
    user) and password, to answer the phone's challenge with; a device
    without lines gets none.  The target's repr never shows the password.
    """
    from snomprov.device import Line
    from snomprov.sip.digest import DigestCredentials

    store, clock = makeStore(), Clock()
    store.setLines(SPA, (Line(1, "2001", "", "A", "pbx"), Line(2, "2002", "pw-2", "B", "pbx", authUser="auth2")))
    push = FakePush(clock)
    plan, results = run(clock, resyncDevices(store, REGISTRY, clock, "cli", macs=[SPA, SNOM1], push=push),
                        advance=1)
    assert push.credentials == [DigestCredentials("auth2", "pw-2"), None]
    assert "pw-2" not in repr(plan)


def test_onlyToAProvenAddress():
    """
    A phone recorded by a SUBSCRIBE alone (anyone may send one naming any
    MAC from any source) is not pushed, and the refusal says why; once it
    acknowledged a NOTIFY, the push goes to that address.
    """
    store, clock = MemoryDeviceStore(), Clock()
    recorder = Recorder(lambda: defer.succeed(store), clock)
    recorder.subscribed(1.0, SNOM1, "snom", "snomD785", None, "203.0.113.66", 5060, "http://p/x.xml")
    run(clock, recorder.flush())
    plan = run(clock, planResync(store, REGISTRY, [SNOM1]))
    assert (plan.targets, plan.skipped) == ((), ((SNOM1, NO_PROVEN_ADDRESS),))
    recorder.notifyEnded(2.0, SNOM1, "acked", "192.0.2.7", 5062)
    run(clock, recorder.flush())
    plan = run(clock, planResync(store, REGISTRY, [SNOM1]))
    assert [t.address for t in plan.targets] == [("192.0.2.7", 5062)] and plan.skipped == ()
