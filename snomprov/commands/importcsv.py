"""
C{snomprov import FILE.csv}: register devices and their lines, all or
nothing, through L{snomprov.operations.imports}.
"""

from __future__ import annotations

from .base import UsageProblem, command
from ..audit import CLI
from ..operations import imports
from ..operations.errors import Refused
from ._run import runWithStore


def arguments(parser) -> None:
    parser.add_argument("file", help="CSV: mac,vendor,model,line,user,password,display_name,registrar"
                                     "[,auth_user,outbound_proxy]")


def _problems(filename: str, e: Refused) -> UsageProblem:
    if not e.problems:
        return UsageProblem(str(e))
    return UsageProblem(*(f"{filename}:{'' if p.line is None else f' line {p.line}:'} {p.message}"
                          for p in e.problems))


@command("import", "register devices and lines from a CSV file (all or nothing)")
def importCSV(args, config, registry, out) -> int:
    try:
        with open(args.file, "rb") as f:
            data = f.read(imports.MAX_CSV + 1)
    except OSError as e:
        raise UsageProblem(f"{args.file}: cannot read: {e.strerror}")
    try:
        text = imports.decodeCSV(data, args.file)
    except Refused as e:
        raise UsageProblem(str(e)) from None

    async def work(reactor, store):
        return await imports.importCSV(store, registry, CLI, reactor.seconds(), text, args.file)

    try:
        imported = runWithStore(config, work)
    except Refused as e:
        raise _problems(args.file, e) from None
    out.write(f"imported {imported.devices} devices with {imported.lines} lines from {args.file}\n")
    for mac, index, password in imported.generated:
        # Shown this once: the store keeps it only in the line.
        out.write(f"{mac} line {index}: generated password {password}\n")
    return 0


importCSV.arguments = arguments
