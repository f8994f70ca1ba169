"""
Tests for L{snomprov.operations.devices}: every device operation through
the operations layer, against each store backend, with the audit events
it records, the revisions that keep two operators from overwriting each
other, and the passwords it generates, keeps, masks and reveals.
"""

from __future__ import annotations

import re

import pytest
import pytest_twisted
from twisted.internet import defer

from snomprov.audit import AUDIT, CLI, Audit, operatorActor, parseAudit
from snomprov.device import DeviceInfo, Line
from snomprov.operations import devices
from snomprov.operations.devices import DeviceFilter, LineSpec
from snomprov.operations.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, Refused

from test_store import snapshot, store  # noqa: F401

MAC = "000413922D24"
OTHER = "0004F2000001"
ADA, OTTO = operatorActor("ada"), operatorActor("otto")


class Registry:
    """
    The vendors' names are all the operations ask of the registry.
    """

    names = ["linksys", "snom"]


REGISTRY = Registry()


def run(coroutine):
    return defer.ensureDeferred(coroutine)


@defer.inlineCallbacks
def auditTrail(store):
    events = yield store.listEvents(limit=100)
    return [parseAudit(e) for e in reversed(events) if e.kind == AUDIT]


def register(store, mac=MAC, actor=CLI, now=1.0, **kw):
    kw.setdefault("vendor", "snom")
    kw.setdefault("lines", [LineSpec(1, "1001", "pw-one", displayName="Ada")])
    return run(devices.registerDevice(store, REGISTRY, actor, now, mac, **kw))


def secretsOf(view) -> list[str]:
    return list(view.generated.values())


@pytest_twisted.inlineCallbacks
def test_registerAndGet(store):
    """
    A device registered in any MAC spelling is stored C{registered} with
    its lines; the answer masks passwords and carries the revision; the
    change is audited against the device.
    """
    view = yield register(store, "00:04:13:92:2d:24", model=" snomD785 ", notes="desk",
                          lines=[LineSpec(2, "1002", "pw-two"), LineSpec(1, " 1001 ", "pw-one", displayName="Ada")])
    assert view.device == DeviceInfo(MAC, vendor="snom", model="snomD785", notes="desk", state="registered")
    assert [(l.index, l.user, l.passwordSet, l.password) for l in view.lines] == [
        (1, "1001", True, None), (2, "1002", True, None)]
    assert view.revision == (yield store.deviceRevision(MAC)) and view.generated == {}
    assert (yield store.getLines(MAC)) == (Line(1, "1001", "pw-one", "Ada"), Line(2, "1002", "pw-two"))
    got = yield run(devices.getDevice(store, REGISTRY, CLI, 2.0, "000413922d24"))
    assert (got.device, got.lines, got.revision) == (view.device, view.lines, view.revision)
    events = yield store.listEvents(mac=MAC)
    assert [e.kind for e in events] == [AUDIT] and events[0].time == 1.0
    assert parseAudit(events[0]) == Audit("cli", f"device:{MAC}", "registered (vendor, model, notes, lines; 2 lines)")
    assert "pw-" not in repr(view) + repr(got) + events[0].detail


@pytest_twisted.inlineCallbacks
def test_registerTwiceConflicts(store):
    yield register(store)
    before = yield snapshot(store)
    with pytest.raises(Conflict, match=f"device {MAC} exists already"):
        yield register(store, "000413922D24", notes="again")
    assert (yield snapshot(store)) == before


@pytest.mark.parametrize("kw,fields", [
    ({"mac": "not-a-mac"}, ["/mac"]),
    ({"vendor": "acme"}, ["/vendor"]),
    ({"vendor": ""}, ["/vendor"]),
    ({"model": "snom\x00"}, ["/model"]),
    ({"notes": "bell\x07"}, ["/notes"]),
    ({"lines": [LineSpec(0, "u")]}, ["/lines/0/index"]),
    ({"lines": [LineSpec(100, "u")]}, ["/lines/0/index"]),
    ({"lines": [LineSpec(1, "  ")]}, ["/lines/0/user"]),
    ({"lines": [LineSpec(1, "u", "pw\n")]}, ["/lines/0/password"]),
    ({"lines": [LineSpec(1, "u"), LineSpec(1, "v")]}, ["/lines/1/index"]),
    ({"lines": [LineSpec(1, "u", displayName=3)]}, ["/lines/0/displayName"]),
    ({"lines": ["1,u,pw"]}, ["/lines/0"]),
    ({"lines": "1,u,pw"}, ["/lines"]),
    ({"vendor": "acme", "lines": [LineSpec(1, "")]}, ["/vendor", "/lines/0/user"]),
])
@pytest_twisted.inlineCallbacks
def test_registerRefusedByTheCSVRules(store, kw, fields):
    """
    A registration is checked by the rules of a CSV row, every bad field
    named; nothing is stored.
    """
    kw = dict(kw)
    mac = kw.pop("mac", MAC)
    with pytest.raises(Invalid) as caught:
        yield register(store, mac, **kw)
    assert [field for field, _ in caught.value.errors] == fields
    assert "pw" not in str(caught.value)
    assert (yield snapshot(store)) == ([], {}, {}, [], 0)


