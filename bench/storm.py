"""
The whole boot storm (DESIGN.md S{6}, issue 11): N phones boot at a given
rate against the real daemon on loopback, each from its own address, and
are provisioned end to end; the same load then runs against the bare
baselines, in the same command, and the figures are compared.

A snom phone (most of them) does plug-and-play: it SUBSCRIBEs to the
daemon's SIP port, answers the NOTIFY with 200 and resends the SUBSCRIBE
as a phone does while nothing answers (RFC 3261 timer E: 0.5 s doubling up
to 4 s, given up after 32 s).  It then fetches the NOTIFY's URL over HTTP
(the C{<setting-files>} container) and every file that lists (its
C{<settings>}); a connection refused, reset or unanswered is tried again
after 1 s, 2 s, 4 s... (5 tries).  An SPA phone (C{--spa-share} of them)
asks TFTP for C{spa942.cfg}, then for the file its C{Profile_Rule} names
(C{spa$MA.cfg}, C{$MA} expanded), lock-step, resending its last packet
after 1 s, 2 s, 4 s, 4 s, 4 s of silence.  An ERROR from a server ends a
phone (a phone would give up until its next retry, an hour later): it is
lost, as is any phone not provisioned by the end of the run.

Each phone's sockets are bound to its own address, 127.16.0.1 onwards, so
the daemon sees N clients as on a site.  The devices are registered
beforehand with lines (C{snomprov import}), so files carry accounts.  The
generator is one process: non-blocking sockets on one epoll loop.

Against:

- B{snomprov}: C{twistd -n -r epoll snomprov} with SIP, HTTP and TFTP and
  its defaults, on SQLite (C{--store postgresql}: a test PostgreSQL started
  as C{tests/pgserver.py} does; C{--daemons 2}: two daemons on one store,
  the phones split between them);
- B{bare}: C{bench/bare_responder.py} for SIP, C{twistd web --path}
  (C{static.File}) for HTTP and tftpd-hpa (C{in.tftpd}) for TFTP, serving the
  same bytes snomprov served (its files as the storm received them, the
  addresses in them pointing at the baselines).

Figures: phones completed and lost, wall time (first phone's first packet
to the last phone provisioned), p50/p99 from a phone's first packet to its
settings received, how long after the first phone the servers went idle,
server CPU (C{utime + stime} of the process trees, C{/proc}) and peak RSS
(C{VmHWM}), the generator's CPU, and the ratios snomprov / bare.

Only 127.0.0.0/8 is used.

Run: C{.venv/bin/python bench/storm.py [--phones 10000] [--rate 2000]
[--spa-share 0.1] [--store sqlite|postgresql] [--daemons 1|2]
[--servers snomprov,bare]}
"""

from __future__ import annotations

import argparse
import errno
import heapq
import os
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from daemon import Daemon, _env, freePort, twistdCommand  # noqa: E402
from pnp_storm import cpuSeconds  # noqa: E402

from snomprov.config import maskURL  # noqa: E402

HOST = "127.0.0.1"
SNOM_MODEL = "snomD785"
SPA_MODEL = "SPA942"
#: what an SPA's factory C{Profile_Rule} (C{/spa$PSN.cfg}) asks for first.
SPA_FIRST = "spa942.cfg"
#: RFC 3261: T1, T2 and timer F (64 T1) of the phone's SUBSCRIBE.
T1, T2, TIMER_F = 0.5, 4.0, 32.0
#: seconds between a phone's HTTP tries (after a refused, reset or
#: unanswered connection); each try may take HTTP_TRY_TIMEOUT seconds.
HTTP_RETRIES = (1.0, 2.0, 4.0, 8.0)
HTTP_TRY_TIMEOUT = 10.0
#: seconds of silence before a TFTP client resends its last packet.
TFTP_RETRIES = (1.0, 2.0, 4.0, 4.0, 4.0)
_BIND_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)

