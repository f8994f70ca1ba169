"""
C{snomprov token add NAME [--role R]}, C{token list}, C{token revoke NAME}:
API tokens (L{snomprov.operations.accounts}).  C{token add} prints the new
token alone on standard output, once: only its hash is kept.
"""

from __future__ import annotations

import sys

from ..audit import CLI
from .base import command
from ..operations import accounts
from ._run import runOperation
from ._table import formatAccounts


def arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="issue a token and print it (once)")
    add.add_argument("name")
    add.add_argument("--role", default="operator", help="admin, operator (the default) or viewer")
    sub.add_parser("list", help="list the tokens and their roles")
    revoke = sub.add_parser("revoke", help="revoke a token")
    revoke.add_argument("name")


@command("token", "manage API tokens")
def token(args, config, registry, out) -> int:
    if args.action == "add":
        async def work(reactor, store):
            return await accounts.addToken(store, CLI, reactor.seconds(), args.name, args.role)

        issued = runOperation(config, work)
        out.write(issued.secret + "\n")
        print(f"issued token {issued.token.name} ({issued.token.role}); it is shown only this once",
              file=sys.stderr)
    elif args.action == "list":
        async def work(reactor, store):
            return await accounts.listTokens(store)

        out.write(formatAccounts(runOperation(config, work), "ISSUED"))
    else:
        async def work(reactor, store):
            await accounts.revokeToken(store, CLI, reactor.seconds(), args.name)

        runOperation(config, work)
        out.write(f"revoked token {args.name}\n")
    return 0


token.arguments = arguments