@pytest_twisted.inlineCallbacks
def test_vendorInAnyCaseAndNotesOnSeveralLines(store):
    view = yield register(store, vendor="SNOM", notes="first\nsecond\tline")
    assert view.device.vendor == "snom" and view.device.notes == "first\nsecond\tline"


@pytest_twisted.inlineCallbacks
def test_generatedPasswords(store):
    """
    An empty password, or none for a new line, is generated: strong,
    URL-safe, unique, answered once and never in an audit event or a repr.
    """
    view = yield register(store, lines=[LineSpec(1, "a", ""), LineSpec(2, "b"), LineSpec(3, "c", "given")])
    assert sorted(view.generated) == [1, 2]
    stored = {line.index: line.password for line in (yield store.getLines(MAC))}
    assert stored[1] == view.generated[1] and stored[2] == view.generated[2] and stored[3] == "given"
    others = yield register(store, OTHER, lines=[LineSpec(i, f"u{i}") for i in range(1, 9)])
    everything = secretsOf(view) + secretsOf(others)
    assert len(set(everything)) == len(everything) == 10
    for secret in everything:
        assert len(secret) >= 16 and re.fullmatch(r"[A-Za-z0-9_-]+", secret)
    trail = yield store.listEvents(limit=100)
    text = repr(view) + repr(others) + "".join(e.detail for e in trail)
    assert not any(secret in text for secret in everything)
    assert parseAudit(trail[-1]).summary.endswith("2 passwords generated")


@pytest_twisted.inlineCallbacks
def test_maskedDocumentRoundTrips(store):
    """
    A line given back without its password keeps the stored one; a new
    index gets a new one; the revision moves only when something changed.
    """
    view = yield register(store, lines=[LineSpec(1, "a", "pw-a"), LineSpec(2, "b", "pw-b")])
    specs = [LineSpec(l.index, l.user, None, l.displayName, l.registrar, l.authUser, l.outboundProxy)
             for l in view.lines]
    same = yield run(devices.replaceDevice(store, REGISTRY, CLI, 2.0, MAC, "snom", lines=specs,
                                           expected=view.revision))
    assert same.revision == view.revision and same.generated == {}
    assert [l.password for l in (yield store.getLines(MAC))] == ["pw-a", "pw-b"]
    more = yield run(devices.setLines(store, REGISTRY, CLI, 3.0, MAC, [*specs[:1], LineSpec(3, "c")]))
    assert more.revision > view.revision and sorted(more.generated) == [3]
    stored = yield store.getLines(MAC)
    assert [(l.index, l.password) for l in stored] == [(1, "pw-a"), (3, more.generated[3])]
    assert [a.summary for a in (yield auditTrail(store))][1:] == [
        "replaced (no change; 2 lines)", "lines set (lines; 2 lines), 1 password generated"]


@pytest_twisted.inlineCallbacks
def test_replaceKeepsSightings(store):
    yield store.mergeDevices([DeviceInfo(MAC, vendor="snom", ip="192.0.2.7", state="fetched", lastSeen=9.0)])
    view = yield run(devices.replaceDevice(store, REGISTRY, OTTO, 4.0, "00-04-13-92-2D-24", "snom",
                                           "snomD785", "hall", [LineSpec(1, "1001")]))
    assert view.device == DeviceInfo(MAC, vendor="snom", model="snomD785", ip="192.0.2.7", state="fetched",
                                     lastSeen=9.0, notes="hall")
    assert len(view.generated) == 1
    assert (yield auditTrail(store)) == [
        Audit(OTTO, f"device:{MAC}", "replaced (model, notes, lines; 1 line), 1 password generated")]


