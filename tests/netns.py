"""
Network namespaces for tests that need real networking without touching the
host's: two namespaces joined by a veth pair, with addresses in a private
/24 that exists only inside them.

Use L{netnsPair} as a context manager, or L{pairFixture} to make a pytest
fixture that skips (with L{netnsAvailable}'s reason) where namespaces cannot
be made::

    pair = pairFixture("snp-tftp")

    @pytest.mark.netns
    def test_something(pair):
        server = pair.runIn(pair.nsA, ["python3", "-c", "..."])
        ...

Names are unique per process and pair (pid and a counter), interface names
fit Linux's 15 characters, and teardown (processes in the namespaces first,
then the namespaces, which takes their veth ends with them) runs on leaving
the context, on an exception, and at interpreter exit.

Teardown does not rely on C{ip netns pids} alone: a process just started
with C{ip netns exec} may not have entered its namespace yet when that lists
the namespace's processes.  So L{runIn} starts each command in a process
group of its own and remembers it; teardown signals those groups and waits
for them first, then kills whatever C{ip netns pids} still lists (processes
that left the group, such as daemons), looking again until nothing is left.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import os
import shutil
import signal
import subprocess
import time
from typing import Iterator, NamedTuple, Sequence

import pytest

__all__ = [
    "NetnsPair",
    "cleanup",
    "netnsAvailable",
    "netnsPair",
    "pairFixture",
    "runIn",
]

_counter = itertools.count(1)
_live: set[str] = set()
_started: dict[str, list[subprocess.Popen]] = {}

_GRACE = 3.0
"""
Seconds a process has to exit after SIGTERM before it gets SIGKILL.
"""

_DEADLINE = 15.0
"""
Seconds teardown keeps looking for processes left in a namespace.
"""


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    """
    Run C{ip ARGS}, raising with its error output if it fails.
    """
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


@functools.cache
def netnsAvailable() -> tuple[bool, str]:
    """
    Whether this process can create network namespaces: it must be root,
    C{ip} must exist and C{ip netns add} must work (checked by creating and
    deleting a throwaway namespace).  The answer is cached.

    @return: C{(True, "")} or C{(False, reason)} for C{pytest.skip}.
    """
    if os.geteuid() != 0:
        return False, "network namespaces need root"
    if shutil.which("ip") is None:
        return False, "no 'ip' command (install iproute2)"
    probe = f"snp-probe-{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except RuntimeError as e:
        return False, f"cannot create a network namespace: {e}"
    cleanup(probe)
    return True, ""


def runIn(ns: str, argv: Sequence[str], **popenKwargs: object) -> subprocess.Popen:
    """
    Start C{argv} inside namespace C{ns} (C{ip netns exec}), in a new
    session (so a process group) of its own unless C{popenKwargs} say
    otherwise.

    @param popenKwargs: passed to L{subprocess.Popen}.
    @return: the L{subprocess.Popen}; it, its process group and any other
        process still running in C{ns} are killed when the namespace is
        torn down, whether or not it had entered the namespace yet.
    """
    popenKwargs.setdefault("start_new_session", True)
    process = subprocess.Popen(["ip", "netns", "exec", ns, *argv], **popenKwargs)  # type: ignore[call-overload]
    _started.setdefault(ns, []).append(process)
    return process


def _pidsIn(ns: str) -> list[int]:
    """
    The processes running in namespace C{ns}.
    """
    result = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
    return [int(pid) for pid in result.stdout.split()]


def _signalStarted(process: subprocess.Popen, sig: int) -> None:
    """
    Send C{sig} to a process L{runIn} started: to its whole process group
    when it leads one, else to it alone.
    """
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)


def _stopStarted(processes: list[subprocess.Popen]) -> None:
    """
    End the processes L{runIn} started, with their groups, and reap them:
    SIGTERM, then SIGKILL for those still running after L{_GRACE} seconds.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for process in processes:
            _signalStarted(process, sig)
        deadline = time.monotonic() + _GRACE
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        if all(process.poll() is not None for process in processes):
            return


def _killRemaining(ns: str) -> None:
    """
    Kill what C{ip netns pids} lists in C{ns} until it lists nothing (or
    L{_DEADLINE} passes): SIGTERM first, SIGKILL to what is still there
    L{_GRACE} seconds later.
    """
    deadline = time.monotonic() + _DEADLINE
    termSent: dict[int, float] = {}
    while (pids := _pidsIn(ns)) and time.monotonic() < deadline:
        now = time.monotonic()
        for pid in pids:
            sig = signal.SIGKILL if now - termSent.setdefault(pid, now) >= _GRACE else signal.SIGTERM
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(0.05)


