"""
C{snomprov user add NAME [--role admin|operator|viewer] [--password-file F]},
C{user list}, C{user remove NAME}: the operators who log in to the pages
and the API (L{snomprov.operations.accounts}).

C{user add} reads the password from C{--password-file} (its first line),
else prompts for it twice when standard input is a terminal, else reads
one line from standard input.  The first user is always an admin.
"""

from __future__ import annotations

import getpass
import sys

from ..audit import CLI
from .base import UsageProblem, command
from ..operations import accounts
from ..operations.errors import Refused
from ._run import runOperation
from ._table import formatAccounts

MAX_PASSWORD_FILE = 4096


def arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add an operator (the first one is an admin)")
    add.add_argument("name")
    add.add_argument("--role", default="operator", help="admin, operator (the default) or viewer")
    add.add_argument("--password-file", metavar="F",
                     help="read the password from the first line of F (else prompted, or one line "
                          "of standard input when it is not a terminal)")
    sub.add_parser("list", help="list the operators and their roles")
    remove = sub.add_parser("remove", help="remove an operator (not the last admin)")
    remove.add_argument("name")


def readPassword(name: str, passwordFile: str | None, stdin) -> str:
    """
    The password for a new user: the first line of C{passwordFile}, else
    prompted twice with C{getpass} when C{stdin} is a terminal, else one
    line of C{stdin}.  The line's end is not part of it.

    @raise UsageProblem: for a file that cannot be read, two prompts that
        differ, or an empty password.
    """
    if passwordFile is not None:
        try:
            with open(passwordFile, encoding="utf-8") as f:
                text = f.read(MAX_PASSWORD_FILE)
        except (OSError, UnicodeDecodeError) as e:
            raise UsageProblem(f"{passwordFile}: cannot read: {getattr(e, 'strerror', None) or e}")
        password = text.split("\n", 1)[0].rstrip("\r")
    elif stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("The same again: ") != password:
            raise UsageProblem(f"user {name}: the two passwords differ")
    else:
        password = stdin.readline().rstrip("\n").rstrip("\r")
    if not password:
        raise UsageProblem(f"user {name}: the password is empty")
    return password


@command("user", "manage the operators who log in to the pages and the API")
def user(args, config, registry, out) -> int:
    if args.action == "add":
        try:
            accounts.checkNewOperator(args.name, args.role)
        except Refused as e:
            raise UsageProblem(str(e)) from None

        async def work(reactor, store):
            return await accounts.addOperator(
                store, CLI, reactor.seconds(), args.name,
                lambda: readPassword(args.name, args.password_file, sys.stdin), args.role)

        added = runOperation(config, work)
        operator = added.operator
        if added.forcedAdmin:
            out.write(f"added user {operator.name} as admin, not {args.role}: "
                      "the first user is always an admin\n")
        else:
            out.write(f"added user {operator.name} ({operator.role})\n")
    elif args.action == "list":
        async def work(reactor, store):
            return await accounts.listOperators(store)

        out.write(formatAccounts(runOperation(config, work), "ADDED"))
    else:
        async def work(reactor, store):
            return await accounts.removeOperator(store, CLI, reactor.seconds(), args.name)

        removed = runOperation(config, work)
        out.write(f"removed user {removed.name} ({removed.role})\n")
    return 0


user.arguments = arguments