@pytest_twisted.inlineCallbacks
def test_replaceUnknownIsNotFound(store):
    with pytest.raises(NotFound, match=f"no device {OTHER}"):
        yield run(devices.replaceDevice(store, REGISTRY, CLI, 1.0, OTHER, "snom"))
    with pytest.raises(NotFound):
        yield run(devices.patchDevice(store, REGISTRY, CLI, 1.0, OTHER, {"notes": "x"}))
    with pytest.raises(NotFound):
        yield run(devices.deleteDevice(store, REGISTRY, CLI, 1.0, OTHER))
    with pytest.raises(NotFound):
        yield run(devices.getDevice(store, REGISTRY, CLI, 1.0, OTHER))
    assert (yield snapshot(store)) == ([], {}, {}, [], 0)


@pytest_twisted.inlineCallbacks
def test_patch(store):
    """
    A patch changes what it names: C{None} clears the model or the notes;
    lines are replaced whole; another field, or nothing, is refused.
    """
    view = yield register(store, model="snom360", notes="n")
    patched = yield run(devices.patchDevice(store, REGISTRY, ADA, 2.0, MAC, {"notes": None, "model": "snomD785"},
                                            expected=view.revision))
    assert (patched.device.model, patched.device.notes) == ("snomD785", None)
    assert [l.user for l in patched.lines] == ["1001"] and patched.revision > view.revision
    assert (yield store.getLines(MAC))[0].password == "pw-one"
    again = yield run(devices.patchDevice(store, REGISTRY, ADA, 3.0, MAC, {"lines": [LineSpec(1, "1001", displayName="Ada")]}))
    assert (yield store.getLines(MAC))[0].password == "pw-one" and again.revision == patched.revision
    for changes, fields in [({}, [""]), ({"state": "seen"}, ["/state"]), ({"vendor": None}, ["/vendor"]),
                            ({"vendor": "acme"}, ["/vendor"]), ({"lines": None}, ["/lines"])]:
        with pytest.raises(Invalid) as caught:
            yield run(devices.patchDevice(store, REGISTRY, ADA, 4.0, MAC, changes))
        assert [f for f, _ in caught.value.errors] == fields
    assert [a.summary for a in (yield auditTrail(store))][1:] == [
        "patched (model, notes; 1 line)", "lines set (no change; 1 line)"]


@pytest_twisted.inlineCallbacks
def test_patchASeenDeviceOfNoVendor(store):
    """
    A device seen but of no known vendor can be given notes alone.
    """
    yield store.mergeDevices([DeviceInfo(MAC, state="seen")])
    view = yield run(devices.patchDevice(store, REGISTRY, ADA, 2.0, MAC, {"notes": "unknown phone"}))
    assert (view.device.vendor, view.device.notes) == (None, "unknown phone")


@pytest_twisted.inlineCallbacks
def test_twoOperatorsStaleRevision(store):
    """
    Two operators read the same revision; the first one's change is
    written, the second is refused with L{PreconditionFailed}, and the
    first one's change is intact (as is the audit: one change).
    """
    read = yield register(store)
    first = yield run(devices.patchDevice(store, REGISTRY, ADA, 2.0, MAC, {"notes": "ada's"}, read.revision))
    before = yield snapshot(store)
    for attempt in (
        devices.patchDevice(store, REGISTRY, OTTO, 3.0, MAC, {"notes": "otto's"}, read.revision),
        devices.replaceDevice(store, REGISTRY, OTTO, 3.0, MAC, "linksys", expected=read.revision),
        devices.setLines(store, REGISTRY, OTTO, 3.0, MAC, [], expected=read.revision),
        devices.deleteDevice(store, REGISTRY, OTTO, 3.0, MAC, expected=read.revision),
    ):
        with pytest.raises(PreconditionFailed, match=f"device {MAC} has changed"):
            yield run(attempt)
    assert (yield snapshot(store)) == before
    now = yield run(devices.getDevice(store, REGISTRY, OTTO, 4.0, MAC))
    assert now.device.notes == "ada's" and now.revision == first.revision
    assert [a.actor for a in (yield auditTrail(store))] == [CLI, ADA]


