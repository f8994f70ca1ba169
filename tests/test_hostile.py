"""
Hostile traffic against one real daemon while valid phones boot (issue 15,
DESIGN §5): 40 snom phones by plug-and-play and HTTP, 10 SPA942 phones by
TFTP (curl), each from a loopback address of its own, and at the same time
a mixed hostile stream:

- garbage datagrams to the SIP and TFTP ports: the fuzzers' found cases
  (tests/fuzz_cases/) and random bytes, oversized and broken SIP
  (L{bench._phones.Hostile});
- a SUBSCRIBE flood from one source (the per-source rate) and from many
  sources with MACs never seen (C{[provisioning] new_devices_per_minute});
- SUBSCRIBEs whose Request-URI, Via, From, To and Contact name a third
  host: a socket bound there receives nothing, while the sender is answered;
- traversal names over HTTP and TFTP (C{../}, C{%2e%2e}, absolute paths,
  NUL);
- HTTP clients stalling in or dribbling their headers (C{[http]
  header_timeout}), oversized bodies and headers (C{[http] max_body}),
  more connections from one address than C{[http]
  connections_per_address}, long names and User-Agents with control
  characters (C{[server] log_field_length});
- TFTP clients that never acknowledge (C{[tftp] transfers_per_client},
  and the transfer's timeouts).

Everything runs in a network namespace of the test's own (only its
loopback), so that a packet socket on its C{lo} sees the daemon's traffic
and nothing else: every UDP and TCP packet leaving the daemon's address
(127.0.0.1; no client of the test uses it) must go to an address and port
that sent to the daemon first.  The test thread enters the namespace with
C{setns(2)} and leaves it afterwards; the daemon and the clients it starts
inherit it.

The bounds are small known values (L{BOUNDS}); the daemon's resident
memory and open files, sampled through the stream, stay within what they
allow (the arithmetic is in L{test_hostileStream}); after the stream a PnP
exchange, an HTTP fetch and a TFTP fetch are still answered, and the log
has no traceback, no control character and no field longer than
C{[server] log_field_length}.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import random
import re
import selectors
import shutil
import socket
import sqlite3
import struct
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from lxml import etree

from bench._phones import Hostile, boot, fetch, macOf, sourceAddress
from bench.pnp_storm import _SUBSCRIBE
from bench.soak import Sampler, openFiles, rssBytes
from daemon import ROOT, Daemon
from netns import netnsAvailable, netnsPair

pytestmark = [pytest.mark.netns, pytest.mark.interop]

SERVER = "127.0.0.1"
"""
The daemon's address; every client of the test sends from another one.
"""

SNOM_PHONES = 40
SPA_PHONES = 10
FETCHERS = 4
"""
The snom phones' HTTP fetches at once (each phone fetches from its own
address, one connection at a time).
"""

LOG_FIELD = 64
CAP = 4
MAX_BODY = 1024
HEADER_TIMEOUT = 2
MAX_TRANSFERS = 16
PER_CLIENT = 2
NEW_PER_MINUTE = 100
CACHE_BYTES = 1 << 20
MAX_TRANSACTIONS = 2048
RATE, BURST = 20, 40

BOUNDS = dict(
    serverConfig=f"log_field_length = {LOG_FIELD}\n",
    httpConfig=(f"header_timeout = {HEADER_TIMEOUT}\nmax_body = {MAX_BODY}\n"
                f"connections_per_address = {CAP}\naccess_log = true\n"),
    sipConfig=(f"rate_per_source = {RATE}\nrate_burst = {BURST}\n"
               f"max_transactions = {MAX_TRANSACTIONS}\n"),
    extraConfig=(f"max_transfers = {MAX_TRANSFERS}\nmax_waiting = 64\n"
                 f"transfers_per_client = {PER_CLIENT}\n"
                 f"[provisioning]\ncache_entries = 64\ncache_bytes = {CACHE_BYTES}\n"
                 f"new_devices_per_minute = {NEW_PER_MINUTE}\n"),
)

# Where each kind of client sends from (127.1.x.y: the snom phones,
# bench._phones.sourceAddress; 127.2.0.1: bench._phones.Hostile).
SPA_SOURCE = "127.3.0.{}"
MANY_SOURCES = "127.4.{}.{}"
NO_ACK = ("127.5.0.1", "127.5.0.2")
NO_ACK_TIMEOUT = "127.5.0.3"
ONE_SOURCE = "127.6.0.1"
THIRD_PARTY_SENDER = "127.8.0.1"
SLOW, OVERSIZED, CROWD = "127.9.0.1", "127.9.0.2", "127.9.0.3"
AFTER = "127.10.0.1"
VICTIM = "127.77.0.1"

CROWD_SIZE = 12
FLOOD_ONE = 400
FLOOD_MANY = 400
NO_ACK_EACH = 5

TRAVERSALS_NUL = ("snom/%00../../etc/passwd", "snom/000413000000.xml%00.txt", "%2e%2e%00/etc/passwd",
                  "/etc/passwd%00.htm")


def spaMAC(n: int) -> str:
    return f"000E0800{n:04X}"


def devicesCSV() -> str:
    """
    The 40 snom phones (L{bench._phones.devicesCSV}'s rows: user 1000+n,
    password pw-n-secret) and the 10 SPA942s (user 2000+n, spa-pw-n).
    """
    return "mac,vendor,model,line,user,password,display_name,registrar\n" + "".join(
        f"{macOf(n)},snom,snomD785,1,{1000 + n},pw-{n}-secret,Phone {n},pbx.example\n"
        for n in range(SNOM_PHONES)) + "".join(
        f"{spaMAC(n)},linksys,SPA942,1,{2000 + n},spa-pw-{n},SPA {n},pbx.example\n"
        for n in range(SPA_PHONES))


SECRET = re.compile(rb"(?:spa-)?pw-\d+(?:-secret)?")


# -- the namespace -----------------------------------------------------------

_CLONE_NEWNET = 0x40000000


def _setns(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns({path}): {os.strerror(error)}")
    finally:
        os.close(fd)


@contextlib.contextmanager
def insideNamespace():
    """
    This thread in a new network namespace (its loopback up) while the
    context lasts; threads and processes started meanwhile are in it too.
    """
    available, reason = netnsAvailable()
    if not available:
        pytest.skip(reason)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        with netnsPair("snp-hostile", subnet="10.98.0") as pair:
            _setns(f"/run/netns/{pair.nsA}")
            try:
                yield pair.nsA
            finally:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(home, _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back to the test's namespace")
    finally:
        os.close(home)


# -- the capture -------------------------------------------------------------

_ETH_P_ALL = 0x0003
_PACKET_OUTGOING = 4
_SOL_PACKET = 263
_PACKET_STATISTICS = 6


class Capture(threading.Thread):
    """
    Every IPv4 UDP and TCP packet on C{lo} (the namespace's): C{(protocol,
    source, sourcePort, destination, destinationPort)} in the order the
    interface received them (each packet once: its outgoing copy skipped).

    @ivar drops: packets the kernel dropped for want of buffer (must be 0
        for the check to be complete).
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.packets: list[tuple[int, str, int, str, int]] = []
        self.drops = 0
        self.seen = 0
        self._stopped = threading.Event()
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(_ETH_P_ALL))
        self._sock.setsockopt(socket.SOL_SOCKET, 33, 1 << 29)  # SO_RCVBUFFORCE: we are root
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.1)

    def run(self) -> None:
        buffer = bytearray(64)
        view = memoryview(buffer)
        while True:
            try:
                size, address = self._sock.recvfrom_into(buffer)
            except socket.timeout:
                if self._stopped.is_set():
                    break
                continue
            if address[2] == _PACKET_OUTGOING or size < 24 or buffer[0] >> 4 != 4:
                continue
            protocol = buffer[9]
            if protocol not in (6, 17):
                continue
            header = (buffer[0] & 15) * 4
            ports = struct.unpack_from("!HH", view, header)
            self.packets.append((protocol, socket.inet_ntoa(view[12:16]), ports[0],
                                 socket.inet_ntoa(view[16:20]), ports[1]))

    def stop(self) -> None:
        self._stopped.set()
        self.join()
        self.seen, self.drops = struct.unpack(
            "II", self._sock.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, 8))
        self._sock.close()


