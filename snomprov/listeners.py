# -*- test-case-name: tests.test_safestart -*-
"""
L{Listeners}: the daemon's top service, which binds its children's ports
and either logs each listener as bound or, when one cannot be bound (or
the store cannot be opened), ends the daemon with one line naming the key
to change: on standard error with
exit status 2 under C{twistd -n}, through twistd's starting process (which
exits 1) when daemonized.
"""

from __future__ import annotations

import sys

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService, Service
from twisted.internet.error import CannotListenError
from twisted.logger import Logger

from .safestart import cannotListenLine
from .store.service import CannotOpenStore

__all__ = ["CannotStart", "Listeners"]


class CannotStart(Exception):
    """
    A listener could not be bound, in a daemon that has left its terminal:
    twistd hands the message to the process that started it, which prints
    it and exits 1 (a C{SystemExit} would leave that process waiting).
    """


class Listeners(MultiService):
    """
    A C{MultiService} whose children's listeners are described for the
    log, and whose failure to bind one is one line on standard error (the
    terminal, even once twistd sends standard I/O to its log) and
    C{SystemExit(2)}, not a traceback.

    @ivar describe: child name to what it listens for, as configured
        (C{"HTTP tcp:8080"}); a child not named is not a listener.
    @ivar startLines: lines logged once every listener is bound, before
        the listeners.
    @ivar stderr: where the line goes; C{None}: the process's own standard
        error (C{sys.__stderr__}).
    @ivar daemonized: whether twistd runs without C{-n}: then the failure
        is L{CannotStart} instead.
    """

    _log = Logger()

    def __init__(self, describe: dict[str, str], startLines: list[str] = (), stderr=None,
                 daemonized: bool = False) -> None:
        super().__init__()
        self.describe = describe
        self.startLines = list(startLines)
        self.stderr = stderr
        self.daemonized = daemonized

    def privilegedStartService(self) -> None:
        """
        Bind every child's ports, as C{MultiService} does; log what was
        bound.

        @raise SystemExit: with status 2, after writing one line, when a
            port cannot be bound.
        @raise CannotStart: instead, when C{daemonized}.
        """
        Service.privilegedStartService(self)
        for child in self:
            try:
                child.privilegedStartService()
            except CannotListenError as e:
                self._cannotStart(cannotListenLine(child.name, self.describe.get(child.name, child.name), e))
            except CannotOpenStore as e:
                self._cannotStart(str(e))
        for line in self.startLines:
            self._log.info("{line}", line=line)
        for child in self:
            if child.name in self.describe:
                self._log.info("Listening for {what} on {address}",
                               what=self.describe[child.name], address=boundAddress(child))

    def _cannotStart(self, line: str) -> None:
        """
        End the start with C{line}: on standard error and exit status 2, or
        through twistd's starting process when daemonized.
        """
        self._log.error("{line}", line=line)
        if self.daemonized:
            raise CannotStart(line) from None
        print(line, file=self.stderr or sys.__stderr__, flush=True)
        raise SystemExit(2) from None


def boundAddress(service) -> str:
    """
    The address a started listening service is bound to, like C{TCP
    0.0.0.0:8080}; C{"unknown"} when it has no port (yet).
    """
    if isinstance(service, StreamServerEndpointService):
        ports: list = []
        waiting = service._waitingForPort
        if waiting is not None:
            waiting.addCallback(lambda port: ports.append(port) or port)
        port = ports[0] if ports else None
    else:
        port = getattr(service, "_port", None)
    host = getattr(port, "getHost", lambda: None)()
    if host is None or not hasattr(host, "port"):
        return "unknown"
    address = f"[{host.host}]" if ":" in host.host else host.host
    return f"{host.type} {address}:{host.port}"
