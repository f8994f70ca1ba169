"""
A small, self-contained phone generator for the soak (C{bench/soak.py})
and the kill -9 tests (tests/test_faults.py): snom D785s booting the
plug-and-play way (SUBSCRIBE, 200, NOTIFY with the provisioning URL, 200
to the NOTIFY, then an HTTP fetch of that URL), and the hostile traffic of
DESIGN §5's threats (garbage and oversized datagrams, SIP naming third
hosts in Via and Contact, traversal names over HTTP and TFTP).

One UDP socket and one thread for SIP, a few threads for the fetches;
127.0.0.1 only.  (bench/storm.py is the full 10,000-phone storm; this one
is small on purpose.)
"""

from __future__ import annotations

import random
import secrets
import selectors
import socket
import struct
import time
import http.client
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .pnp_storm import _SUBSCRIBE, okFor

__all__ = ["HOST", "macOf", "devicesCSV", "okFor", "Boot", "boot", "fetch", "sourceAddress", "Hostile"]

HOST = "127.0.0.1"
HOSTILE = "127.2.0.1"
"""
The address hostile traffic comes from (phones come from L{sourceAddress}).
"""



def macOf(n: int) -> str:
    """
    Phone C{n}'s MAC, in snom's OUI.
    """
    return f"000413{n:06X}"


def devicesCSV(phones: int, first: int = 0) -> str:
    """
    A devices CSV registering phones C{first} to C{first + phones - 1}, one
    line each.
    """
    return "mac,vendor,model,line,user,password,display_name,registrar\n" + "".join(
        f"{macOf(n)},snom,snomD785,1,{1000 + n},pw-{n}-secret,Phone {n},pbx.example\n"
        for n in range(first, first + phones))


def _userAgent(mac: str) -> str:
    return f"Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 1.1.5-IFX-05.01.12 {mac})"


def fetch(url: str, userAgent: str | None = None, timeout: float = 10.0,
          source: str | None = None) -> tuple[int, bytes]:
    """
    One HTTP GET, from the address C{source} (default: any): C{(status,
    body)}; C{(0, b"")} when nothing answered.
    """
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout,
                                            source_address=(source, 0) if source else None)
    try:
        connection.request("GET", path or "/", headers={"User-Agent": userAgent} if userAgent else {})
        answer = connection.getresponse()
        return answer.status, answer.read()
    except (OSError, ValueError, http.client.HTTPException):
        return 0, b""
    finally:
        connection.close()


def sourceAddress(n: int) -> str:
    """
    The loopback address phone socket C{n} sends from (127.1.x.y): phones
    come from many addresses, as the per-source SIP rate expects.
    """
    return f"127.1.{n // 250}.{n % 250 + 1}"


@dataclass
class Boot:
    """
    What a boot storm saw.

    @ivar urls: MAC to the URL its NOTIFY carried.
    @ivar fetched: MAC to the HTTP status of fetching that URL.
    @ivar lost: the MACs that got no NOTIFY in time.
    @ivar fromElsewhere: datagrams that came from another address than the
        server's SIP port (there must be none).
    """

    urls: dict[str, str] = field(default_factory=dict)
    fetched: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    fromElsewhere: int = 0

    @property
    def provisioned(self) -> int:
        return sum(1 for status in self.fetched.values() if status == 200)