def strangers(packets, server: str = SERVER) -> list[tuple]:
    """
    The packets from C{server} to an address and port that had sent
    nothing to C{server} before.
    """
    heard = set()
    out = []
    for protocol, source, sourcePort, destination, destinationPort in packets:
        if destination == server:
            heard.add((protocol, source, sourcePort))
        elif source == server and (protocol, destination, destinationPort) not in heard:
            out.append((protocol, source, sourcePort, destination, destinationPort))
    return out


# -- the valid phones --------------------------------------------------------

def _udp(address: str, timeout: float | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 0))
    sock.settimeout(timeout)
    return sock


def snomFiles(url: str, mac: str, source: str) -> list[bytes]:
    """
    What a snom phone at C{source} reads: the container its NOTIFY named
    and every file the container lists.
    """
    userAgent = f"Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 1.1.5-IFX-05.01.12 {mac})"
    status, container = fetch(url, userAgent, source=source)
    assert status == 200, (url, status)
    files = [container]
    for element in etree.fromstring(container).iter("file"):
        status, body = fetch(element.get("url"), userAgent, source=source)
        assert status == 200, (element.get("url"), status)
        files.append(body)
    return files


def bootSnom(port: int) -> dict[str, list[bytes]]:
    """
    The 40 snom phones boot (PnP from 40 addresses), then each fetches its
    files from its own address, L{FETCHERS} at a time.
    """
    macs = [macOf(n) for n in range(SNOM_PHONES)]
    result = boot(port, macs, rate=50.0, deadline=15.0, fetchFiles=False, sources=SNOM_PHONES)
    assert not result.lost and not result.fromElsewhere, (result.lost, result.fromElsewhere)
    with ThreadPoolExecutor(FETCHERS) as pool:
        futures = {mac: pool.submit(snomFiles, result.urls[mac], mac, sourceAddress(n))
                   for n, mac in enumerate(macs)}
        return {mac: future.result() for mac, future in futures.items()}