@pytest_twisted.inlineCallbacks
def test_raceWithoutExpectationIsRetried(store):
    """
    A change given no revision that loses the race between its read and
    its write is built again from what the other change stored: a kept
    password is the one stored then, and nothing is refused.
    """
    yield register(store, lines=[LineSpec(1, "a", "old-pw")])
    real = store.writeDevice
    raced = []

    def writeDevice(device, lines, expected=None, events=(), new=False):
        if not raced:
            raced.append(True)
            d = store.setLines(MAC, [Line(1, "a", "new-pw")])
            return d.addCallback(lambda _: real(device, lines, expected, events, new))
        return real(device, lines, expected, events, new)

    store.writeDevice = writeDevice
    try:
        view = yield run(devices.patchDevice(store, REGISTRY, ADA, 2.0, MAC, {"notes": "x"}))
    finally:
        del store.writeDevice
    assert view.device.notes == "x"
    assert [l.password for l in (yield store.getLines(MAC))] == ["new-pw"]


@pytest_twisted.inlineCallbacks
def test_delete(store):
    view = yield register(store)
    yield run(devices.deleteDevice(store, REGISTRY, ADA, 5.0, "00:04:13:92:2D:24", expected=view.revision))
    assert (yield store.getDevice(MAC)) is None
    assert (yield auditTrail(store))[-1] == Audit(ADA, f"device:{MAC}", "deleted")
    with pytest.raises(NotFound):
        yield run(devices.deleteDevice(store, REGISTRY, ADA, 6.0, MAC))
    again = yield register(store)
    assert again.revision > view.revision


@pytest_twisted.inlineCallbacks
def test_reveal(store):
    """
    Passwords are masked; only an admin may reveal them, and a reveal is
    audited, naming the device and never a password.
    """
    yield register(store)
    for role in ("viewer", "operator"):
        with pytest.raises(Forbidden, match="needs the role admin"):
            yield run(devices.getDevice(store, REGISTRY, OTTO, 2.0, MAC, reveal=True, role=role))
    assert [a.summary for a in (yield auditTrail(store))] == ["registered (vendor, lines; 1 line)"]
    masked = yield run(devices.getDevice(store, REGISTRY, OTTO, 2.0, MAC, role="viewer"))
    assert masked.lines[0].password is None and masked.lines[0].passwordSet and not masked.revealed
    shown = yield run(devices.getDevice(store, REGISTRY, ADA, 3.0, MAC, reveal=True, role="admin"))
    assert shown.lines[0].password == "pw-one" and shown.revealed
    assert "pw-one" not in repr(shown)
    events = yield store.listEvents(limit=1)
    assert events[0].mac == MAC and events[0].time == 3.0
    assert parseAudit(events[0]) == Audit(ADA, f"device:{MAC}", "SIP passwords revealed")
    assert "pw-one" not in events[0].detail


@pytest_twisted.inlineCallbacks
def test_list(store):
    """
    Pages by MAC, with a cursor, and each filter; a vendor in any case; a
    MAC with separators as the text.
    """
    macs = [f"000413{index:06X}" for index in range(7)]
    for mac in macs:
        yield register(store, mac, lines=[LineSpec(1, f"user-{mac[-2:]}")])
    yield store.mergeDevices([DeviceInfo(macs[3], state="seen"), DeviceInfo(OTHER, vendor="linksys")])
    seen, cursor, pages = [], None, 0
    while True:
        page = yield run(devices.listDevices(store, REGISTRY, CLI, 1.0, DeviceFilter(), cursor, 3))
        seen += [d.mac for d in page.devices]
        pages += 1
        cursor = page.next
        if cursor is None:
            break
    assert seen == macs + [OTHER] and pages == 3
    for filters, expected in [
        (DeviceFilter(state="seen"), [macs[3]]),
        (DeviceFilter(vendor="LinkSys"), [OTHER]),
        (DeviceFilter(text="USER-05"), [macs[5]]),
        (DeviceFilter(text="00:04:13:00:00:06"), [macs[6]]),
        (DeviceFilter(text="00:04:f2"), [OTHER]),
        (DeviceFilter(vendor="snom", state="registered"), [m for m in macs if m != macs[3]]),
    ]:
        page = yield run(devices.listDevices(store, REGISTRY, CLI, 1.0, filters))
        assert ([d.mac for d in page.devices], page.next) == (expected, None), filters
    for filters, cursor, limit in [(DeviceFilter(state="asleep"), None, 10), (DeviceFilter(), "nope", 10),
                                   (DeviceFilter(), None, 0)]:
        with pytest.raises(Refused):
            yield run(devices.listDevices(store, REGISTRY, CLI, 1.0, filters, cursor, limit))


