"""
A plug-and-play boot storm (DESIGN.md S{6}): simulated phones SUBSCRIBE at
a given rate against snomprov and against the bare reference responder
(C{bench/bare_responder.py}), in the same command, and the server CPU each
spends per exchange is compared.

Each simulated phone sends its SUBSCRIBE (a snom D785: distinct MAC and
Call-ID), expects the 200 and the NOTIFY, and answers the NOTIFY with 200
so that the server stops retransmitting.  Like a real phone it resends the
SUBSCRIBE when nothing at all came back (by default 1 s after the first, then
2 s after that).  A phone whose NOTIFY did not come within C{--deadline}
seconds of its first SUBSCRIBE is lost.

The generator is two processes sharing a few non-blocking UDP sockets on
127.0.0.1: one paces the pre-built SUBSCRIBEs (and the resends), the other
reads the answers and sends the 200s; they share the per-phone times through
anonymous shared memory.  Server CPU is C{utime + stime} of the server's
process tree from C{/proc}, read before the first SUBSCRIBE and after the
last deadline plus C{--settle} seconds (so batched store writes count).

Only 127.0.0.1 is ever used.

Run: C{.venv/bin/python bench/pnp_storm.py [--rate 10000 --duration 10]
[--servers snomprov,bare] [--sip-option poll_interval=0.005]
[--other 'CMD {port} {base_url}']}
"""

from __future__ import annotations

import argparse
import collections
import mmap
import multiprocessing
import os
import secrets
import selectors
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from daemon import Daemon, _env, freePort, twistdCommand  # noqa: E402

HOST = "127.0.0.1"

