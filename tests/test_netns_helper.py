"""
Tests for L{tests.netns}: the namespace pair really carries unicast and
multicast UDP between its two sides, and leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from tests.netns import netnsAvailable, netnsPair, pairFixture

pair = pairFixture("snp-nstest")

_RECEIVE = """
import socket, struct, sys
group, bind, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((group or bind, port))
if group:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 socket.inet_aton(group) + socket.inet_aton(bind))
s.settimeout(10)
print("ready", flush=True)
data, peer = s.recvfrom(100)
print(data.decode(), peer[0], flush=True)
"""

_SEND = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for _ in range(20):
    s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.1)
"""


def _exchange(pair, destination: str, group: str) -> str:
    """
    Receive one datagram in C{pair.nsA} (bound to C{group} if given) sent
    from C{pair.nsB} to C{destination}; return what the receiver printed.
    """
    receiver = pair.runIn(
        pair.nsA,
        [sys.executable, "-c", _RECEIVE, group, pair.addrA, "7654"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert receiver.stdout.readline().strip() == "ready"
    sender = pair.runIn(pair.nsB, [sys.executable, "-c", _SEND, destination, "7654", "hello"])
    try:
        out, _ = receiver.communicate(timeout=15)
    finally:
        sender.kill()
        sender.wait()
    return out.strip()


@pytest.mark.netns
def test_unicastUDP(pair):
    """
    A datagram sent from namespace B to A's address arrives in A with B's
    address as its source.
    """
    assert _exchange(pair, pair.addrA, "") == f"hello {pair.addrB}"


@pytest.mark.netns
def test_multicastUDP(pair):
    """
    A datagram sent from B to a multicast group reaches a socket in A that
    joined the group on its veth address (the 224.0.0.0/4 route works).
    """
    assert _exchange(pair, "239.255.0.75", "239.255.0.75") == f"hello {pair.addrB}"


@pytest.mark.netns
def test_isolatedFromHost(pair):
    """
    The private addresses exist only inside the pair: the host's own network
    namespace has no route through the veth and no such address.
    """
    hostAddresses = subprocess.run(
        ["ip", "-o", "addr"], capture_output=True, text=True, check=True
    ).stdout
    assert pair.addrA + "/" not in hostAddresses
    assert pair.ifA not in hostAddresses


@pytest.mark.netns
def test_teardown():
    """
    Leaving the context deletes both namespaces, also when the body raised,
    and kills a process still running in one of them.
    """
    available, reason = netnsAvailable()
    if not available:
        pytest.skip(reason)
    with pytest.raises(ZeroDivisionError):
        with netnsPair("snp-nstest") as made:
            sleeper = made.runIn(made.nsA, ["sleep", "60"])
            1 / 0
    assert sleeper.wait(timeout=5) < 0
    listed = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=True
    ).stdout
    assert made.nsA not in listed
    assert made.nsB not in listed


def _gone(pid: int) -> bool:
    """
    Whether process C{pid} has ended (exited, or a zombie waiting for a
    parent that is not us to reap it).
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.netns
def test_teardownBeforeEnteringNamespace(tmp_path, monkeypatch):
    """
    A process torn down before C{ip netns exec} has entered the namespace
    (made certain here by an C{ip} on C{PATH} that waits half a second
    before an C{exec}) is killed all the same.
    """
    available, reason = netnsAvailable()
    if not available:
        pytest.skip(reason)
    slowIP = tmp_path / "ip"
    slowIP.write_text(
        f'#!/bin/sh\n[ "$1" = netns ] && [ "$2" = exec ] && sleep 0.5\nexec {shutil.which("ip")} "$@"\n'
    )
    slowIP.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with netnsPair("snp-nstest") as made:
        sleeper = made.runIn(made.nsB, ["sleep", "60"])
    assert sleeper.poll() is not None and sleeper.returncode < 0


@pytest.mark.netns
def test_teardownKillsEscapedAndStubborn():
    """
    Teardown also kills a process that left its starter's process group
    (a daemon, here through C{setsid}) and one that ignores SIGTERM.
    """
    available, reason = netnsAvailable()
    if not available:
        pytest.skip(reason)
    daemon = "import os, time; os.setsid(); print(os.getpid(), flush=True); time.sleep(60)"
    script = f"trap '' TERM; {sys.executable} -c '{daemon}' & while :; do sleep 0.1; done"
    with netnsPair("snp-nstest") as made:
        starter = made.runIn(made.nsA, ["sh", "-c", script], stdout=subprocess.PIPE, text=True)
        escaped = int(starter.stdout.readline())
        assert os.getsid(escaped) == escaped != os.getsid(starter.pid)
    starter.stdout.close()
    assert starter.returncode == -signal.SIGKILL
    assert _gone(escaped)
