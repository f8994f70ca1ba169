# -*- test-case-name: tests.test_pbx_asterisk -*-
"""
The C{asterisk-pjsip} account sink (DESIGN §8): an include file of
C{endpoint} / C{auth} / C{aor} sections (L{snomprov.pbx.pjsipfile}), one set
per line, then the optional C{reload} command.

The sink's state is its file: each C{apply} reads back what is there,
updates that map and writes the whole file again, to a temporary
file in the same directory that is flushed, synced and renamed over the
old one (a reader sees the old file or the new one, never a part).  The
C{reload} command is an argument list run without a shell, with a time
limit; a reload that fails or times out fails the C{apply}, which the
sync retries.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Sequence

from twisted.internet import defer, error, protocol
from twisted.logger import Logger
from zope.interface import implementer

from snomprov.interfaces import IAccountSink
from snomprov.pbx.account import SIPAccount
from snomprov.pbx.pjsipfile import formatAccounts, parseAccounts

__all__ = ["AsteriskPJSIPSink", "ReloadFailed", "writeAtomically", "RELOAD_TIMEOUT"]

RELOAD_TIMEOUT = 30.0

_log = Logger()


class ReloadFailed(Exception):
    """
    The C{reload} command failed, or did not end in time.
    """


def writeAtomically(path: str, text: str) -> None:
    """
    Replace the file C{path} with C{text}: written to a temporary file in
    the same directory, flushed and synced, then renamed over C{path} (and
    the directory synced).  The file keeps mode 0640.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o640)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    try:
        dirfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dirfd)
    except OSError:
        pass
    finally:
        os.close(dirfd)


class _Reload(protocol.ProcessProtocol):
    def __init__(self) -> None:
        self.ended: defer.Deferred = defer.Deferred()
        self.output = b""

    def outReceived(self, data: bytes) -> None:
        self.output = (self.output + data)[-2000:]

    errReceived = outReceived

    def processEnded(self, reason) -> None:
        self.ended.callback(reason.value)


@implementer(IAccountSink)
class AsteriskPJSIPSink:
    """
    An include file for Asterisk's C{res_pjsip}.
    """

    kind = "asterisk-pjsip"

    def __init__(self, name: str, path: str, reload: Sequence[str] = (), domain: str = "", reactor: Any = None,
                 timeout: float = RELOAD_TIMEOUT) -> None:
        """
        @param domain: the realm of every account; empty: each line's registrar.
        """
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        self.name = name
        self.path = path
        self.reload = tuple(reload)
        self.domain = domain
        self._reactor = reactor
        self._timeout = timeout
        self._accounts: dict[str, SIPAccount] = self._read()

    def _read(self) -> dict[str, SIPAccount]:
        try:
            with open(self.path, encoding="utf-8") as f:
                return parseAccounts(f.read())
        except FileNotFoundError:
            return {}

    def apply(self, changes):
        try:
            accounts = self._read()  # the file is the state (pbx sync or a hand may have written it)
            for change in changes:
                if change.previous is not None:
                    accounts.pop(change.previous, None)
                for username in [u for u, a in accounts.items() if (a.mac, a.index) == (change.mac, change.index)]:
                    del accounts[username]
                if change.account is not None:
                    accounts[change.account.username] = change.account
            writeAtomically(self.path, formatAccounts(self.name, accounts.values()))
            self._accounts = accounts
        except OSError as e:
            return defer.fail(OSError(e.errno, f"cannot write {self.path}: {e.strerror}"))
        return self._reloaded()

    def _reloaded(self) -> defer.Deferred:
        if not self.reload:
            return defer.succeed(None)
        process = _Reload()
        try:
            transport = self._reactor.spawnProcess(process, self.reload[0], list(self.reload), env=os.environ.copy())
        except OSError as e:
            return defer.fail(ReloadFailed(f"reload {self.reload[0]!r}: {e}"))

        def timedOut():
            try:
                transport.signalProcess("KILL")
            except error.ProcessExitedAlready:
                pass

        timer = self._reactor.callLater(self._timeout, timedOut)

        def ended(reason):
            if timer.active():
                timer.cancel()
                if isinstance(reason, error.ProcessDone):
                    return None
                detail = process.output.decode("utf-8", "replace").strip().splitlines()
                raise ReloadFailed(f"reload {' '.join(self.reload)!r} failed ({reason}): "
                                   f"{detail[-1] if detail else 'no output'}")
            raise ReloadFailed(f"reload {' '.join(self.reload)!r} did not end within {self._timeout:g} s")

        return process.ended.addCallback(ended)

    def accounts(self):
        """
        What the file holds now (read again: an edit by hand is seen, and
        becomes what the next C{apply} builds on).
        """
        self._accounts = self._read()
        return defer.succeed({(a.username, a.domain): a for a in self._accounts.values()})

    def differs(self, stored, held):
        return (stored.password, stored.user, stored.displayName, stored.mac, stored.index) != (
            held.password, held.user, held.displayName, held.mac, held.index)

    def close(self):
        return defer.succeed(None)
