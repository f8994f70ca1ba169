"""
C{snomprov pbx sync [--dry-run]}: compare every C{[[pbx]]} sink with the
store's lines, print each difference (C{sink: user@domain: missing |
extra | different}), and without C{--dry-run} re-apply everything.  Exit
0 when in sync or once applied; 1 when C{--dry-run} found differences or
a sink could not be written.  The work is L{snomprov.pbx.reconcile}'s.
"""

from __future__ import annotations

from .base import UsageProblem, command
from ._run import runWithStore


def arguments(parser) -> None:
    parser.add_argument("action", choices=["sync"], help="sync: compare and re-apply every line to every sink")
    parser.add_argument("--dry-run", action="store_true", help="only report the differences")


@command("pbx", "compare the PBX sinks with the lines and re-apply them (pbx sync [--dry-run])")
def pbx(args, config, registry, out) -> int:
    from ..pbx.reconcile import reconcile
    from ..pbx.sync import SinkUnavailable, makeSink

    if not config.pbx:
        out.write("no [[pbx]] tables: nothing to sync\n")
        return 0

    def report(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    async def work(reactor, store):
        try:
            sinks = [makeSink(table, reactor) for table in config.pbx]
        except SinkUnavailable as e:
            raise UsageProblem(str(e)) from None
        try:
            return await reconcile(store, sinks, args.dry_run, report)
        finally:
            for sink in sinks:
                await sink.close()

    found, failed = runWithStore(config, work)
    if not found and not failed:
        out.write("every sink is in sync\n")
    return 1 if failed or (args.dry_run and found) else 0


pbx.arguments = arguments