def boot(sipPort: int, macs: list[str], rate: float = 200.0, deadline: float = 20.0,
         fetchers: int = 4, fetchFiles: bool = True, stop=None, sources: int = 16) -> Boot:
    """
    Boot the phones of C{macs} against the server at C{sipPort}: each
    SUBSCRIBEs (C{rate} a second), resends 1 s and then 2 s later while
    nothing came back, answers its NOTIFY and (C{fetchFiles}) fetches the
    URL it carried, from its own address.

    @param deadline: seconds after the last SUBSCRIBE left that a phone
        still waits for its NOTIFY.
    @param stop: a C{threading.Event}: set, the storm ends early.
    @param sources: how many source addresses the phones share
        (L{sourceAddress}); phone C{n} uses C{n % sources}.
    """
    result = Boot()
    tag = secrets.token_hex(3)
    server = (HOST, sipPort)
    pool = ThreadPoolExecutor(fetchers) if fetchFiles else None
    futures = {}
    socks = []
    with selectors.DefaultSelector() as selector:
        try:
            for k in range(sources):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.bind((sourceAddress(k), 0))
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            answered: set[int] = set()
            notified: set[int] = set()
            sentAt: dict[int, tuple[float, int]] = {}
            start = time.monotonic()
            nextPhone = 0
            end = start + len(macs) / rate + deadline
            while time.monotonic() < end and len(notified) < len(macs):
                if stop is not None and stop.is_set():
                    break
                now = time.monotonic()
                while nextPhone < len(macs) and now >= start + nextPhone / rate:
                    _send(socks[nextPhone % sources], server, macs, nextPhone, tag, 0)
                    sentAt[nextPhone] = (now, 0)
                    nextPhone += 1
                for n, (at, attempt) in list(sentAt.items()):
                    if n in answered or attempt >= 2 or now < at + (1.0, 2.0)[attempt]:
                        continue
                    _send(socks[n % sources], server, macs, n, tag, attempt + 1)
                    sentAt[n] = (now, attempt + 1)
                for key, _ in selector.select(0.01):
                    sock = key.fileobj
                    while True:
                        try:
                            data, source = sock.recvfrom(65535)
                        except BlockingIOError:
                            break
                        if source != server:
                            result.fromElsewhere += 1
                            continue
                        n = _exchangeOf(data, tag)
                        if n < 0:
                            continue
                        answered.add(n)
                        if data.startswith(b"NOTIFY "):
                            sock.sendto(okFor(data), source)
                            if n not in notified:
                                notified.add(n)
                                url = data.split(b"\r\n\r\n", 1)[1].decode("utf-8", "replace").strip()
                                result.urls[macs[n]] = url
                                if pool is not None:
                                    futures[macs[n]] = pool.submit(fetch, url, _userAgent(macs[n]),
                                                                   source=sock.getsockname()[0])
        finally:
            for sock in socks:
                sock.close()
    if pool is not None:
        for mac, future in futures.items():
            result.fetched[mac] = future.result()[0]
        pool.shutdown()
    result.lost = [macs[n] for n in range(len(macs)) if n not in notified]
    return result


def _send(sock, server, macs, n, tag, attempt) -> None:
    host, port = sock.getsockname()
    message = _SUBSCRIBE.format(mac=macs[n], host=host, port=port, n=n, tag=tag, branch=f"{tag}{n}x{attempt}")
    try:
        sock.sendto(message.encode(), server)
    except BlockingIOError:
        pass


def _exchangeOf(data: bytes, tag: str) -> int:
    """
    The phone number in a datagram's Call-ID (C{<n>-<tag>@...}), or -1.
    """
    marker = f"-{tag}@".encode()
    at = data.find(marker)
    if at < 0:
        return -1
    line = data.rfind(b"\n", 0, at)
    text = data[line + 1:at].rpartition(b" ")[2]
    return int(text) if text.isdigit() else -1