def cleanup(*namespaces: str) -> None:
    """
    Tear namespaces down: end the processes L{runIn} started in them (and
    their process groups), then any other process still in them (SIGTERM,
    then SIGKILL after L{_GRACE} seconds), then delete them.  Namespaces
    already gone are ignored, so this is safe to call twice.
    """
    for ns in namespaces:
        _stopStarted(_started.pop(ns, []))
        _killRemaining(ns)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        _live.discard(ns)


@atexit.register
def _cleanupAtExit() -> None:
    """
    Last resort: namespaces a crashed test left behind.
    """
    cleanup(*sorted(_live))


class NetnsPair(NamedTuple):
    """
    Two namespaces joined by a veth pair.

    @ivar nsA: the first namespace's name (the "server" side by convention).
    @ivar nsB: the second namespace's name.
    @ivar addrA: C{nsA}'s address on the veth (C{.1} of the /24).
    @ivar addrB: C{nsB}'s address on the veth (C{.2} of the /24).
    @ivar ifA: the veth end in C{nsA}.
    @ivar ifB: the veth end in C{nsB}.
    """

    nsA: str
    nsB: str
    addrA: str
    addrB: str
    ifA: str
    ifB: str

    def runIn(self, ns: str, argv: Sequence[str], **popenKwargs: object) -> subprocess.Popen:
        """
        L{runIn}, as a method for convenience.
        """
        return runIn(ns, argv, **popenKwargs)


@contextlib.contextmanager
def netnsPair(
    prefix: str = "snp",
    subnet: str = "10.99.0",
    macA: str | None = None,
    macB: str | None = None,
) -> Iterator[NetnsPair]:
    """
    Create two namespaces joined by a veth pair, and tear them down on exit.

    Inside each: loopback up, the veth end up with C{<subnet>.1/24} (A) or
    C{<subnet>.2/24} (B), and a route for 224.0.0.0/4 through the veth so
    that multicast works.

    @param prefix: start of the namespace names
        (C{<prefix>-<pid>-<n>-a} and C{-b}).
    @param subnet: the first three octets of the private /24; it exists only
        inside the two namespaces.
    @param macA: hardware address to give C{ifA}, or C{None}.
    @param macB: hardware address to give C{ifB} (pretend to be a phone), or
        C{None}.
    @raise RuntimeError: if an C{ip} command fails (after tearing down what
        was made).
    """
    n = next(_counter)
    pid = os.getpid()
    pair = NetnsPair(
        nsA=f"{prefix}-{pid}-{n}-a",
        nsB=f"{prefix}-{pid}-{n}-b",
        addrA=f"{subnet}.1",
        addrB=f"{subnet}.2",
        ifA=f"sv{pid}-{n}a",
        ifB=f"sv{pid}-{n}b",
    )
    try:
        for ns in (pair.nsA, pair.nsB):
            _live.add(ns)
            _ip("netns", "add", ns)
        _ip("link", "add", pair.ifA, "netns", pair.nsA, "type", "veth",
            "peer", "name", pair.ifB, "netns", pair.nsB)
        for ns, iface, addr, mac in (
            (pair.nsA, pair.ifA, pair.addrA, macA),
            (pair.nsB, pair.ifB, pair.addrB, macB),
        ):
            _ip("-n", ns, "link", "set", "lo", "up")
            if mac is not None:
                _ip("-n", ns, "link", "set", iface, "address", mac)
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", iface)
            _ip("-n", ns, "link", "set", iface, "up")
            _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", iface)
        yield pair
    finally:
        cleanup(pair.nsA, pair.nsB)


def pairFixture(prefix: str, **pairKwargs: str):  # type: ignore[no-untyped-def]
    """
    Make a pytest fixture that yields a L{NetnsPair} (see L{netnsPair} for
    C{pairKwargs}), or skips the test with the reason namespaces are not
    available.
    """

    @pytest.fixture
    def fixture() -> Iterator[NetnsPair]:
        available, reason = netnsAvailable()
        if not available:
            pytest.skip(reason)
        with netnsPair(prefix, **pairKwargs) as pair:
            yield pair

    return fixture