_SUBSCRIBE = (
    "SUBSCRIBE sip:MAC%3a{mac}@{server} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{tag}{n};rport\r\n"
    "From: <sip:MAC%3a{mac}@{server}>;tag={n}\r\n"
    "To: <sip:MAC%3a{mac}@{server}>\r\n"
    "Call-ID: {n}-{tag}@{host}\r\n"
    "CSeq: 1 SUBSCRIBE\r\n"
    f'Event: ua-profile;profile-type="device";vendor="snom";model="{SNOM_MODEL}";version="10.1.54.13"\r\n'
    "Expires: 0\r\n"
    "Accept: application/url\r\n"
    "Contact: <sip:{host}:{port}>\r\n"
    f"User-Agent: {SNOM_MODEL}/10.1.54.13\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)
_USER_AGENT = f"Mozilla/4.0 (compatible; {SNOM_MODEL}-SIP 10.1.54.13 1.1.5-IFX-05.01.12 {{mac}} SIP/stack/1.0)"
_ECHOED = {b"via", b"from", b"to", b"call-id", b"cseq", b"v", b"f", b"t", b"i"}
_FILE_URL = re.compile(rb'url="([^"]+)"')
_PROFILE_RULE = re.compile(rb"<Profile_Rule[^>]*>([^<]+)</Profile_Rule>")


def phoneAddress(n: int) -> str:
    """
    The loopback address of phone C{n}: 127.16.0.1 onwards, skipping host
    bytes 0 and 255.
    """
    high, low = divmod(n, 254)
    return f"127.{16 + high // 256}.{high % 256}.{low + 1}"


def phoneMAC(n: int, spa: bool) -> str:
    """
    Phone C{n}'s MAC: in Linksys's OUI for an SPA, snom's otherwise.
    """
    return f"{'000E08' if spa else '000413'}{n:06X}"


def isSPA(n: int, share: float) -> bool:
    """
    Whether phone C{n} is an SPA: spread evenly, C{share} of all.
    """
    return share > 0 and int((n + 1) * share) != int(n * share)


def devicesCSV(phones: int, share: float) -> str:
    """
    The C{snomprov import} file: one line per phone.
    """
    rows = ["mac,vendor,model,line,user,password,display_name,registrar"]
    for n in range(phones):
        spa = isSPA(n, share)
        rows.append(f"{phoneMAC(n, spa)},{'linksys' if spa else 'snom'},{SPA_MODEL if spa else SNOM_MODEL},"
                    f"1,{1000 + n},pw{n}x,Phone {n},pbx.example.org")
    return "\n".join(rows) + "\n"


def okFor(notify: bytes) -> bytes:
    """
    The phone's C{200 OK} to a NOTIFY: its Via, From, To, Call-ID and CSeq.
    """
    head = notify.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    kept = [line for line in head[1:] if line.partition(b":")[0].strip().lower() in _ECHOED]
    return b"SIP/2.0 200 OK\r\n" + b"\r\n".join(kept) + b"\r\nContent-Length: 0\r\n\r\n"


def hostPort(url: str, default: int) -> tuple[str, int, str]:
    """
    C{(host, port, path)} of a URL.
    """
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, parts.port or default, path or "/"


class Target:
    """
    Where one share of the phones boots: a SIP port, and the servers the
    answers point at.
    """

    def __init__(self, sipPort: int, tftpPort: int) -> None:
        self.sipPort = sipPort
        self.tftpPort = tftpPort


class Phone:
    """
    One simulated phone's state.
    """

    __slots__ = ("n", "spa", "mac", "address", "target", "started", "done", "lost", "sock", "fd", "stage",
                 "tries", "timer", "message", "peer", "block", "chunks", "pending", "url", "buffer",
                 "files", "accounts", "httpTries", "notified")

    def __init__(self, n: int, spa: bool, target: Target) -> None:
        self.n = n
        self.spa = spa
        self.mac = phoneMAC(n, spa)
        self.address = phoneAddress(n)
        self.target = target
        self.started = 0.0
        self.done = 0.0
        self.lost = ""
        self.sock = None
        self.fd = -1
        self.stage = ""
        self.tries = 0
        self.timer = 0
        self.message = b""
        self.peer = None
        self.block = 0
        self.chunks: list[bytes] = []
        self.pending: list[str] = []
        self.url = ""
        self.buffer = bytearray()
        self.files: dict[str, bytes] = {}
        self.accounts = False
        self.httpTries = 0
        self.notified = 0.0


class Storm:
    """
    The load generator: phones started at C{rate}, their sockets on one
    epoll loop, their timers on one heap.
    """

    def __init__(self, phones: int, rate: float, share: float, targets: list[Target], keep: bool) -> None:
        self.rate = rate
        self.phones = [Phone(n, isSPA(n, share), targets[n % len(targets)]) for n in range(phones)]
        self.keep = keep
        self.epoll = select.epoll()
        self.byFD: dict[int, Phone] = {}
        self.timers: list = []
        self.timerSeq = 0
        self.tag = os.urandom(4).hex()
        self.counts = {"SUBSCRIBE resent": 0, "HTTP tries again": 0, "TFTP resent": 0}
        self.active = 0

    # -- the loop

    def run(self, cap: float) -> float:
        """
        Start every phone on its schedule and run until each is done or
        lost, at most C{cap} seconds after the last start.

        @return: the monotonic time the first phone started.
        """
        start = time.monotonic() + 0.2
        total = len(self.phones)
        started = 0
        timers, epoll, byFD = self.timers, self.epoll, self.byFD
        end = start + total / self.rate + cap
        while True:
            now = time.monotonic()
            while started < total and start + started / self.rate <= now:
                self._begin(self.phones[started], now)
                started += 1
            while timers and timers[0][0] <= now:
                _, _, phone, seq, action = heapq.heappop(timers)
                if phone.timer == seq and not phone.done and not phone.lost:
                    action(phone, now)
            if started == total and not self.active:
                break
            if now >= end:
                for phone in self.phones:
                    if not phone.done and not phone.lost:
                        self._lose(phone, "not provisioned by the end of the run")
                break
            wake = end
            if started < total:
                wake = min(wake, start + started / self.rate)
            if timers:
                wake = min(wake, timers[0][0])
            for fd, events in epoll.poll(max(0.0, min(0.05, wake - time.monotonic()))):
                phone = byFD.get(fd)
                if phone is not None:
                    self._ready(phone)
        return start

    def _after(self, phone: Phone, delay: float, action) -> None:
        self.timerSeq += 1
        phone.timer = self.timerSeq
        heapq.heappush(self.timers, (time.monotonic() + delay, self.timerSeq, phone, self.timerSeq, action))

    def _watch(self, phone: Phone, sock, events: int) -> None:
        self._unwatch(phone)
        phone.sock = sock
        phone.fd = sock.fileno()
        self.byFD[phone.fd] = phone
        self.epoll.register(phone.fd, events)

    def _unwatch(self, phone: Phone) -> None:
        if phone.sock is not None:
            self.byFD.pop(phone.fd, None)
            try:
                self.epoll.unregister(phone.fd)
            except OSError:
                pass
            phone.sock.close()
            phone.sock = None
            phone.fd = -1

    def _ready(self, phone: Phone) -> None:
        stage = phone.stage
        if stage == "sip":
            self._sipReceived(phone)
        elif stage == "connect":
            self._connected(phone)
        elif stage == "http":
            self._httpReceived(phone)
        elif stage == "tftp":
            self._tftpReceived(phone)

    def _finish(self, phone: Phone, now: float) -> None:
        phone.done = now
        phone.timer = 0
        phone.stage = ""
        self._unwatch(phone)
        self.active -= 1
        if not self.keep:
            phone.files = {}

    def _lose(self, phone: Phone, reason: str) -> None:
        phone.lost = reason
        phone.timer = 0
        phone.stage = ""
        self._unwatch(phone)
        self.active -= 1

    def _udp(self, phone: Phone):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.bind((phone.address, 0))
        return sock

    def _begin(self, phone: Phone, now: float) -> None:
        phone.started = now
        self.active += 1
        if phone.spa:
            self._tftpStart(phone, SPA_FIRST, HOST, phone.target.tftpPort)
        else:
            self._sipStart(phone)

    # -- SIP

    def _sipStart(self, phone: Phone) -> None:
        sock = self._udp(phone)
        port = sock.getsockname()[1]
        phone.message = _SUBSCRIBE.format(mac=phone.mac, server=HOST, host=phone.address, port=port,
                                          n=phone.n, tag=self.tag).encode()
        phone.stage = "sip"
        phone.tries = 0
        self._watch(phone, sock, select.EPOLLIN)
        self._sipSend(phone, 0.0)

    def _sipSend(self, phone: Phone, now: float) -> None:
        try:
            phone.sock.sendto(phone.message, (HOST, phone.target.sipPort))
        except OSError:
            pass
        interval = min(T1 * 2 ** phone.tries, T2)
        phone.tries += 1
        if phone.tries > 1:
            self.counts["SUBSCRIBE resent"] += 1
        if interval < self._timerF(phone):
            self._after(phone, interval, self._sipSend)
        else:
            self._after(phone, self._timerF(phone), lambda p, now: self._lose(p, "no answer to the SUBSCRIBE"))

    @staticmethod
    def _timerF(phone: Phone) -> float:
        """
        Seconds left before the phone gives its SUBSCRIBE up.
        """
        return max(0.0, phone.started + TIMER_F - time.monotonic())

    def _sipReceived(self, phone: Phone) -> None:
        while phone.stage == "sip":
            try:
                data, source = phone.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if data.startswith(b"SIP/2.0 "):
                if data.startswith(b"SIP/2.0 2"):
                    # A final answer: no more resends; the NOTIFY may come
                    # until timer F.
                    self._after(phone, self._timerF(phone), lambda p, now: self._lose(p, "no NOTIFY"))
                else:
                    self._lose(phone, "SUBSCRIBE answered " + data[8:11].decode("latin-1"))
                continue
            if data.startswith(b"NOTIFY "):
                phone.notified = time.monotonic()
                try:
                    phone.sock.sendto(okFor(data), source)
                except OSError:
                    pass
                phone.url = data.partition(b"\r\n\r\n")[2].strip().decode("latin-1")
                self.keepFile(phone, "notify", phone.url.encode())
                phone.pending = [phone.url]
                self._httpNext(phone)

    def keepFile(self, phone: Phone, name: str, content: bytes) -> None:
        if self.keep:
            phone.files[name] = content

    # -- HTTP

    def _httpNext(self, phone: Phone) -> None:
        phone.httpTries = 0
        self._httpConnect(phone, 0.0)

    def _httpConnect(self, phone: Phone, now: float) -> None:
        host, port, _ = hostPort(phone.pending[0], 80)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_IP, _BIND_NO_PORT, 1)
        sock.bind((phone.address, 0))
        phone.httpTries += 1
        phone.buffer = bytearray()
        err = sock.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            self._httpFailed(phone, errno.errorcode.get(err, str(err)))
            return
        phone.stage = "connect"
        self._watch(phone, sock, select.EPOLLOUT)
        self._after(phone, HTTP_TRY_TIMEOUT, lambda p, now: self._httpFailed(p, "timeout"))

    def _httpFailed(self, phone: Phone, why: str) -> None:
        self._unwatch(phone)
        if phone.httpTries > len(HTTP_RETRIES):
            self._lose(phone, f"HTTP {why} {phone.httpTries} times")
            return
        self.counts["HTTP tries again"] += 1
        phone.stage = "wait"
        self._after(phone, HTTP_RETRIES[phone.httpTries - 1], self._httpConnect)

    def _connected(self, phone: Phone) -> None:
        err = phone.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._httpFailed(phone, errno.errorcode.get(err, str(err)))
            return
        host, port, path = hostPort(phone.pending[0], 80)
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   f"User-Agent: {_USER_AGENT.format(mac=phone.mac)}\r\nConnection: close\r\n\r\n").encode()
        try:
            phone.sock.send(request)
        except OSError as e:
            self._httpFailed(phone, errno.errorcode.get(e.errno, str(e)))
            return
        phone.stage = "http"
        self.epoll.modify(phone.fd, select.EPOLLIN)

    def _httpReceived(self, phone: Phone) -> None:
        while True:
            try:
                data = phone.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                self._httpFailed(phone, errno.errorcode.get(e.errno, str(e)))
                return
            if not data:
                break
            phone.buffer += data
        head, _, body = bytes(phone.buffer).partition(b"\r\n\r\n")
        if not head:
            self._httpFailed(phone, "closed before answering")
            return
        status = head[9:12]
        if status != b"200":
            self._unwatch(phone)
            self._lose(phone, f"HTTP {status.decode('latin-1')} for {phone.pending[0]}")
            return
        url = phone.pending.pop(0)
        self.keepFile(phone, url, body)
        self._unwatch(phone)
        if b"<setting-files" in body[:200]:
            phone.pending.extend(u.decode("latin-1").replace("&amp;", "&") for u in _FILE_URL.findall(body))
        elif b"<settings" in body[:200]:
            phone.accounts = phone.accounts or b"<user_name idx=\"1\"" in body
        if phone.pending:
            self._httpNext(phone)
        else:
            self._finish(phone, time.monotonic())

    # -- TFTP

    def _tftpStart(self, phone: Phone, name: str, host: str, port: int) -> None:
        sock = self._udp(phone)
        phone.url = name
        phone.message = b"\x00\x01" + name.encode() + b"\x00octet\x00"
        phone.peer = (host, port)
        phone.block = 1
        phone.chunks = []
        phone.tries = 0
        phone.stage = "tftp"
        self._watch(phone, sock, select.EPOLLIN)
        self._tftpSend(phone, 0.0)

    def _tftpResend(self, phone: Phone, now: float) -> None:
        self.counts["TFTP resent"] += 1
        self._tftpSend(phone, now)

    def _tftpSend(self, phone: Phone, now: float) -> None:
        try:
            phone.sock.sendto(phone.message, phone.peer)
        except OSError:
            pass
        if phone.tries >= len(TFTP_RETRIES):
            self._after(phone, TFTP_RETRIES[-1],
                        lambda p, now: self._lose(p, f"TFTP {p.url}: no answer"))
        else:
            self._after(phone, TFTP_RETRIES[phone.tries], self._tftpResend)
        phone.tries += 1

    def _tftpReceived(self, phone: Phone) -> None:
        while phone.stage == "tftp":
            try:
                data, source = phone.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # an ICMP error: the next resend tries again
            if len(data) < 4:
                continue
            opcode, block = struct.unpack_from("!HH", data)
            if opcode == 5:
                self._lose(phone, f"TFTP {phone.url}: ERROR {block} {data[4:-1].decode('latin-1')}")
                return
            if opcode != 3:
                continue
            if block != phone.block & 0xFFFF:
                continue  # a duplicate: its ACK went already
            phone.peer = source
            phone.chunks.append(data[4:])
            phone.message = struct.pack("!HH", 4, block)
            phone.tries = 0
            try:
                phone.sock.sendto(phone.message, source)
            except OSError:
                pass
            phone.block += 1
            if len(data) - 4 < 512:
                self._tftpDone(phone, b"".join(phone.chunks))
            else:
                phone.tries = 1
                self._after(phone, TFTP_RETRIES[0], self._tftpResend)

    def _tftpDone(self, phone: Phone, content: bytes) -> None:
        self.keepFile(phone, phone.url, content)
        self._unwatch(phone)
        if phone.url == SPA_FIRST:
            rule = _PROFILE_RULE.search(content)
            if rule is None:
                self._lose(phone, f"TFTP {phone.url} names no Profile_Rule")
                return
            host, port, path = hostPort(rule.group(1).decode("latin-1").replace("$MA", phone.mac.lower()), 69)
            self._tftpStart(phone, path.lstrip("/"), host, port)
        else:
            phone.accounts = b"<User_ID_1_" in content
            self._finish(phone, time.monotonic())


