# -*- test-case-name: tests.test_operations_resync -*-
"""
Pushing phones to re-sync (DESIGN §7 "Push"): one phone, a selection, every
stale phone or every phone, at a bounded rate.  The command line
(C{snomprov resync}) and the API (C{POST /api/resync}) share this code.

L{planResync} picks the phones and says which cannot be pushed (unknown,
no proven address, a vendor that cannot be pushed): those are reported,
not fatal.  L{runResync} NOTIFYs the others through
L{snomprov.push.pushResync}: at most C{rate} NOTIFYs begin per second (a
token bucket holding one token, on the injected clock), at most
C{concurrency} wait for their answers at once; each outcome is a
C{resync-sent} event, and the whole push one C{audit} event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from twisted.internet import defer, task
from twisted.logger import Logger

from snomprov import push as _push
from snomprov.audit import auditEvent
from snomprov.device import Event, InvalidMAC, parseMAC
from snomprov.interfaces import IResyncVendor
from snomprov.operations.errors import Refused
from snomprov.sip.digest import DigestCredentials

__all__ = [
    "DEFAULT_RATE",
    "NO_PROVEN_ADDRESS",
    "MAX_RATE",
    "ResyncTarget",
    "ResyncPlan",
    "ResyncResult",
    "checkRate",
    "planResync",
    "runResync",
    "resyncDevices",
]

_log = Logger()

DEFAULT_RATE = 10.0
"""
NOTIFYs per second when none is asked for.
"""

MAX_RATE = 1000.0
"""
The largest rate accepted.
"""

DEFAULT_CONCURRENCY = 256
"""
How many NOTIFYs may wait for their answers at once (each holds a UDP
port for up to 32 s).
"""

_PAGE = 500

NO_PROVEN_ADDRESS = ("no proven address: the phone has not acknowledged a NOTIFY nor fetched its "
                     "file with a proof")
"""
Why a device without a recorded address cannot be pushed.
"""


@dataclass(frozen=True)
class ResyncTarget:
    """
    A phone to NOTIFY: at C{address}, with C{Event: <event>}.

    @ivar credentials: its first line's (auth) user and password, what a
        challenge of the phone is answered with (SPA phones challenge
        C{Event: resync}); C{None} for a device without lines.
    """

    mac: str
    address: tuple[str, int]
    event: str
    credentials: DigestCredentials | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ResyncPlan:
    """
    What a push will do.

    @ivar what: the audit object: C{device:<MAC>} for one phone,
        C{resync:stale}, C{resync:all} or C{resync:selection}.
    @ivar targets: the phones to NOTIFY, in order.
    @ivar skipped: C{(mac, reason)} of the phones that cannot be pushed.
    """

    what: str
    targets: tuple[ResyncTarget, ...]
    skipped: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ResyncResult:
    """
    The outcome of one NOTIFY: C{acked}, C{refused <code>}, C{timeout}, or
    C{failed: <why>} when it could not be sent.
    """

    target: ResyncTarget
    outcome: str


def checkRate(rate) -> float:
    """
    @raise Refused: unless C{0 < rate <= MAX_RATE}.
    """
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= MAX_RATE:
        raise Refused(f"rate must be a number above 0 and at most {MAX_RATE:g} per second, not {rate!r}")
    return float(rate)


def _target(registry, mac: str, device, lines=()) -> ResyncTarget | str:
    """
    A device's target, or why it cannot be pushed.

    A push goes only to an address the device proved (issue 15): its
    recorded C{sipAddress} (a NOTIFY it acknowledged,
    L{snomprov.recorder.PnPRecording.notifyEnded}), else, for a phone that
    does no PnP (SPA), its recorded C{ip} at port 5060 (a fetch of its
    file); never the source of a SUBSCRIBE alone.

    @param lines: the device's lines: the first with a password gives the
        target's credentials.
    """
    if device is None:
        return "no such device"
    vendor = registry.byName(device.vendor) or registry.byMAC(mac)
    if not IResyncVendor.providedBy(vendor):
        return f"its vendor {device.vendor or 'unknown'} cannot be pushed"
    address = device.sipAddress or ((device.ip, 5060) if device.ip else None)
    if address is None:
        return NO_PROVEN_ADDRESS
    credentials = next((DigestCredentials(line.authUser or line.user, line.password)
                        for line in lines if line.password), None)
    return ResyncTarget(mac, tuple(address), vendor.resyncEvent, credentials)


async def planResync(store, registry, macs=None, stale: bool = False, all: bool = False) -> ResyncPlan:
    """
    Pick the phones to push: exactly one of C{macs} (MACs in any
    spelling), C{stale} (every stale phone, L{IDeviceStore.pageStale}) and
    C{all}.

    @raise Refused: for none or several of them, or a bad MAC.
    """
    if sum((macs is not None, bool(stale), bool(all))) != 1:
        raise Refused("name the phones: MACs, stale or all (one of them)")
    if macs is not None:
        try:
            wanted = list(dict.fromkeys(parseMAC(mac) for mac in macs))
        except InvalidMAC as e:
            raise Refused(str(e)) from None
        if not wanted:
            raise Refused("name at least one MAC")
        what = f"device:{wanted[0]}" if len(wanted) == 1 else "resync:selection"
        devices = [(mac, await store.getDevice(mac)) for mac in wanted]
    elif stale:
        what = "resync:stale"
        devices = []
        after = None
        while True:
            page = await store.pageStale(after=after, limit=_PAGE)
            for mac, _, _ in page:
                devices.append((mac, await store.getDevice(mac)))
            if len(page) < _PAGE:
                break
            after = page[-1][0]
    else:
        what = "resync:all"
        devices = [(device.mac, device) for device in await store.listDevices()]
    targets, skipped = [], []
    for mac, device in devices:
        lines = await store.getLines(mac) if device is not None else ()
        found = _target(registry, mac, device, lines)
        if isinstance(found, str):
            skipped.append((mac, found))
        else:
            targets.append(found)
    return ResyncPlan(what, tuple(targets), tuple(skipped))


@dataclass
class _Run:
    store: object
    reactor: object
    rate: float
    concurrency: int
    push: Callable
    onSend: Callable | None
    onDone: Callable | None
    results: list[ResyncResult] = field(default_factory=list)


async def runResync(store, reactor, actor: str, plan: ResyncPlan, rate: float = DEFAULT_RATE,
                    onSend=None, onDone=None, push=None,
                    concurrency: int = DEFAULT_CONCURRENCY) -> list[ResyncResult]:
    """
    NOTIFY the plan's targets, at most C{rate} starting per second.

    @param actor: who pushes (C{cli}, C{operator:<name>}, C{token:<name>}),
        named by the audit event written first.
    @param onSend: called as C{onSend(target, sends)} after each send of a
        NOTIFY (the first and every retransmission).
    @param onDone: called with each L{ResyncResult} as it is known.
    @param push: C{push(reactor, address, event, onSend=..., credentials=...)}
        returning a Deferred outcome; default L{snomprov.push.pushResync}.
    @return: the results, in the order they ended.
    """
    rate = checkRate(rate)
    summary = f"{len(plan.targets)} queued at {rate:g}/s, {len(plan.skipped)} skipped"
    await store.addEvents([auditEvent(reactor.seconds(), actor, plan.what, summary,
                                      mac=plan.what[len("device:"):] if plan.what.startswith("device:") else None)])
    run = _Run(store, reactor, rate, concurrency, push or _push.pushResync, onSend, onDone)
    semaphore = defer.DeferredSemaphore(concurrency)
    pending = []
    for index, target in enumerate(plan.targets):
        if index:
            await task.deferLater(reactor, 1.0 / rate, lambda: None)
        await semaphore.acquire()
        d = defer.ensureDeferred(_pushOne(run, target))
        d.addBoth(lambda result: (semaphore.release(), result)[1])
        pending.append(d)
    await defer.DeferredList(pending, consumeErrors=True)
    return run.results


async def _pushOne(run: _Run, target: ResyncTarget) -> None:
    sent = None
    if run.onSend is not None:
        onSend = run.onSend

        def sent(sends: int) -> None:
            onSend(target, sends)

    try:
        outcome = await run.push(run.reactor, target.address, target.event, onSend=sent,
                                 credentials=target.credentials)
    except Exception as e:
        outcome = f"failed: {e.__class__.__name__}: {e}"
    result = ResyncResult(target, outcome)
    run.results.append(result)
    try:
        await run.store.addEvents([Event(run.reactor.seconds(), target.mac, "resync-sent",
                                         f"{target.address[0]}:{target.address[1]} {target.event}: {outcome}")])
    except Exception:
        _log.failure("Could not record the resync of {mac}", mac=target.mac)
    if run.onDone is not None:
        run.onDone(result)


async def resyncDevices(store, registry, reactor, actor: str, macs=None, stale: bool = False,
                        all: bool = False, rate: float = DEFAULT_RATE, onSend=None, onDone=None,
                        push=None, concurrency: int = DEFAULT_CONCURRENCY):
    """
    L{planResync} then L{runResync}.

    @return: C{(plan, results)}.
    @raise Refused: as L{planResync} and L{checkRate} do, before anything
        is sent.
    """
    rate = checkRate(rate)
    plan = await planResync(store, registry, macs, stale, all)
    results = await runResync(store, reactor, actor, plan, rate, onSend, onDone, push, concurrency)
    return plan, results
