"""
A TFTP transfer's log: one line (file, peer, outcome, bytes), its port
silent (L{snomprov.tftp.quietport}), on the real reactor and in the real
daemon.
"""

from __future__ import annotations

import socket
import struct
import time

import pytest_twisted
from twisted.internet import defer
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import capturedLogs

from daemon import Daemon
from snomprov.tftp.quietport import QuietPort, listenQuietly

MAC = "000413AB12CD"


class _Echo(DatagramProtocol):
    """
    Answers a datagram with it in upper case, then fires C{received}.
    """

    noisy = False  # the protocol's own lines are not the port's

    def __init__(self):
        self.received = defer.Deferred()

    def datagramReceived(self, data, address):
        self.transport.write(data.upper(), address)
        self.received.callback(data)


@pytest_twisted.inlineCallbacks
def test_quietPortWorksAndLogsNothing():
    """
    A L{QuietPort} from L{listenQuietly} on the real reactor binds an
    ephemeral port, carries datagrams both ways, and closes, logging
    nothing.
    """
    from twisted.internet import reactor

    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(5)
    echo = _Echo()
    with capturedLogs() as events:
        port = listenQuietly(reactor, echo, "127.0.0.1")
        assert isinstance(port, QuietPort) and port.getHost().port != 0
        client.sendto(b"ping", ("127.0.0.1", port.getHost().port))
        assert (yield echo.received) == b"ping"
        yield port.stopListening()
    assert client.recv(100) == b"PING"
    client.close()
    assert [event.get("log_format") for event in events] == []
    assert not port.connected


def _fetch(port: int, name: str) -> tuple[int, bytes]:
    """
    Read C{name} over TFTP from 127.0.0.1:C{port}: the ERROR code (0 when
    none) and the content.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(5)
    sock.sendto(b"\x00\x01" + name.encode() + b"\x00octet\x00", ("127.0.0.1", port))
    content = b""
    try:
        while True:
            data, address = sock.recvfrom(70000)
            opcode, block = struct.unpack("!HH", data[:4])
            if opcode == 5:
                return block, content
            content += data[4:]
            sock.sendto(struct.pack("!HH", 4, block), address)
            if len(data) - 4 < 512:
                return 0, content
    finally:
        sock.close()


def test_daemonLogsOneLinePerTransfer(tmp_path):
    """
    The daemon logs a served file and a missing one in one line each,
    naming the file, the peer, the outcome and the bytes; nothing else
    while they run but the phone's milestone (L{snomprov.milestones}).
    """
    with Daemon(tmp_path, sip=False) as daemon:
        daemon.importCSV("mac,vendor,model,line,user,password,display_name,registrar\n"
                         f"{MAC},snom,snomD785,1,100,pw,Alice,pbx.example.org\n")
        before = len(daemon.log().splitlines())
        code, content = _fetch(daemon.tftpPort, f"snomD785-{MAC}.htm")
        assert code == 0 and b"<settings>" in content
        assert _fetch(daemon.tftpPort, "nothing.cfg")[0] == 1
        deadline = time.monotonic() + 5
        while len(daemon.log().splitlines()) < before + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a port closing would log after its transfer's line
        lines = daemon.log().splitlines()[before:]
    milestones = [line for line in lines if "[snomprov.milestones." in line]
    assert len(milestones) == 1 and milestones[0].endswith(f"fetched snomD785-{MAC}.htm over TFTP")
    lines = [line for line in lines if line not in milestones]
    assert len(lines) == 2, lines
    served, missing = sorted(lines, key=lambda line: "nothing.cfg" in line)
    assert served.endswith(f"TFTP snomD785-{MAC}.htm to 127.0.0.1:{served.split('127.0.0.1:')[1].split(':')[0]}"
                           f": complete, {len(content)} bytes")
    assert "TFTP nothing.cfg to 127.0.0.1:" in missing and missing.endswith(": error:File not found, 0 bytes")