_SUBSCRIBE = (
    "SUBSCRIBE sip:MAC%3a{mac}@{host} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{branch};rport\r\n"
    "From: <sip:MAC%3a{mac}@{host}>;tag={n}\r\n"
    "To: <sip:MAC%3a{mac}@{host}>\r\n"
    "Call-ID: {n}-{tag}@{host}\r\n"
    "CSeq: 1 SUBSCRIBE\r\n"
    'Event: ua-profile;profile-type="device";vendor="snom";model="snomD785";version="10.1.54.13"\r\n'
    "Expires: 0\r\n"
    "Accept: application/url\r\n"
    "Contact: <sip:{host}:{port}>\r\n"
    "User-Agent: snomD785/10.1.54.13\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)

_ECHOED = {b"via", b"from", b"to", b"call-id", b"cseq", b"v", b"f", b"t", b"i"}


def macOf(n: int, phones: int) -> str:
    """
    The MAC of exchange C{n}: phone C{n mod phones}, in snom's OUI.
    """
    return f"000413{n % phones:06X}"


def okFor(notify: bytes) -> bytes:
    """
    The phone's C{200 OK} to a NOTIFY: its Via, From, To, Call-ID and CSeq.
    """
    head = notify.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    kept = [line for line in head[1:] if line.partition(b":")[0].strip().lower() in _ECHOED]
    return b"SIP/2.0 200 OK\r\n" + b"\r\n".join(kept) + b"\r\nContent-Length: 0\r\n\r\n"


def exchangeOf(data: bytes, tag: bytes) -> int:
    """
    The exchange number in a datagram's Call-ID (C{<n>-<tag>@...}), or -1.
    """
    start = data.find(b"\nCall-ID: ")
    if start < 0:
        start = data.find(b"\ni: ")
        if start < 0:
            return -1
        start += 4
    else:
        start += 10
    dash = data.find(b"-", start)
    if data[dash + 1:dash + 1 + len(tag)] != tag:
        return -1
    try:
        return int(data[start:dash])
    except ValueError:
        return -1


class Shared:
    """
    Per-exchange state in anonymous shared memory (inherited by the forked
    sender and receiver): when the first SUBSCRIBE went, when the 200 and
    the NOTIFY first came (0: not yet; seconds on C{time.monotonic}).
    """

    def __init__(self, total: int) -> None:
        self._maps = [mmap.mmap(-1, max(8, 8 * total)) for _ in range(3)]
        self.sent, self.ok, self.notified = (memoryview(m).cast("d") for m in self._maps)


def _sender(shared: Shared, socks, messages, start: float, rate: float, retries, dest, results) -> None:
    """
    Send SUBSCRIBE C{n} at C{start + n / rate}; resend it after each delay
    of C{retries} while nothing came back for it.
    """
    total = len(messages)
    sent, ok, notified = shared.sent, shared.ok, shared.notified
    queues = [collections.deque() for _ in retries]
    count = len(socks)
    sends = [s.sendto for s in socks]
    failed = resent = n = 0
    while time.monotonic() < start:
        time.sleep(0.001)
    while n < total or any(queues):
        now = time.monotonic()
        due = min(total, int((now - start) * rate) + 1)
        while n < due:
            try:
                sends[n % count](messages[n], dest)
            except OSError:
                failed += 1
            sent[n] = now
            if queues:
                queues[0].append((now + retries[0], n))
            n += 1
        for stage, queue in enumerate(queues):
            while queue and queue[0][0] <= now:
                _, m = queue.popleft()
                if ok[m] or notified[m]:
                    continue
                try:
                    sends[m % count](messages[m], dest)
                except OSError:
                    failed += 1
                resent += 1
                if stage + 1 < len(queues):
                    queues[stage + 1].append((now + retries[stage + 1], m))
        time.sleep(0.0005)
    results.put(("sender", failed, resent, sum(os.times()[:2])))


def _receiver(shared: Shared, socks, tag: bytes, macs, until: float, results) -> None:
    """
    Note the first 200 and NOTIFY of each exchange; answer every NOTIFY with
    200; stop at C{until}.
    """
    ok, notified = shared.ok, shared.notified
    selector = selectors.DefaultSelector()
    for s in socks:
        selector.register(s, selectors.EVENT_READ)
    notifies = wrongURL = other = 0
    while True:
        now = time.monotonic()
        if now >= until:
            break
        for key, _ in selector.select(min(0.1, until - now)):
            s = key.fileobj
            now = time.monotonic()
            while True:
                try:
                    data, source = s.recvfrom(65535)
                except BlockingIOError:
                    break
                n = exchangeOf(data, tag)
                if n < 0:
                    other += 1
                elif data.startswith(b"NOTIFY "):
                    notifies += 1
                    if not notified[n]:
                        notified[n] = now
                        if not data.rstrip().endswith(macs[n] + b".xml"):
                            wrongURL += 1
                    try:
                        s.sendto(okFor(data), source)
                    except OSError:
                        pass
                elif data.startswith(b"SIP/2.0 200 "):
                    if not ok[n]:
                        ok[n] = now
                else:
                    other += 1
    results.put(("receiver", notifies, wrongURL, other, sum(os.times()[:2])))


def cpuSeconds(pid: int) -> tuple[float, float]:
    """
    C{(utime, stime)} of C{pid} and its descendants, in seconds: the CPU
    spent in the process itself and in the kernel on its behalf.
    """
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = collections.defaultdict(list)
    times: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(entry))
        times[int(entry)] = (int(fields[11]), int(fields[12]))
    user = system = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        u, s = times.get(p, (0, 0))
        user, system = user + u, system + s
        todo.extend(children.get(p, ()))
    return user / tick, system / tick


def probe(port: int, timeout: float = 30.0) -> None:
    """
    Wait until a SUBSCRIBE to C{port} is answered (and answer its NOTIFY).
    """
    tag = secrets.token_hex(4)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        s.settimeout(0.2)
        message = _SUBSCRIBE.format(mac="000413FFFFFF", host=HOST, port=s.getsockname()[1], n=0, tag=tag, branch=f"0s{tag}").encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.sendto(message, (HOST, port))
            try:
                while True:
                    data, source = s.recvfrom(65535)
                    if data.startswith(b"NOTIFY "):
                        s.sendto(okFor(data), source)
                        return
            except socket.timeout:
                continue
    raise RuntimeError(f"nothing answers SUBSCRIBEs on udp:{port}")