def curlTFTP(port: int, name: str, source: str, out: str) -> bytes:
    result = subprocess.run(["curl", "-sS", "--interface", source, "-o", out, f"tftp://{SERVER}:{port}/{name}"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, (name, source, result.stderr)
    with open(out, "rb") as f:
        return f.read()


def profile(data: bytes) -> dict[str, str]:
    root = etree.fromstring(data)
    assert root.tag == "flat-profile"
    return {element.tag: element.text or "" for element in root}


def bootSPA(port: int, n: int, directory: str) -> bytes:
    """
    SPA942 C{n} from its own address: the initial profile, then the
    per-MAC name its C{Profile_Rule} gives, with C{$MA} expanded.
    """
    source = SPA_SOURCE.format(n + 1)
    rule = profile(curlTFTP(port, "spa942.cfg", source, os.path.join(directory, f"init{n}")))["Profile_Rule"]
    name = urlsplit(rule).path.lstrip("/").replace("$MA", spaMAC(n).lower())
    return curlTFTP(port, name, source, os.path.join(directory, f"spa{n}"))


# -- the hostile stream ------------------------------------------------------

def fuzzCases(*harnesses: str) -> list[bytes]:
    cases = []
    for harness in harnesses:
        folder = os.path.join(ROOT, "tests", "fuzz_cases", harness)
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), "rb") as f:
                cases.append(f.read())
    assert cases
    return cases


def garbage(daemon: Daemon) -> None:
    """
    The fuzzers' found cases and random bytes to SIP and TFTP, and
    L{Hostile}'s oversized and broken SIP (it names 127.0.0.77 in Via and
    Contact: its own third host).
    """
    with _udp("127.2.0.2") as sock:
        for data in fuzzCases("sip_decoder", "sip_message", "uaprofile"):
            sock.sendto(data, (SERVER, daemon.sipPort))
        for data in fuzzCases("tftp_packet"):
            sock.sendto(data, (SERVER, daemon.tftpPort))
        noise = random.Random(15)
        for size in (0, 1, 2, 4, 17, 512, 1400, 9000, 65000):
            for port in (daemon.sipPort, daemon.tftpPort):
                sock.sendto(noise.randbytes(size), (SERVER, port))