def figures(storm: Storm, start: float) -> dict:
    """
    What one storm shows.
    """
    phones = storm.phones
    done = [p for p in phones if p.done]
    latencies = sorted(p.done - p.started for p in done)
    notified = sorted(p.notified - p.started for p in done if p.notified)
    fetching = sorted(p.done - p.notified for p in done if p.notified)
    count = len(latencies)
    reasons: dict[str, int] = {}
    for p in phones:
        if p.lost:
            reason = re.sub(r"\d{3,}", "N", re.sub(r"spa[0-9a-f]{12}|[0-9A-F]{12}", "MAC", p.lost))
            reasons[reason] = reasons.get(reason, 0) + 1
    return {
        "phones": len(phones),
        "completed": count,
        "lost": len(phones) - count,
        "reasons": reasons,
        "accounts": sum(1 for p in done if p.accounts),
        "arrivals": (phones[-1].started - start) if phones else 0.0,
        "wall": (max(p.done for p in done) - start) if done else float("nan"),
        "p50": latencies[count // 2] if count else float("nan"),
        "p99": latencies[min(count - 1, int(count * 0.99))] if count else float("nan"),
        "counts": dict(storm.counts),
        "notifyP50": _median(notified),
        "fetchP50": _median(fetching),
    }


def _median(values: list[float]) -> float:
    return values[len(values) // 2] if values else float("nan")


def peakRSS(pid: int) -> int:
    """
    C{VmHWM} of C{pid} in bytes (0 when it is gone).
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def treeCPU(pids: list[int]) -> tuple[float, float]:
    """
    C{(user, system)} CPU seconds of the process trees of C{pids}, with
    their reaped children's (tftpd-hpa forks one per transfer).
    """
    tick = os.sysconf("SC_CLK_TCK")
    totalUser = totalSystem = 0.0
    for pid in pids:
        user, system = cpuSeconds(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
            user += int(fields[13]) / tick
            system += int(fields[14]) / tick
        except OSError:
            pass
        totalUser += user
        totalSystem += system
    return totalUser, totalSystem


def idleAfter(pids: list[int], since: float, limit: float = 60.0, window: float = 0.5) -> tuple[float, float]:
    """
    Wait until the servers use less than 5 % of a CPU over C{window}
    seconds; return when they went idle (seconds after C{since}) and their
    CPU seconds then.
    """
    deadline = time.monotonic() + limit
    last = sum(treeCPU(pids))
    while True:
        time.sleep(window)
        now = time.monotonic()
        cpu = treeCPU(pids)
        if sum(cpu) - last < 0.05 * window or now > deadline:
            return now - window - since, cpu
        last = sum(cpu)


def runStorm(targets: list[Target], pids: list[int], args, keep: bool, profile: str = "",
             database: "Database | None" = None) -> dict:
    """
    One storm against C{targets}; the figures, the servers' CPU, RSS and
    idle time, and the storm (its phones' files when C{keep}).

    @param profile: a path to record the first server's stacks into with
        py-spy (collapsed), or C{""}.
    @param database: the PostgreSQL server behind them, whose CPU and
        transactions are counted too, or C{None}.
    """
    storm = Storm(args.phones, args.rate, args.spa_share, targets, keep)
    spy = None
    if profile:
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(pids[0]), "--rate", "200", "--format", "raw",
                                "--gil", "--output", profile], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    before = treeCPU(pids)
    databaseBefore = database.counters() if database is not None else None
    generatorBefore = sum(os.times()[:2])
    start = storm.run(args.cap)
    generator = sum(os.times()[:2]) - generatorBefore
    idle, after = idleAfter(pids, start)
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    result = figures(storm, start)
    result.update(serverCPU=sum(after) - sum(before), serverUser=after[0] - before[0],
                  serverSystem=after[1] - before[1], rss=sum(peakRSS(pid) for pid in pids), idle=idle,
                  generatorCPU=generator, storm=storm)
    if database is not None:
        cpu, transactions = (now - then for now, then in zip(database.counters(), databaseBefore))
        result.update(databaseCPU=cpu, transactions=transactions)
    return result


class Database:
    """
    The test PostgreSQL of C{--store postgresql}: the CPU of its processes
    (the postmaster's tree, C{/proc}) and the transactions committed in the
    storm's database (C{pg_stat_database}).
    """

    def __init__(self, server, name: str) -> None:
        self.server = server
        self.name = name
        with open(os.path.join(server.dataDir, "postmaster.pid")) as f:
            self.pid = int(f.readline())

    def counters(self) -> tuple[float, int]:
        """
        C{(CPU seconds, transactions committed)} so far.
        """
        with self.server.connect(self.name) as connection:
            # A new snapshot of the statistics (they are cached per transaction).
            connection.execute("SELECT pg_stat_clear_snapshot()")
            (committed,) = connection.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (self.name,)).fetchone()
        return sum(treeCPU([self.pid])), committed


class Snomprov:
    """
    C{--daemons} real daemons on one store, each with SIP, HTTP and TFTP
    on its own loopback ports.
    """

    name = "snomprov"

    def __init__(self, directory: str, args, storeURL: str) -> None:
        self.daemons = []
        for index in range(args.daemons):
            where = os.path.join(directory, f"daemon-{index + 1}")
            os.makedirs(where)
            # The [tftp] table is the last the helper writes: its keys first.
            try:
                self.daemons.append(Daemon(where, httpConfig=args.http, sipConfig=args.sip,
                                           extraConfig=args.tftp + f'[store]\nurl = "{storeURL}"\n'))
            except subprocess.CalledProcessError:
                raise SystemExit(f"storm: the daemon cannot open the store {maskURL(storeURL)} "
                                 f"(its reason above)") from None
        for daemon in self.daemons:
            daemon.twistdOptions = ["-r", "epoll"]
        self.daemons[0].importCSV(devicesCSV(args.phones, args.spa_share))
        self.targets = [Target(d.sipPort, d.tftpPort) for d in self.daemons]

    def start(self) -> None:
        for daemon in self.daemons:
            daemon.start(timeout=60)

    @property
    def pids(self) -> list[int]:
        return [d.process.pid for d in self.daemons]

    def stop(self) -> None:
        for daemon in self.daemons:
            daemon.stop()


class Bare:
    """
    The baselines: C{bare_responder.py}, C{twistd web --path} and tftpd-hpa,
    serving what snomprov served.
    """

    name = "bare"

    def __init__(self, directory: str, args) -> None:
        self.directory = directory
        self.sipPort = freePort(socket.SOCK_DGRAM)
        self.httpPort = freePort()
        self.tftpPort = freePort(socket.SOCK_DGRAM)
        self.baseURL = f"http://{HOST}:{self.httpPort}"
        self.backlog = args.backlog
        self.targets = [Target(self.sipPort, self.tftpPort)]
        self.processes: list[subprocess.Popen] = []

    def fill(self, storm: Storm, snomprov: Snomprov) -> None:
        """
        Write the files snomprov served into the baselines' directories,
        its addresses replaced by theirs.
        """
        web, tftp = os.path.join(self.directory, "web"), os.path.join(self.directory, "tftp")
        os.makedirs(os.path.join(web, "snom"), exist_ok=True)
        os.makedirs(tftp, exist_ok=True)
        os.chmod(self.directory, 0o755)
        os.chmod(tftp, 0o755)
        bases = [d.baseURL.encode() for d in snomprov.daemons]
        tftpServers = [f"tftp://{HOST}:{d.tftpPort}/".encode() for d in snomprov.daemons]
        ours = self.baseURL.encode()
        for phone in storm.phones:
            for url, content in phone.files.items():
                if url == "notify":
                    continue
                for base in bases:
                    content = content.replace(base, ours)
                for server in tftpServers:
                    content = content.replace(server, f"tftp://{HOST}:{self.tftpPort}/".encode())
                if phone.spa:
                    path = os.path.join(tftp, url)
                else:
                    # static.File answers a path whatever its query (a token)
                    path = os.path.join(web, *hostPort(url, 80)[2].partition("?")[0].lstrip("/").split("/"))
                with open(path, "wb") as f:
                    f.write(content)
                os.chmod(path, 0o644)

    def start(self) -> None:
        env = _env()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
        self.processes = [
            subprocess.Popen([sys.executable, os.path.join(ROOT, "bench", "bare_responder.py"), "--host", HOST,
                              "--port", str(self.sipPort), "--base-url", self.baseURL], env=env, **quiet),
            subprocess.Popen([*twistdCommand(), "-n", "-r", "epoll", "--pidfile=", "--logfile",
                              os.path.join(self.directory, "web.log"), "web", "--path",
                              os.path.join(self.directory, "web"), "--listen",
                              f"tcp:{self.httpPort}:interface={HOST}:backlog={self.backlog}"],
                             cwd=ROOT, env=env, **quiet),
            subprocess.Popen([shutil.which("in.tftpd") or "/usr/sbin/in.tftpd", "--foreground", "--listen",
                              "--address", f"{HOST}:{self.tftpPort}", "--secure",
                              os.path.join(self.directory, "tftp")], **quiet),
        ]
        waitFor(lambda: _tcpUp(self.httpPort), "static.File")
        waitFor(lambda: _tftpUp(self.tftpPort), "tftpd-hpa")

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def waitFor(ready, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


def _tcpUp(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def _tftpUp(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        s.sendto(b"\x00\x01no-such-file\x00octet\x00", (HOST, port))
        try:
            s.recvfrom(1024)
            return True
        except OSError:
            return False


def fillMissing(storm: Storm) -> int:
    """
    Give each phone lost in the storm the files of a provisioned phone of
    its kind, with its own MAC, so that the baselines serve every phone.

    @return: how many phones were given files so.
    """
    models = {}
    for phone in storm.phones:
        if phone.done:
            models.setdefault(phone.spa, phone)
    filled = 0
    for phone in storm.phones:
        if phone.done:
            continue
        model = models.get(phone.spa)
        if model is None:
            raise RuntimeError("no phone of a kind was provisioned: the baselines have nothing to serve")
        swaps = [(model.mac, phone.mac), (model.mac.lower(), phone.mac.lower())]

        def swapped(text):
            for old, new in swaps:
                text = text.replace(old, new) if isinstance(text, str) else text.replace(old.encode(), new.encode())
            return text

        phone.files = {swapped(name): swapped(content) for name, content in model.files.items()}
        filled += 1
    return filled


def storeURLFor(args, directory: str):
    """
    The store's URL, and the L{Database} to stop afterwards (or
    C{None}).
    """
    if args.store == "postgresql":
        from pgserver import PostgresServer

        server = PostgresServer().start()
        return server.createDatabase("storm"), Database(server, "storm")
    if args.store == "sqlite":
        return f"sqlite:{os.path.join(directory, 'shared.sqlite')}", None
    return args.store, None


def report(name: str, f: dict) -> None:
    reasons = "; ".join(f"{count} {reason}" for reason, count in sorted(f["reasons"].items())) or "none"
    counts = ", ".join(f"{what} {count}" for what, count in f["counts"].items())
    print(f"{name}:\n"
          f"  completed {f['completed']} of {f['phones']}, lost {f['lost']} (why: {reasons}); "
          f"with accounts {f['accounts']}\n"
          f"  wall {f['wall']:.2f} s (arrivals {f['arrivals']:.2f} s); servers idle {f['idle']:.2f} s "
          f"after the first phone\n"
          f"  first packet -> settings p50 {f['p50'] * 1000:.1f} ms, p99 {f['p99'] * 1000:.1f} ms "
          f"(snom: SUBSCRIBE -> NOTIFY p50 {f['notifyP50'] * 1000:.1f} ms, NOTIFY -> settings p50 "
          f"{f['fetchP50'] * 1000:.1f} ms); {counts}\n"
          f"  server CPU {f['serverCPU']:.2f} s (user {f['serverUser']:.2f}, system {f['serverSystem']:.2f}), peak RSS {f['rss'] / 1e6:.0f} MB; "
          f"generator CPU {f['generatorCPU']:.2f} s", flush=True)
    if "databaseCPU" in f:
        print(f"  PostgreSQL CPU {f['databaseCPU']:.2f} s, {f['transactions']} transactions committed "
              f"({f['transactions'] / f['phones']:.3f} per phone)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=2000.0, help="phones booting per second")
    parser.add_argument("--spa-share", type=float, default=0.1, help="share of SPA phones (TFTP)")
    parser.add_argument("--store", default="sqlite",
                        help="sqlite (a file in the run's directory), postgresql (a test server), "
                             "or a [store] url")
    parser.add_argument("--daemons", type=int, default=1, help="daemons sharing the store")
    parser.add_argument("--servers", default="snomprov,bare", help="snomprov, or snomprov,bare")
    parser.add_argument("--cap", type=float, default=60.0,
                        help="seconds after the last phone's start before the rest count as lost")
    parser.add_argument("--profile", default="", metavar="FILE",
                        help="record the (first) daemon with py-spy into FILE (collapsed stacks)")
    parser.add_argument("--backlog", type=int, default=None,
                        help="the baseline HTTP server's listen backlog (default: snomprov's default)")
    for table in ("http", "sip", "tftp"):
        parser.add_argument(f"--{table}-option", action="append", default=[], metavar="KEY=VALUE",
                            help=f"a [{table}] key for the daemons, VALUE in TOML; repeatable")
    args = parser.parse_args(argv)
    if args.backlog is None:
        from snomprov.config import HTTPConfig

        args.backlog = HTTPConfig.backlog
    for table in ("http", "sip", "tftp"):
        setattr(args, table, "".join(f"{key.strip()} = {value.strip()}\n" for key, _, value in
                                     (option.partition("=") for option in getattr(args, f"{table}_option"))))
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    spas = sum(1 for n in range(args.phones) if isSPA(n, args.spa_share))
    print(f"boot storm: {args.phones} phones ({args.phones - spas} snom by PnP + HTTP, {spas} SPA by TFTP) "
          f"at {args.rate:.0f}/s, each from its own 127.x address; store {args.store}, "
          f"{args.daemons} daemon(s); {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="storm-") as directory:
        storeURL, pg = storeURLFor(args, directory)
        try:
            snomprov = Snomprov(os.path.join(directory, "snomprov"), args, storeURL)
            snomprov.start()
            try:
                results["snomprov"] = runStorm(snomprov.targets, snomprov.pids, args, keep="bare" in servers,
                                               profile=args.profile, database=pg)
                report(f"snomprov ({args.store}, {args.daemons} daemon(s))", results["snomprov"])
                if "bare" in servers:
                    filled = fillMissing(results["snomprov"]["storm"])
                    if filled:
                        print(f"  (the baselines serve the {filled} lost phones the files of a provisioned one)")
            finally:
                snomprov.stop()
        finally:
            if pg is not None:
                pg.server.destroy()
        if "bare" in servers:
            bare = Bare(os.path.join(directory, "bare"), args)
            bare.fill(results["snomprov"]["storm"], snomprov)
            results["snomprov"]["storm"] = None
            bare.start()
            try:
                results["bare"] = runStorm(bare.targets, bare.pids, args, keep=False)
            finally:
                bare.stop()
            report(f"bare (bare_responder.py, static.File backlog {args.backlog}, tftpd-hpa)", results["bare"])
    if "bare" in results:
        ours, theirs = results["snomprov"], results["bare"]
        ratios = ", ".join(f"{what} {ours[key] / theirs[key]:.2f}" if theirs[key] else f"{what} -"
                           for what, key in (("wall", "wall"), ("p50", "p50"), ("p99", "p99"),
                                             ("server CPU", "serverCPU"), ("peak RSS", "rss")))
        print(f"ratios snomprov / bare: {ratios}")
    print(f"snomprov: {results['snomprov']['completed']} provisioned, {results['snomprov']['lost']} lost, "
          f"wall {results['snomprov']['wall']:.2f} s", flush=True)
    return 0 if results["snomprov"]["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
