"""
Plug-and-play over real multicast: the daemon runs in one network
namespace, a phone in another, joined by a veth pair (C{tests/netns.py}).
The phone multicasts a real snom SUBSCRIBE (C{tests/fixtures/sip}) to
224.0.1.75 and must get the 200 and the NOTIFY unicast from the daemon
(DESIGN.md S{1.1} steps 1-3).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from daemon import Daemon
from netns import pairFixture

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "sip", "snom-OEM-7.1.19-1.sip")

GROUP = "224.0.1.75"

PHONE_PORT = 5060

# The phone: multicast the SUBSCRIBE from its address, print (as JSON
# lines) what comes back within 5 s, answer the NOTIFY with 200 and stop.
PHONE = r"""
import json, socket, sys, time
address, group, port, path, phonePort = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
data = open(path, "rb").read().replace(b"192.168.10.67:5060", f"{address}:{phonePort}".encode())
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((address, phonePort))
sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
sock.sendto(data, (group, port))
deadline = time.monotonic() + 5
while time.monotonic() < deadline:
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        reply, source = sock.recvfrom(65535)
    except socket.timeout:
        break
    text = reply.decode("utf-8", "replace")
    print(json.dumps({"source": list(source), "text": text}), flush=True)
    if text.startswith("NOTIFY "):
        head = text.split("\r\n\r\n", 1)[0].split("\r\n")
        keep = [line for line in head[1:] if line.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
        sock.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(), source)
        break
"""

pair = pairFixture("snp-pnp")


def phoneExchange(pair, sipPort: int) -> list[dict]:
    """
    Run the phone in C{pair.nsB} against C{sipPort}; what it received, in
    order, as C{{"source": [ip, port], "text": ...}}.
    """
    phone = pair.runIn(pair.nsB, [sys.executable, "-c", PHONE, pair.addrB, GROUP, str(sipPort), FIXTURE,
                                  str(PHONE_PORT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = phone.communicate(timeout=30)
    assert phone.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def body(text: str) -> str:
    """
    The body of a SIP message's text.
    """
    return text.split("\r\n\r\n", 1)[1]


@pytest.mark.netns
def test_multicastSubscribeAnswered(pair, tmp_path):
    """
    A SUBSCRIBE multicast from another host's address gets the 200 and then
    the NOTIFY with the snom settings URL, unicast from the daemon's address
    to the phone's.
    """
    daemon = Daemon(tmp_path, tftp=False, host=pair.addrA, netns=pair.nsA,
                    sipConfig=f'interfaces = ["{pair.addrA}"]\n')
    daemon.start()
    try:
        received = phoneExchange(pair, daemon.sipPort)
    finally:
        daemon.stop()
    assert [r["text"].split("\r\n", 1)[0] for r in received] == [
        "SIP/2.0 200 OK", f"NOTIFY sip:{pair.addrB}:{PHONE_PORT} SIP/2.0"], daemon.log()
    assert {tuple(r["source"]) for r in received} == {(pair.addrA, daemon.sipPort)}
    assert body(received[1]["text"]).partition("?token=t")[0] == f"{daemon.baseURL}/snom/00135E874B49.xml"
    assert f"Via: SIP/2.0/UDP {pair.addrA}:{daemon.sipPort};branch=z9hG4bK" in received[1]["text"]


@pytest.mark.netns
def test_noJoinNoAnswer(pair, tmp_path):
    """
    The multicast test can fail: a daemon that joins the group on another
    interface (its loopback) gets nothing, so the phone hears nothing.
    """
    daemon = Daemon(tmp_path, tftp=False, host=pair.addrA, netns=pair.nsA,
                    sipConfig='interfaces = ["127.0.0.1"]\n')
    daemon.start()
    try:
        received = phoneExchange(pair, daemon.sipPort)
    finally:
        daemon.stop()
    assert received == []