def subscribe(mac: str, host: str, port: int, n: int, tag: str) -> bytes:
    return _SUBSCRIBE.format(mac=mac, host=host, port=port, n=n, tag=tag, branch=f"{tag}{n}").encode()


def answeredCallIDs(socks: list[socket.socket], want: int | None = None, quiet: float = 1.0) -> set[bytes]:
    """
    The Call-IDs of the C{200 OK}s C{socks} receive, until C{want} of them
    came or nothing came for C{quiet} seconds.
    """
    answered: set[bytes] = set()
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        while want is None or len(answered) < want:
            ready = selector.select(quiet)
            if not ready:
                break
            for key, _ in ready:
                with contextlib.suppress(BlockingIOError):
                    while True:
                        data = key.fileobj.recv(65535)
                        if data.startswith(b"SIP/2.0 200 "):
                            answered.add(re.search(rb"\r\nCall-ID: ([^\r]+)", data).group(1))
    return answered


def floodOne(daemon: Daemon, seen: dict) -> None:
    """
    L{FLOOD_ONE} SUBSCRIBEs of new MACs from one source, as fast as the
    socket takes them: at most C{rate_burst + rate_per_source * seconds}
    are answered.
    """
    with _udp(ONE_SOURCE) as sock:
        port = sock.getsockname()[1]
        started = time.monotonic()
        for n in range(FLOOD_ONE):
            sock.sendto(subscribe(f"0004135{n:05X}", ONE_SOURCE, port, n, "one"), (SERVER, daemon.sipPort))
        answered = answeredCallIDs([sock])
        seen["floodOne"] = (len(answered), time.monotonic() - started)