@pytest_twisted.inlineCallbacks
def test_listSorted(store):
    """
    In any order of the store's, the pages are the whole store in that
    order (last seen newest first here), the cursor carrying the order: one
    of another order, or of none, is refused, as an unknown sort is.
    """
    macs = [f"000413{index:06X}" for index in range(7)]
    times = [5.0, 1.0, 9.0, 1.0, 7.0, 3.0, 9.0]
    yield store.mergeDevices([DeviceInfo(mac, state="seen", lastSeen=t, firstSeen=t)
                              for mac, t in zip(macs, times)])
    seen, cursor, cursors = [], None, []
    while True:
        page = yield run(devices.listDevices(store, REGISTRY, CLI, 1.0, DeviceFilter(), cursor, 2,
                                             sort="seen", descending=True))
        seen += [d.mac for d in page.devices]
        cursor = page.next
        if cursor is None:
            break
        cursors.append(cursor)
    assert seen == [macs[2], macs[6], macs[4], macs[0], macs[5], macs[1], macs[3]]
    byMACDown = yield run(devices.listDevices(store, REGISTRY, CLI, 1.0, DeviceFilter(), None, 2,
                                                 sort="mac", descending=True))
    assert [d.mac for d in byMACDown.devices] == [macs[6], macs[5]]
    for cursor, sort, descending in [(cursors[0], "seen", False), (cursors[0], "mac", False),
                                     (macs[2], "seen", True), ('["seen","desc","x","000413000002"]', "seen", True),
                                     ('["seen","desc",NaN,"000413000002"]', "seen", True),
                                     (byMACDown.next, "mac", False), (None, "ip", False)]:
        with pytest.raises(Invalid):
            yield run(devices.listDevices(store, REGISTRY, CLI, 1.0, DeviceFilter(), cursor, 2, sort=sort,
                                          descending=descending))


class _Counting:
    """
    The store, counting the calls made to it (each a transaction, a thread
    hand-off and round trips for an SQL one).
    """

    def __init__(self, store):
        self._store, self.calls = store, []

    def __getattr__(self, name):
        method = getattr(self._store, name)

        def call(*args, **kw):
            self.calls.append(name)
            return method(*args, **kw)

        return call


@pytest_twisted.inlineCallbacks
def test_waitingReadInBatches(store):
    """
    Phones waiting among 250 phones seen, most of them registered: the
    lines are read a page at a time (a handful of store calls, not one per
    phone), and only phones without lines are waiting, those only seen
    first.
    """
    macs = [f"000413{index:06X}" for index in range(250)]
    waiting = {macs[7], macs[130], macs[249]}
    yield store.mergeDevices([DeviceInfo(mac, state="seen" if mac != macs[7] else "fetched") for mac in macs])
    yield store.applyImport([DeviceInfo(mac, vendor="snom", state="seen") for mac in macs if mac not in waiting],
                            {mac: (Line(1, f"u{mac[-3:]}", "pw"),) for mac in macs if mac not in waiting})
    counting = _Counting(store)
    found = yield run(devices.listWaiting(counting, limit=20, scan=500))
    assert [d.mac for d in found] == [macs[130], macs[249], macs[7]]
    # Pages of 100: three of phones seen and one of phones fetched, each
    # with one batch read; not 250 reads of lines.
    assert counting.calls.count("readDevices") == 4, counting.calls
    assert set(counting.calls) == {"pageDevices", "readDevices"}, counting.calls


def test_reprsMaskPasswords():
    spec = LineSpec(1, "u", "hunter22")
    view = devices.DeviceView(DeviceInfo(MAC), (devices.LineView.of(Line(1, "u", "hunter22"), True),), 3,
                              {1: "hunter22"}, True)
    assert "hunter22" not in repr(spec) + repr(view) + str(view)


@pytest_twisted.inlineCallbacks
def test_commandListsEveryPage(store, monkeypatch):
    """
    C{snomprov devices} reads every page of L{devices.listDevices}.
    """
    from snomprov.commands import devices as command

    monkeypatch.setattr(command, "_PAGE", 2)
    macs = [f"000413{index:06X}" for index in range(5)]
    yield store.mergeDevices([DeviceInfo(mac, state="seen") for mac in macs])
    found = yield run(command.listAll(store, REGISTRY, 1.0))
    assert [d.mac for d in found] == macs
    assert command.formatTable(found).splitlines()[1].split()[0] == macs[0]
