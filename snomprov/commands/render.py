"""
C{snomprov render MAC [NAME]}: what the phone would receive, through
L{snomprov.operations.render}.  A NAME the device does not have is exit 2,
the line naming the files it has.
"""

from __future__ import annotations

import os

from .base import command
from ..operations import render as operations
from ._run import macArgument, runOperation


def arguments(parser) -> None:
    parser.add_argument("mac")
    parser.add_argument("name", nargs="?", help="the file name as the phone asks for it "
                                               "(default: the device's main file)")
    parser.add_argument("--user-agent", help="render as for this User-Agent (firmware checks)")


@command("render", "print the file a phone would receive")
def render(args, config, registry, out) -> int:
    mac = macArgument(args.mac)

    async def work(reactor, store):
        return await operations.renderFile(store, registry, config, mac, args.name, args.user_agent)

    name, rendered = runOperation(config, work)
    if rendered.path:
        out.write(f"{name}: the file {rendered.path} ({os.path.getsize(rendered.path)} bytes)\n")
        return 0
    out.write(rendered.content.decode("utf-8", errors="replace"))
    return 0


render.arguments = arguments