def floodMany(daemon: Daemon, seen: dict) -> None:
    """
    One SUBSCRIBE of a new MAC from each of L{FLOOD_MANY} sources: each is
    within its own rate, so each is answered; the rows they add are bounded
    by C{new_devices_per_minute}.
    """
    socks = []
    try:
        for n in range(FLOOD_MANY):
            address = MANY_SOURCES.format(n // 200, n % 200 + 1)
            sock = _udp(address)
            socks.append(sock)
            sock.sendto(subscribe(f"0004136{n:05X}", address, sock.getsockname()[1], n, "many"),
                        (SERVER, daemon.sipPort))
        seen["floodMany"] = len(answeredCallIDs(socks, want=FLOOD_MANY, quiet=10.0))
    finally:
        for sock in socks:
            sock.close()


def thirdParty(daemon: Daemon, victim: socket.socket, seen: dict) -> None:
    """
    SUBSCRIBEs (and an OPTIONS) whose Request-URI, Via, From, To and
    Contact all name the victim's address: the sender is answered, the
    victim never.
    """
    host, port = victim.getsockname()
    with _udp(THIRD_PARTY_SENDER) as sock:
        for n in range(10):
            sock.sendto(subscribe(f"0004137{n:05X}", host, port, n, "third"), (SERVER, daemon.sipPort))
        sock.sendto((f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{port};branch=z9hG4bKopt\r\n"
                     f"From: <sip:x@{host}>;tag=1\r\nTo: <sip:x@{host}>\r\nCall-ID: opt-third@{host}\r\n"
                     f"CSeq: 1 OPTIONS\r\nContact: <sip:{host}:{port}>\r\nContent-Length: 0\r\n\r\n").encode(),
                    (SERVER, daemon.sipPort))
        seen["thirdPartyAnswered"] = len(answeredCallIDs([sock], want=11, quiet=10.0))


def traversals(daemon: Daemon, hostile: Hostile, seen: dict) -> None:
    """
    L{Hostile}'s traversal names over HTTP and TFTP, and names with NUL:
    none answers with a file's content or any phone's secret.
    """
    hostile.traversalHTTP()
    hostile.traversalTFTP()
    answers = [fetch(f"{daemon.baseURL}/{name}", timeout=10, source="127.2.0.3") for name in TRAVERSALS_NUL]
    seen["traversalHTTP"] = {status for status, _ in answers}
    with _udp("127.2.0.3", timeout=2) as sock:
        for name in (b"spa942.cfg\0../../etc/passwd", b"/etc/passwd\0.cfg", b"..\0spa942.cfg",
                     b"spa000e08000000.cfg\0"):
            sock.sendto(b"\0\1" + name + b"\0octet\0", (SERVER, daemon.tftpPort))
            with contextlib.suppress(socket.timeout):
                data, address = sock.recvfrom(65535)
                answers.append((int.from_bytes(data[:2], "big"), data))
                if data[:2] == b"\0\3":
                    sock.sendto(b"\0\5\0\0stop\0", address)
    seen["traversalTFTP"] = {opcode for opcode, _ in answers[len(TRAVERSALS_NUL):]}
    seen["traversalLeaks"] = hostile.leaks + sum(
        1 for status, body in answers if b"root:" in body or SECRET.search(body))


def slowHeaders(daemon: Daemon, seen: dict) -> None:
    """
    Three clients that never complete their headers: two send part of them
    and then nothing, one dribbles a byte every quarter of a second.  Each
    is answered 408 and closed by the daemon (C{header_timeout} counts from
    the connection's opening, so dribbling does not extend it).
    """
    def one(dribble: bool) -> bytes:
        with socket.create_connection((SERVER, daemon.httpPort), timeout=30, source_address=(SLOW, 0)) as client:
            client.sendall(b"GET /snom/snomD785.htm HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            client.settimeout(0.25 if dribble else 30)
            received = b""
            for _ in range(120):  # 30 s at most
                try:
                    chunk = client.recv(4096)
                except socket.timeout:
                    client.sendall(b"z")  # never the end of the headers
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    break
                if not chunk:
                    break
                received += chunk
            return received[:12]
    with ThreadPoolExecutor(3) as pool:
        seen["slow"] = list(pool.map(one, (False, False, True)))


def _exchange(data: bytes, port: int, source: str) -> bytes:
    """
    Send C{data} on a connection from C{source}; what came back before the
    daemon closed it (C{b""} when it was reset).
    """
    received = b""
    with socket.create_connection((SERVER, port), timeout=30, source_address=(source, 0)) as client:
        try:
            client.sendall(data)
            while chunk := client.recv(65536):
                received += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    return received


def oversized(daemon: Daemon, seen: dict) -> None:
    """
    A body above C{max_body} (by Content-Length and chunked) and a 64 KiB
    header line: refused (413 for the bodies, 4xx for the header), never a
    200.
    """
    path = "/snom/snomD785.htm"
    body = b"x" * (4 * MAX_BODY)
    answers = [
        _exchange(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body,
                  daemon.httpPort, OVERSIZED),
        _exchange(f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                  + b"".join(b"400\r\n" + b"y" * 1024 + b"\r\n" for _ in range(4)) + b"0\r\n\r\n",
                  daemon.httpPort, OVERSIZED),
        _exchange(f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: ".encode() + b"a" * 65536 + b"\r\n\r\n",
                  daemon.httpPort, OVERSIZED),
        # A long name with escaped control characters and a long
        # User-Agent: served (404), and in the access log cut and escaped.
        _exchange(b"GET /snom/" + b"b" * 5000 + b"%1b%5b31m%0d%0a%00 HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\nUser-Agent: evil" + b"c" * 5000 + b"\r\n\r\n",
                  daemon.httpPort, OVERSIZED),
        _exchange(b"GET /snom/%1b[31m.htm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"User-Agent: raw\x1b[31m\x07escape\r\n\r\n", daemon.httpPort, OVERSIZED),
    ]
    seen["oversized"] = [answer[:12] for answer in answers]


def crowd(daemon: Daemon, seen: dict) -> None:
    """
    L{CROWD_SIZE} connections from one address, all opened first, then a
    request on each: the first C{connections_per_address} are answered,
    the others were closed by the daemon without an answer.
    """
    connections = [socket.create_connection((SERVER, daemon.httpPort), timeout=10, source_address=(CROWD, 0))
                   for _ in range(CROWD_SIZE)]
    served = 0
    try:
        for client in connections:
            try:
                client.sendall(b"GET /snom/snomD785.htm HTTP/1.1\r\nHost: x\r\n\r\n")
                served += client.recv(12).startswith(b"HTTP/1.1 200")
            except (ConnectionResetError, BrokenPipeError):
                pass
    finally:
        for client in connections:
            client.close()
    seen["crowdServed"] = served


def neverAck(daemon: Daemon, seen: dict, held: list) -> None:
    """
    From each of L{NO_ACK}, L{NO_ACK_EACH} read requests that are never
    acknowledged: C{transfers_per_client} get their first DATA, the others
    ERROR 0.  The sockets stay open (the daemon's retransmissions go to
    them) until the test ends.
    """
    data = {}
    for address in NO_ACK:
        answers = []
        for _ in range(NO_ACK_EACH):
            sock = _udp(address, timeout=10)
            held.append(sock)
            sock.sendto(b"\0\1spa942.cfg\0octet\0", (SERVER, daemon.tftpPort))
            answers.append(sock.recv(65535)[:2])
        assert set(answers) <= {b"\0\3", b"\0\5"}, answers
        data[address] = answers.count(b"\0\3")
    seen["noAck"] = data


def neverAckTimesOut(daemon: Daemon, seen: dict) -> None:
    """
    A read request asking for a 1 s timeout, never acknowledged: its OACK
    is sent at most 5 times (the first and 4 retransmissions), then the
    transfer is given up (C{timeout} in the log) and the address may start
    another.
    """
    with _udp(NO_ACK_TIMEOUT, timeout=10) as sock:
        sock.sendto(b"\0\1spa942.cfg\0octet\0timeout\0" + b"1\0", (SERVER, daemon.tftpPort))
        copies = []
        with contextlib.suppress(socket.timeout):
            while True:
                copies.append(sock.recv(65535)[:2])
                sock.settimeout(3)
        pattern = re.compile(rf"TFTP spa942\.cfg to {re.escape(NO_ACK_TIMEOUT)}:\d+: timeout")
        for _ in range(300):  # 30 s at most
            if pattern.search(daemon.log()):
                break
            time.sleep(0.1)
        sock.settimeout(10)
        sock.sendto(b"\0\1spa942.cfg\0octet\0", (SERVER, daemon.tftpPort))
        again = sock.recv(65535)[:2]
        seen["timedOut"] = (copies, bool(pattern.search(daemon.log())), again)


def victimHeard(victims: list[socket.socket]) -> int:
    heard = 0
    for victim in victims:
        victim.setblocking(False)
        while True:
            try:
                victim.recv(65535)
            except BlockingIOError:
                break
            heard += 1
    return heard


# -- the test ----------------------------------------------------------------

@pytest.fixture
def namespace():
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    with insideNamespace() as name:
        yield name


def test_hostileStream(namespace, tmp_path):
    daemon = Daemon(tmp_path, **BOUNDS)
    daemon.importCSV(devicesCSV())
    daemon.start()
    held: list[socket.socket] = []
    victims = [_udp(VICTIM)]
    hostile = capture = sampler = None
    try:
        pid = daemon.process.pid
        # Warm up every path once (PnP, HTTP, TFTP), then the baseline.
        warm = boot(daemon.sipPort, [macOf(0)], sources=1, fetchFiles=False)
        assert not warm.lost
        snomFiles(warm.urls[macOf(0)], macOf(0), AFTER)
        bootSPA(daemon.tftpPort, 0, str(tmp_path))
        baseRSS, baseFiles = rssBytes(pid), openFiles(pid)

        capture = Capture()
        capture.start()
        sampler = Sampler(pid, str(tmp_path), interval=0.05)
        sampler.start()
        hostile = Hostile(daemon.sipPort, daemon.tftpPort, daemon.baseURL, seed=15)
        victims.append(hostile._victim)
        seen: dict = {}
        spaDirectory = str(tmp_path / "spa")
        os.mkdir(spaDirectory)
        with ThreadPoolExecutor(16) as pool:
            snom = pool.submit(bootSnom, daemon.sipPort)
            spa = [pool.submit(bootSPA, daemon.tftpPort, n, spaDirectory) for n in range(SPA_PHONES)]
            stream = [
                pool.submit(garbage, daemon),
                pool.submit(hostile.garbage, 40),
                pool.submit(hostile.badSIP, 40),
                pool.submit(floodOne, daemon, seen),
                pool.submit(floodMany, daemon, seen),
                pool.submit(thirdParty, daemon, victims[0], seen),
                pool.submit(traversals, daemon, hostile, seen),
                pool.submit(slowHeaders, daemon, seen),
                pool.submit(oversized, daemon, seen),
                pool.submit(crowd, daemon, seen),
                pool.submit(neverAck, daemon, seen, held),
                pool.submit(neverAckTimesOut, daemon, seen),
            ]
            for future in stream:
                future.result()
            snomResult = snom.result()
            spaFiles = [future.result() for future in spa]
        sampler.stopped.set()
        sampler.join()
        peakRSS = max(sample[1] for sample in sampler.samples)
        peakFiles = max(sample[2] for sample in sampler.samples)

        # Every valid phone provisioned, with its own account and no one
        # else's secret.
        for n in range(SNOM_PHONES):
            text = b"".join(snomResult[macOf(n)])
            assert f">{1000 + n}<".encode() in text and f"pw-{n}-secret".encode() in text, macOf(n)
            assert set(SECRET.findall(text)) == {f"pw-{n}-secret".encode()}, macOf(n)
        for n, data in enumerate(spaFiles):
            values = profile(data)
            assert values["User_ID_1_"] == str(2000 + n) and values["Password_1_"] == f"spa-pw-{n}", spaMAC(n)
            assert set(SECRET.findall(data)) == {f"spa-pw-{n}".encode()}, spaMAC(n)

        # Each hostile kind met its bound.
        answeredOne, seconds = seen["floodOne"]
        assert answeredOne <= BURST + RATE * seconds, seen["floodOne"]  # the per-source rate
        assert seen["floodMany"] == FLOOD_MANY  # each of many sources is within its rate
        assert seen["thirdPartyAnswered"] == 11  # the sender is answered...
        assert seen["traversalLeaks"] == 0
        assert seen["traversalHTTP"] <= {400, 404} and seen["traversalTFTP"] <= {5}, seen  # not found, or ERROR
        assert seen["slow"] == [b"HTTP/1.1 408"] * 3
        assert seen["oversized"][:2] == [b"HTTP/1.1 413"] * 2, seen["oversized"]
        assert all(not answer.startswith(b"HTTP/1.1 2") for answer in seen["oversized"]), seen["oversized"]
        assert seen["crowdServed"] == CAP
        # transfers_per_client: per address, that many DATA, the others ERROR.
        assert seen["noAck"] == {address: PER_CLIENT for address in NO_ACK}, seen["noAck"]
        # A transfer never acknowledged ends after its timeouts: 5 OACKs,
        # then the address is served again (DATA 1 of a new request).
        copies, timedOut, again = seen["timedOut"]
        assert 1 <= len(copies) <= 5 and set(copies) == {b"\0\6"} and timedOut and again == b"\0\3", seen["timedOut"]

        # Still answering: a PnP exchange, an HTTP fetch, a TFTP fetch.
        after = boot(daemon.sipPort, [macOf(1)], sources=1, fetchFiles=False)
        assert not after.lost
        assert b"pw-1-secret" in b"".join(snomFiles(after.urls[macOf(1)], macOf(1), AFTER))
        assert profile(curlTFTP(daemon.tftpPort, f"spa{spaMAC(1).lower()}.cfg", AFTER,
                                str(tmp_path / "after")))["Password_1_"] == "spa-pw-1"

        # ... and the victims (third hosts named in Via, From, To, Contact)
        # heard nothing, ever.
        assert victimHeard(victims) == 0
        capture.stop()
        assert capture.drops == 0, (capture.drops, capture.seen)
        # The capture saw the daemon answer every phone, over each protocol.
        answeredPhones = {(protocol, destination) for protocol, source, _, destination, _ in capture.packets
                          if source == SERVER}
        phones = ({(17, sourceAddress(n)) for n in range(SNOM_PHONES)}
                  | {(6, sourceAddress(n)) for n in range(SNOM_PHONES)}
                  | {(17, SPA_SOURCE.format(n + 1)) for n in range(SPA_PHONES)})
        assert phones <= answeredPhones, phones - answeredPhones
        assert strangers(capture.packets) == []

        # Resident memory and open files within the bounds configured.
        # Open files: the baseline (listeners, store, log) plus at most
        #   CAP connections for each address that held HTTP connections at
        #   once (127.2.0.1, 127.2.0.3, SLOW, OVERSIZED, CROWD: 5 * 4),
        #   FETCHERS phone fetches, MAX_TRANSFERS TFTP transfer ports,
        #   and the crowd's connections past the cap, accepted and
        #   aborted in the same reactor turn (CROWD_SIZE - CAP).
        assert len(sampler.samples) > 10, len(sampler.samples)
        filesBound = baseFiles + 5 * CAP + FETCHERS + MAX_TRANSFERS + (CROWD_SIZE - CAP)
        assert peakFiles <= filesBound, (peakFiles, baseFiles, filesBound)
        # Memory: the baseline plus the render cache (CACHE_BYTES), a
        # NOTIFY transaction and its deduplication entry per transaction
        # (MAX_TRANSACTIONS * 4 KiB), the open connections' buffers
        # ((5 * CAP + FETCHERS) * (MAX_BODY + 64 KiB of headers)), the
        # transfers' blocks (MAX_TRANSFERS * 64 KiB), and 16 MiB for the
        # allocator's arenas and code paths first taken by the stream.
        rssBound = (baseRSS + CACHE_BYTES + MAX_TRANSACTIONS * 4096
                    + (5 * CAP + FETCHERS) * (MAX_BODY + 65536) + MAX_TRANSFERS * 65536 + (16 << 20))
        assert peakRSS <= rssBound, (peakRSS, baseRSS, rssBound)

        # The flood of new MACs: at most NEW_PER_MINUTE rows a minute (the
        # stream may straddle two minutes of the clock), and a flood event.
        time.sleep(0.5)  # the recorder's next batch (every 0.25 s)
        devices = json.loads(daemon.run("devices", "--json").stdout)
        assert len(devices) <= SNOM_PHONES + SPA_PHONES + 2 * NEW_PER_MINUTE, len(devices)
        store = sqlite3.connect(f"file:{tmp_path}/var/snomprov.sqlite?mode=ro", uri=True, timeout=30)
        try:
            floods = store.execute("SELECT count(*) FROM events WHERE kind = 'flood'").fetchone()[0]
        finally:
            store.close()
        assert floods >= 1
        # The figures, for pytest -s.
        print(f"\nhostile stream: {seen}; {len(capture.packets)} packets captured, {capture.drops} dropped; "
              f"open files {baseFiles} -> {peakFiles} (bound {filesBound}); RSS {baseRSS} -> {peakRSS} "
              f"(bound {rssBound}); {len(devices)} device rows, {floods} flood event(s)")
    finally:
        if capture is not None and capture.is_alive():
            capture.stop()
        if sampler is not None:
            sampler.stopped.set()
        for sock in held + victims[:1]:
            sock.close()
        if hostile is not None:
            hostile.close()
        daemon.stop()

    log = daemon.log()
    assert "Traceback" not in log, log[-3000:]
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", log), "a control character reached the log"
    assert "GET /snom/bbbb" in log and "evilccc" in log  # the long request was logged...
    assert "raw\\x1b[31m\\x07escape" in log  # ... control characters escaped
    for letter in "abc":  # ... each field cut
        assert letter * (LOG_FIELD + 1) not in log, letter
