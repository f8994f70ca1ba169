"""
C{snomprov import FILE.csv}: register devices and their lines, all or
nothing.
"""

from __future__ import annotations

from .base import UsageProblem, command
from ..csvimport import CSVImportError, parseDeviceCSV
from ._run import runWithStore


def arguments(parser) -> None:
    parser.add_argument("file", help="CSV: mac,vendor,model,line,user,password,display_name,registrar"
                                     "[,auth_user,outbound_proxy]")


@command("import", "register devices and lines from a CSV file (all or nothing)")
def importCSV(args, config, registry, out) -> int:
    try:
        with open(args.file, "rb") as f:
            text = f.read().decode("utf-8-sig")
    except OSError as e:
        raise UsageProblem(f"{args.file}: cannot read: {e.strerror}")
    except UnicodeDecodeError as e:
        raise UsageProblem(f"{args.file}: not UTF-8 text ({e.reason} at byte {e.start})")
    try:
        plan = parseDeviceCSV(text, registry.names, filename=args.file)
    except CSVImportError as e:
        raise UsageProblem(*e.errors)

    async def work(reactor, store):
        await store.applyImport(plan.devices, plan.lines)

    runWithStore(config, work)
    lines = sum(len(v) for v in plan.lines.values())
    out.write(f"imported {len(plan.devices)} devices with {lines} lines from {args.file}\n")
    return 0


importCSV.arguments = arguments
