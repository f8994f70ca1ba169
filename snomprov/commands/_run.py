"""
Helpers for commands that talk to the store: run a coroutine under the
reactor, with the store open.
"""

from __future__ import annotations

from twisted.internet import defer, task

from ..store import NoSuchStore, openStore
from ..operations.errors import Refused
from .base import UsageProblem


def runWithStore(config, work):
    """
    Open the configured store, run C{await work(reactor, store)}, close it.
    A store that does not exist is not created (the daemon creates its
    store): that is a L{snomprov.commands.base.UsageProblem} naming the store looked
    for and how to name another.

    @return: what C{work} returned; exceptions propagate.
    """
    outcome: list = []

    async def main(reactor):
        try:
            store = await openStore(config.storeURL, config.server.dataDir, reactor=reactor, create=False)
        except BaseException as e:  # handed back to the caller below
            outcome.append(("error", _missingStore(config, e) if isinstance(e, NoSuchStore) else e))
            return
        try:
            outcome.append(("ok", await work(reactor, store)))
        except BaseException as e:  # handed back to the caller below
            outcome.append(("error", e))
        finally:
            await store.close()

    try:
        task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
    except SystemExit as e:
        if e.code not in (0, None):
            raise
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value


def _missingStore(config, missing: NoSuchStore):
    from ..configpath import ENVIRONMENT_VARIABLE

    return UsageProblem(
        f"no store at {missing.location} (configuration: {config.source}); "
        f"start the daemon once to create it, or name the daemon's configuration "
        f"with --config FILE or {ENVIRONMENT_VARIABLE}=FILE"
    )


def macArgument(text: str) -> str:
    """
    A MAC given on the command line, normalised.

    @raise UsageProblem: naming the bad value.
    """
    from ..device import InvalidMAC, parseMAC

    try:
        return parseMAC(text)
    except InvalidMAC as e:
        raise UsageProblem(str(e)) from None


def runOperation(config, work):
    """
    L{runWithStore}, a refusal of an operation
    (L{snomprov.operations.errors.Refused}) being a
    L{snomprov.commands.base.UsageProblem}: one line, exit 2.
    """

    try:
        return runWithStore(config, work)
    except Refused as e:
        raise UsageProblem(str(e)) from None