class Hostile:
    """
    Hostile traffic against a server's SIP, TFTP and HTTP ports, a share of
    each kind per call of L{burst}; what came back is counted.

    @ivar sent: datagrams and requests sent, by kind.
    @ivar thirdParty: datagrams the server sent to the third-party address
        named in Via/Contact (a listening socket of ours): must stay 0.
    @ivar leaks: HTTP or TFTP answers to a traversal name that carried a
        file's content (C{root:} of /etc/passwd): must stay 0.
    """

    TRAVERSALS = (
        "../../../../etc/passwd", "snom/../../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd",
        "snom/..%2f..%2f..%2fetc%2fpasswd", "/etc/passwd", "linksys/../../etc/passwd",
        "spa..%5c..%5cetc%5cpasswd.cfg", "....//....//etc/passwd",
    )

    def __init__(self, sipPort: int, tftpPort: int | None, baseURL: str, seed: int = 1) -> None:
        self.sip = (HOST, sipPort)
        self.tftp = (HOST, tftpPort) if tftpPort else None
        self.baseURL = baseURL
        self.random = random.Random(seed)
        self.sent: dict[str, int] = {}
        self.thirdParty = 0
        self.leaks = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((HOSTILE, 0))
        self._sock.setblocking(False)
        # A third host, as Via and Contact name it: the server must never
        # send there.
        self._victim = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._victim.bind(("127.0.0.77", 0))
        self._victim.setblocking(False)

    def close(self) -> None:
        self._count()
        self._sock.close()
        self._victim.close()

    def _note(self, kind: str, count: int = 1) -> None:
        self.sent[kind] = self.sent.get(kind, 0) + count

    def _sendto(self, data: bytes, to) -> None:
        try:
            self._sock.sendto(data, to)
        except (BlockingIOError, OSError):
            pass

    def _count(self) -> None:
        while True:
            try:
                self._victim.recvfrom(65535)
            except (BlockingIOError, OSError):
                break
            self.thirdParty += 1
        while True:
            try:
                self._sock.recvfrom(65535)
            except (BlockingIOError, OSError):
                break

    def garbage(self, count: int) -> None:
        for _ in range(count):
            size = self.random.choice((1, 7, 100, 1400, 9000))
            data = self.random.randbytes(size)
            self._sendto(data, self.sip)
            if self.tftp:
                self._sendto(data, self.tftp)
        self._note("garbage", count)

    def badSIP(self, count: int) -> None:
        victim = f"127.0.0.77:{self._victim.getsockname()[1]}"
        for i in range(count):
            mac = f"0004130{self.random.randrange(16 ** 5):05X}"
            kind = i % 4
            if kind == 0:  # oversized
                data = (f"SUBSCRIBE sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP {victim}\r\nX: ".encode()
                        + b"a" * 64000 + b"\r\n\r\n")
            elif kind == 1:  # third-party Via and Contact
                data = _SUBSCRIBE.format(mac=mac, host="127.0.0.77", port=self._victim.getsockname()[1],
                                         n=i, tag="evil", branch=f"evil{i}x0").encode()
            elif kind == 2:  # broken header lines
                data = (b"SUBSCRIBE sip:MAC%3a" + mac.encode() + b"@h SIP/2.0\r\nVia SIP/2.0/UDP x\r\n"
                        + self.random.randbytes(200) + b"\r\n\r\n")
            else:  # a number no parser should convert
                data = (b"OPTIONS sip:a@h SIP/2.0\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n")
            self._sendto(data, self.sip)
        self._note("bad-sip", count)

    def traversalTFTP(self) -> None:
        if not self.tftp:
            return
        for name in self.TRAVERSALS:
            request = struct.pack("!H", 1) + name.encode() + b"\0octet\0"
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((HOSTILE, 0))
                s.settimeout(0.5)
                s.sendto(request, self.tftp)
                try:
                    data, source = s.recvfrom(65535)
                except OSError:
                    continue
                if data[:2] == b"\x00\x03":
                    if b"root:" in data:
                        self.leaks += 1
                    s.sendto(b"\x00\x05\x00\x00stop\x00", source)  # abort the transfer
        self._note("tftp-traversal", len(self.TRAVERSALS))

    def traversalHTTP(self) -> None:
        for name in self.TRAVERSALS:
            status, body = fetch(f"{self.baseURL}/{name}", timeout=5.0, source=HOSTILE)
            if status == 200 and b"root:" in body:
                self.leaks += 1
        self._note("http-traversal", len(self.TRAVERSALS))

    def burst(self, share: int = 20) -> None:
        """
        One round's hostile share: C{share} garbage datagrams (to SIP and
        TFTP), C{share} bad SIP messages, every traversal name over HTTP
        and TFTP.
        """
        self.garbage(share)
        self.badSIP(share)
        self.traversalHTTP()
        self.traversalTFTP()
        self._count()
