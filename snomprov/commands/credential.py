"""
C{snomprov credential rotate MAC}: give a phone a new provisioning
credential, so that the URLs it (or anyone) kept stop proving anything.
The work is L{snomprov.operations.credentials}'s, with the actor C{cli}.
"""

from __future__ import annotations

from ..audit import CLI
from ..operations.credentials import rotateCredential
from ._run import macArgument, runOperation
from .base import command


def arguments(parser) -> None:
    parser.add_argument("action", choices=["rotate"], help="rotate: make a new credential")
    parser.add_argument("mac", help="the phone")


@command("credential", "rotate a phone's provisioning credential (the token its kept URLs carry)")
def credential(args, config, registry, out) -> int:
    mac = macArgument(args.mac)

    async def work(reactor, store):
        await rotateCredential(store, CLI, reactor.seconds(), mac)

    runOperation(config, work)
    out.write(f"{mac}: credential rotated; the phone gets the new one with its next file fetched with a proof\n")
    return 0


credential.arguments = arguments
