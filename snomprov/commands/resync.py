"""
C{snomprov resync MAC}: make a phone re-sync now, printing each send of the
NOTIFY as it happens, then its outcome.
"""

from __future__ import annotations

import time

from .base import UsageProblem, command
from ..device import Event
from ..interfaces import IResyncVendor
from ..push import pushResync
from ..sip.transaction import T1
from ._run import macArgument, runWithStore


def arguments(parser) -> None:
    parser.add_argument("mac")


@command("resync", "send a phone a re-sync NOTIFY at its last known SIP address")
def resync(args, config, registry, out) -> int:
    mac = macArgument(args.mac)

    async def work(reactor, store):
        device = await store.getDevice(mac)
        if device is None:
            raise UsageProblem(f"{mac}: no such device")
        vendor = registry.byName(device.vendor) or registry.byMAC(mac)
        if not IResyncVendor.providedBy(vendor):
            raise UsageProblem(f"{mac}: its vendor {device.vendor or 'unknown'} cannot be pushed")
        address = device.sipAddress or ((device.ip, 5060) if device.ip else None)
        if address is None:
            raise UsageProblem(f"{mac}: no known address yet (the phone has not contacted us)")
        started: list[float] = []

        def sent(sends: int) -> None:
            now = reactor.seconds()
            if not started:
                started.append(now)
            out.write(sendLine(mac, address, vendor.resyncEvent, sends, now - started[0]) + "\n")
            out.flush()

        outcome = await pushResync(reactor, address, vendor.resyncEvent, onSend=sent)
        await store.addEvents([Event(time.time(), mac, "resync-sent",
                                     f"{address[0]}:{address[1]} {vendor.resyncEvent}: {outcome}")])
        return address, outcome

    address, outcome = runWithStore(config, work)
    out.write(f"{mac}: NOTIFY to {address[0]}:{address[1]}: {outcome}\n")
    return 0 if outcome == "acked" else 1


def sendLine(mac: str, address: tuple[str, int], event: str, sends: int, elapsed: float) -> str:
    """
    What C{resync} prints when the NOTIFY is sent the C{sends}th time,
    C{elapsed} seconds after the first.
    """
    to = f"{mac}: NOTIFY to {address[0]}:{address[1]}"
    if sends == 1:
        return f"{to} sent (Event: {event}); waiting up to {64 * T1:g} s for an answer"
    return f"{to} sent again (send {sends}, {elapsed:.1f} s): no answer yet"


resync.arguments = arguments
