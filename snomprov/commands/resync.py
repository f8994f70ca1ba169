"""
C{snomprov resync MAC | --stale | --all [--rate N]}: make phones re-sync
now, printing each send of a NOTIFY as it happens, then its outcome.  The
work is L{snomprov.operations.resync}'s, with the actor C{cli}.
"""

from __future__ import annotations

from .base import UsageProblem, command
from ..audit import CLI
from ..operations.resync import DEFAULT_RATE, checkRate, planResync, runResync
from ..sip.transaction import T1
from ._run import macArgument, runOperation


def arguments(parser) -> None:
    parser.add_argument("mac", nargs="?", help="the phone to push")
    # One of MAC, --stale and --all: checked by the command, in one line.
    parser.add_argument("--stale", action="store_true",
                        help="every phone whose fetched settings are older than its current ones")
    parser.add_argument("--all", action="store_true", help="every phone with a known address")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE,
                        help=f"at most this many NOTIFYs per second (default {DEFAULT_RATE:g})")


@command("resync", "send phones a re-sync NOTIFY at their last known SIP address")
def resync(args, config, registry, out) -> int:
    if (args.mac is not None) + args.stale + args.all != 1:
        raise UsageProblem("resync: name one MAC, or --stale, or --all")
    macs = None if args.mac is None else [macArgument(args.mac)]

    async def work(reactor, store):
        started: dict[str, float] = {}

        def sent(target, sends: int) -> None:
            now = reactor.seconds()
            first = started.setdefault(target.mac, now)
            out.write(sendLine(target.mac, target.address, target.event, sends, now - first) + "\n")
            out.flush()

        def done(result) -> None:
            address = result.target.address
            out.write(f"{result.target.mac}: NOTIFY to {address[0]}:{address[1]}: {result.outcome}\n")
            out.flush()

        rate = checkRate(args.rate)
        plan = await planResync(store, registry, macs, args.stale, args.all)
        if macs is not None and plan.skipped:
            mac, reason = plan.skipped[0]
            raise UsageProblem(f"{mac}: {reason}")
        results = await runResync(store, reactor, CLI, plan, rate, onSend=sent, onDone=done)
        return plan, results

    plan, results = runOperation(config, work)
    for mac, reason in plan.skipped:
        out.write(f"{mac}: skipped: {reason}\n")
    if macs is None and not plan.targets:
        out.write("no phones to push\n")
    return 0 if all(result.outcome == "acked" for result in results) else 1


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
