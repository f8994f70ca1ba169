"""
C{snomprov settings upload|plan|delete --scope SCOPE [FILE]}: settings
layers through L{snomprov.operations.layers} (the operators' "Browse /
Load").  A FILE is a vendor's settings file (snom settings XML), or the
JSON form of a layer when its name ends in C{.json}.  C{plan} prints how many devices' files would change
and their diffs, changing nothing; passwords are shown (the command line
runs as the store's owner).

C{snomprov settings mark|unmark --scope SCOPE NAME [--idx N]}: mark one setting of
a layer secret, or clear its mark (L{snomprov.operations.layers.markSecret}):
a marked setting never leaves in a file served without the device's proof
and is masked to operators.  Neither prints a value.
"""

from __future__ import annotations

from .base import UsageProblem, command
from ..audit import CLI
from ..operations import layers
from ..operations.errors import Refused
from ._run import runOperation

MAX_UPLOAD = layers.MAX_LAYER


def arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    scope = {"required": True, "help": "site, vendor:NAME, model:NAME or device:MAC"}
    upload = sub.add_parser("upload", help="replace a scope's layer with a settings XML (or .json) file")
    upload.add_argument("--scope", **scope)
    upload.add_argument("file")
    plan = sub.add_parser("plan", help="show which devices' files a new layer would change, and how")
    plan.add_argument("--scope", **scope)
    plan.add_argument("file", nargs="?", help="the new layer (none: plan deleting the layer)")
    delete = sub.add_parser("delete", help="delete a scope's layer")
    delete.add_argument("--scope", **scope)
    for action, what in (("mark", "mark a setting of a scope's layer secret"),
                         ("unmark", "clear a setting's secret mark")):
        marking = sub.add_parser(action, help=what)
        marking.add_argument("--scope", **scope)
        marking.add_argument("name", help="the setting's name")
        marking.add_argument("--idx", type=int, help="the setting's index (default: none)")


def _read(path: str) -> tuple[bytes, str]:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_UPLOAD + 1)
    except OSError as e:
        raise UsageProblem(f"{path}: cannot read: {e.strerror}")
    return data, layers.JSON_TYPE if path.lower().endswith(".json") else "application/xml"


def _refused(path: str | None, e: Refused) -> UsageProblem:
    lines = [f"{path}: {e}" if path else str(e)]
    for problem in e.problems:
        if problem.field:
            lines.append(f"{path}: {problem.field}: {problem.message}")
    return UsageProblem(*lines)


def _scope(text: str, label: str = "--scope") -> str:
    try:
        return layers.checkScope(text)
    except Refused as e:
        raise UsageProblem(f"{label}: {e}") from None


def _mark(args, config, registry, out) -> int:
    scope = _scope(args.scope)
    secret = args.action == "mark"

    async def work(reactor, store):
        return await layers.markSecret(store, registry, CLI, reactor.seconds(), scope, args.name, args.idx,
                                       secret, config=config)

    stored = runOperation(config, work)
    named = args.name if args.idx is None else f"{args.name}[{args.idx}]"
    out.write(f"{stored.scope}: {args.action}ed {named} secret\n")
    return 0


@command("settings", "manage settings layers")
def settings(args, config, registry, out) -> int:
    if args.action in ("mark", "unmark"):
        return _mark(args, config, registry, out)
    scope = _scope(args.scope)
    path = getattr(args, "file", None)
    data, kind = _read(path) if path else (None, None)
    if data is not None:
        try:
            layer = layers.parseLayer(registry, scope, data, kind)
        except Refused as e:
            raise _refused(path, e) from None

    if args.action == "upload":
        async def work(reactor, store):
            return await layers.putLayer(store, registry, CLI, reactor.seconds(), scope, data, kind,
                                         config=config, reveal=True)

        stored, plan = runOperation(config, work)
        documents = f" and {', '.join(sorted(stored.documents))}" if stored.documents else ""
        out.write(f"{scope}: {len(stored.settings)} settings{documents} from {path}; "
                  f"files of {plan.count} devices change\n")
        return 0
    if args.action == "delete":
        async def work(reactor, store):
            return await layers.deleteLayer(store, registry, CLI, reactor.seconds(), scope, config=config,
                                            reveal=True)

        plan = runOperation(config, work)
        out.write(f"{scope}: deleted; files of {plan.count} devices change\n")
        return 0

    async def work(reactor, store):
        return await layers.planLayer(store, registry, config, scope, layer if data is not None else None,
                                      reveal=True)

    plan = runOperation(config, work)
    what = f"replacing {scope} with {path}" if data is not None else f"deleting {scope}"
    out.write(f"{what}: files of {plan.count} of {plan.considered} devices change\n")
    for device in plan.devices:
        for change in device.files:
            out.write(change.diff)
    return 0


settings.arguments = arguments
