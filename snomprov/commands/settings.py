"""
C{snomprov settings upload --scope SCOPE FILE}: a snom settings XML file
into a settings layer (the operators' "Browse / Load").
"""

from __future__ import annotations

from .base import UsageProblem, command
from ..device import InvalidScope, parseScope
from ..vendors.snomxml import SettingsXMLError, parseSettingsXML
from ._run import runWithStore

MAX_UPLOAD = 1_048_576


def arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    upload = sub.add_parser("upload", help="replace a scope's layer with a settings XML file")
    upload.add_argument("--scope", required=True, help="site, vendor:NAME, model:NAME or device:MAC")
    upload.add_argument("file")


@command("settings", "manage settings layers")
def settings(args, config, registry, out) -> int:
    try:
        scope = parseScope(args.scope)
    except InvalidScope as e:
        raise UsageProblem(f"--scope: {e}")
    try:
        with open(args.file, "rb") as f:
            data = f.read(MAX_UPLOAD + 1)
    except OSError as e:
        raise UsageProblem(f"{args.file}: cannot read: {e.strerror}")
    try:
        layer = parseSettingsXML(data, scope, maxSize=MAX_UPLOAD)
    except SettingsXMLError as e:
        raise UsageProblem(f"{args.file}: {e}")

    async def work(reactor, store):
        await store.putLayer(layer)

    runWithStore(config, work)
    documents = f" and {', '.join(sorted(layer.documents))}" if layer.documents else ""
    out.write(f"{scope}: {len(layer.settings)} settings{documents} from {args.file}\n")
    return 0


settings.arguments = arguments