def runLoad(port: int, args) -> dict:
    """
    One storm against the server on udp:C{port}; the generator's figures.
    """
    total = int(args.rate * args.duration)
    tag = secrets.token_hex(4)
    socks = []
    for _ in range(args.sockets):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            s.setsockopt(socket.SOL_SOCKET, option, 8 << 20)
        s.bind((HOST, 0))
        s.setblocking(False)
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    macs = [macOf(n, args.phones) for n in range(total)]
    messages = [
        _SUBSCRIBE.format(mac=macs[n], host=HOST, port=ports[n % len(socks)], n=n, tag=tag, branch=f"{n}s{tag}").encode()
        for n in range(total)
    ]
    shared = Shared(total)
    start = time.monotonic() + 0.3
    until = start + total / args.rate + args.deadline + 0.5
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_sender, args=(shared, socks, messages, start, args.rate, args.retries,
                                              (HOST, port), results)),
        context.Process(target=_receiver, args=(shared, socks, tag.encode(), [m.encode() for m in macs],
                                                until, results)),
    ]
    for worker in workers:
        worker.start()
        if args.pin:
            os.sched_setaffinity(worker.pid, {0})
    reports = {}
    for _ in workers:
        report = results.get(timeout=args.duration * 4 + args.deadline + 120)
        reports[report[0]] = report[1:]
    for worker in workers:
        worker.join()
    for s in socks:
        s.close()
    latencies = sorted(
        shared.notified[n] - shared.sent[n] for n in range(total)
        if shared.notified[n] and shared.notified[n] - shared.sent[n] <= args.deadline
    )
    completed = len(latencies)
    last = max(shared.notified[n] for n in range(total)) if completed else start
    failed, resent, senderCPU = reports["sender"]
    notifies, wrongURL, other, receiverCPU = reports["receiver"]
    return {
        "offered": total,
        "offeredRate": total / max(1e-9, max(shared.sent[n] for n in range(total)) - start) if total > 1 else 0.0,
        "completed": completed,
        "completedRate": completed / max(1e-9, last - start),
        "lost": total - completed,
        "p50": latencies[completed // 2] if completed else float("nan"),
        "p99": latencies[min(completed - 1, int(completed * 0.99))] if completed else float("nan"),
        "resent": resent,
        "sendFailed": failed,
        "notifies": notifies,
        "wrongURL": wrongURL,
        "other": other,
        "generatorCPU": senderCPU + receiverCPU,
    }


class Server:
    """
    A responder under test: its command line, started on a free port.
    """

    def __init__(self, name: str, directory: str) -> None:
        self.name = name
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.port = freePort(socket.SOCK_DGRAM)
        self.baseURL = f"http://{HOST}:8080"
        self.process: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self, pin: bool) -> None:
        self.process = subprocess.Popen(self.argv(), cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        if pin:
            os.sched_setaffinity(self.process.pid, set(range(1, os.cpu_count() or 2)))
        probe(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Snomprov(Server):
    """
    The real daemon: C{twistd -n -r epoll snomprov}, SIP and HTTP only, the
    default SQLite store, the per-source rate limit lifted (every simulated
    phone is 127.0.0.1), and any C{[sip]} keys given (TOML lines).
    """

    def __init__(self, name: str, directory: str, store: str = "", sipKeys: str = "") -> None:
        super().__init__(name, directory)
        from test_pnp_interop import SIP_KEYS

        self.daemon = Daemon(directory, tftp=False, extraConfig=store, sipConfig=SIP_KEYS + sipKeys)
        self.port = self.daemon.sipPort
        self.baseURL = self.daemon.baseURL

    def argv(self) -> list[str]:
        return [*twistdCommand(), "-n", "--pidfile=", "-r", "epoll", "--logfile", self.daemon.logPath,
                "snomprov", "--config", self.daemon.configPath]


class Bare(Server):
    """
    C{bench/bare_responder.py}.
    """

    def argv(self) -> list[str]:
        return [sys.executable, os.path.join(ROOT, "bench", "bare_responder.py"), "--host", HOST,
                "--port", str(self.port), "--base-url", self.baseURL]


class Other(Server):
    """
    Any command line, with C{{port}} and C{{base_url}} filled in.
    """

    def __init__(self, name: str, directory: str, command: str) -> None:
        super().__init__(name, directory)
        self.command = command

    def argv(self) -> list[str]:
        return shlex.split(self.command.format(port=self.port, base_url=self.baseURL, host=HOST))


def measure(server: Server, args) -> dict:
    """
    Start C{server}, run the storm, read its CPU, stop it.
    """
    server.start(args.pin)
    spy = None
    try:
        if args.profile:
            spy = subprocess.Popen(["py-spy", "record", "--pid", str(server.process.pid), "--rate", "1000",
                                    "--format", "raw", "--duration", str(int(args.duration + 1)),
                                    "--output", os.path.join(args.profile, f"{server.name}.folded")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        before = cpuSeconds(server.process.pid)
        figures = runLoad(server.port, args)
        if spy is not None:
            spy.wait()
        time.sleep(args.settle)
        after = cpuSeconds(server.process.pid)
        figures["serverUser"] = after[0] - before[0]
        figures["serverSystem"] = after[1] - before[1]
        figures["serverCPU"] = figures["serverUser"] + figures["serverSystem"]
    finally:
        server.stop()
    figures["cpuPerExchange"] = figures["serverCPU"] / figures["completed"] if figures["completed"] else float("nan")
    return figures


def report(name: str, f: dict) -> None:
    """
    Print one server's figures.
    """
    print(f"{name}:\n"
          f"  offered {f['offered']} exchanges at {f['offeredRate']:.0f}/s\n"
          f"  completed {f['completed']} ({f['completedRate']:.0f}/s), lost {f['lost']}, "
          f"SUBSCRIBEs resent {f['resent']}, send errors {f['sendFailed']}\n"
          f"  SUBSCRIBE->NOTIFY p50 {f['p50'] * 1000:.1f} ms, p99 {f['p99'] * 1000:.1f} ms; "
          f"NOTIFYs received {f['notifies']}, wrong URL {f['wrongURL']}, unmatched {f['other']}\n"
          f"  server CPU {f['serverCPU']:.2f} s = {f['cpuPerExchange'] * 1e6:.1f} us/exchange "
          f"(user {f['serverUser']:.2f} s, system {f['serverSystem']:.2f} s); "
          f"generator CPU {f['generatorCPU']:.2f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=10000.0, help="SUBSCRIBEs (phones booting) per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of offered load")
    parser.add_argument("--phones", type=int, default=10000, help="distinct MACs (exchanges cycle through them)")
    parser.add_argument("--deadline", type=float, default=5.0, help="seconds for a phone's NOTIFY to come")
    parser.add_argument("--retries", default="1,2", help="seconds before each SUBSCRIBE resend (comma list)")
    parser.add_argument("--sockets", type=int, default=4, help="UDP sockets the phones share")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after the storm before reading CPU")
    parser.add_argument("--servers", default="snomprov,bare", help="comma list of snomprov, bare")
    parser.add_argument("--store", help="snomprov's [store] url (default: its default SQLite file)")
    parser.add_argument("--sip-option", action="append", default=[], metavar="KEY=VALUE",
                        help="a [sip] key for snomprov, VALUE in TOML (poll_interval=0.005); repeatable")
    parser.add_argument("--other", action="append", default=[],
                        help="another responder's command line ({port}, {base_url}, {host}); repeatable")
    parser.add_argument("--profile", metavar="DIR",
                        help="record each server with py-spy into DIR/<server>.folded (collapsed stacks)")
    parser.add_argument("--pin", action="store_true",
                        help="generator on CPU 0, the server on the others")
    args = parser.parse_args(argv)
    args.retries = [float(r) for r in args.retries.split(",") if r.strip()]
    print(f"PnP storm: {args.rate:.0f} SUBSCRIBE/s for {args.duration:.0f} s, {args.phones} phones, "
          f"deadline {args.deadline:.0f} s, resend after {args.retries} s, {os.cpu_count()} CPUs"
          f"{', pinned' if args.pin else ''}"
          f"{''.join(f', [sip] {option}' for option in args.sip_option)}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="pnp-storm-") as directory:
        store = f'[store]\nurl = "{args.store}"\n' if args.store else ""
        sipKeys = "".join(f"{key.strip()} = {value.strip()}\n"
                          for key, _, value in (option.partition("=") for option in args.sip_option))
        kinds = {"snomprov": lambda name, where: Snomprov(name, where, store, sipKeys), "bare": Bare}
        servers = [kinds[name.strip()](name.strip(), os.path.join(directory, name.strip()))
                   for name in args.servers.split(",") if name.strip()]
        servers += [Other(f"other-{i + 1}", os.path.join(directory, f"other-{i + 1}"), command)
                    for i, command in enumerate(args.other)]
        for server in servers:
            results[server.name] = measure(server, args)
            report(server.name, results[server.name])
    reference = results.get("bare")
    if reference and reference["completed"]:
        for name, figures in results.items():
            if name != "bare":
                print(f"server CPU per exchange, {name} / bare: "
                      f"{figures['cpuPerExchange'] / reference['cpuPerExchange']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
