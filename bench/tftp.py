#!/usr/bin/env python3
"""
Benchmark snomprov's TFTP server against Debian's tftpd-hpa, same bytes, same
run, same clients, on 127.0.0.1.

    .venv/bin/python bench/tftp.py [--small-count N] [--repeat R]

Both servers serve a ~1 KB profile and a 10 MB firmware file.  For each client
(atftp asking for blksize 1468 and windowsize 16; tftp-hpa lock-step at 512;
a minimal in-process lock-step client that avoids process start-up costs) it
prints transfers/s for the profile, MB/s for the firmware, and the ratio
ours / tftpd-hpa.  Every download is checked byte for byte.  tftpd-hpa is
started as C{in.tftpd -L -u root -s DIR -a 127.0.0.1:PORT}, so the benchmark
runs as root.  DESIGN.md §6 asks for >= 50 % of tftpd-hpa's firmware
throughput.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HOST = "127.0.0.1"
PROFILE = b"<flat-profile>\n" + b"<Resync_Periodic>3600</Resync_Periodic>\n" * 25
FIRMWARE_SIZE = 10 * 1024 * 1024


def serveOurs(directory: str) -> None:
    """
    Child-process mode: serve every file of C{directory} (read into memory
    once; names are dictionary keys, not paths) on an ephemeral port, print the
    port, run until killed.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from twisted.internet import reactor
    from twisted.internet.defer import succeed

    from snomprov.tftp.protocol import BytesSource, TFTPServerProtocol

    files = {p.name: BytesSource(p.read_bytes()) for p in Path(directory).iterdir()}
    server = TFTPServerProtocol(
        lambda name, address: succeed(files.get(name)),
        reactor,
        maxTransfers=1000,
        perClientRate=None,
        listenInterface=HOST,
    )
    port = reactor.listenUDP(0, server, interface=HOST)
    print(port.getHost().port, flush=True)
    reactor.run()


def freePort() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rawFetch(port: int, name: str) -> bytes:
    """
    A minimal lock-step RFC 1350 client (octet, no options).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(b"\x00\x01" + name.encode() + b"\x00octet\x00", (HOST, port))
        chunks, expected = [], 1
        while True:
            packet, peer = s.recvfrom(65536)
            opcode, block = struct.unpack_from("!HH", packet)
            if opcode != 3:
                raise RuntimeError(f"unexpected reply {packet[:40]!r}")
            if block == expected & 0xFFFF:
                chunks.append(packet[4:])
                expected += 1
            s.sendto(struct.pack("!HH", 4, block), peer)
            if block == (expected - 1) & 0xFFFF and len(packet) < 516:
                return b"".join(chunks)


def waitReady(port: int) -> None:
    """
    Wait until a server answers on C{port} (ERROR 1 for a missing name).
    """
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            s.sendto(b"\x00\x01no-such-file\x00octet\x00", (HOST, port))
            try:
                s.recvfrom(1024)
                return
            except OSError:
                pass
    raise RuntimeError(f"no TFTP server answering on {port}")


def commandFor(client: str, port: int, name: str, out: str) -> list[str]:
    if client == "atftp":
        return ["atftp", "--option", "blksize 1468", "--option", "windowsize 16",
                "--get", "-r", name, "-l", out, HOST, str(port)]
    return ["tftp", "-m", "binary", HOST, str(port), "-c", "get", name, out]


def clientFetch(client: str, port: int, name: str, out: Path) -> bytes:
    if client == "raw":
        return rawFetch(port, name)
    subprocess.run(commandFor(client, port, name, str(out)), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out.read_bytes()


def measure(client, port, name, expected, count, workers, scratch) -> float:
    """
    Fetch C{name} C{count} times with C{workers} in parallel; check every
    copy; return the elapsed seconds.
    """
    def one(i: int) -> None:
        data = clientFetch(client, port, name, scratch / f"{client}-{port}-{i}")
        if data != expected:
            raise RuntimeError(f"{client} got {len(data)} wrong bytes from port {port}")

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small-count", type=int, default=300,
                        help="profile downloads per client and server")
    parser.add_argument("--repeat", type=int, default=3,
                        help="firmware downloads per client and server (best is kept)")
    parser.add_argument("--workers", type=int, default=4,
                        help="parallel profile downloads")
    parser.add_argument("--clients", default="atftp,tftp,raw",
                        help="comma-separated subset of atftp,tftp,raw")
    parser.add_argument("--serve-ours", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_ours:
        serveOurs(args.serve_ours)
        return 0
    missing = [b for b in ("in.tftpd", "atftp", "tftp") if shutil.which(b) is None]
    if missing:
        print("missing: " + ", ".join(missing) + " (apt-get install tftpd-hpa atftp tftp-hpa)")
        return 2
    firmware = os.urandom(FIRMWARE_SIZE)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "srv"
        scratch = Path(tmp) / "out"
        root.mkdir()
        scratch.mkdir()
        (root / "spa942.cfg").write_bytes(PROFILE)
        (root / "firmware.bin").write_bytes(firmware)
        ours = subprocess.Popen([sys.executable, __file__, "--serve-ours", str(root)],
                                stdout=subprocess.PIPE, text=True)
        hpaPort = freePort()
        hpa = subprocess.Popen(["in.tftpd", "-L", "-u", "root", "-s", str(root),
                                "-a", f"{HOST}:{hpaPort}"])
        try:
            oursPort = int(ours.stdout.readline())
            waitReady(oursPort)
            waitReady(hpaPort)
            servers = {"ours": oursPort, "tftpd-hpa": hpaPort}
            print(f"profile {len(PROFILE)} B x {args.small_count} ({args.workers} parallel), "
                  f"firmware {FIRMWARE_SIZE} B best of {args.repeat}")
            print(f"{'client':<40}{'metric':<16}{'ours':>10}{'tftpd-hpa':>12}{'ratio':>8}")
            clients = {
                "atftp": "atftp blksize 1468 windowsize 16",
                "tftp": "tftp-hpa -m binary (512, lock-step)",
                "raw": "in-process lock-step (512, no spawn)",
            }
            for client in args.clients.split(","):
                label = clients[client]
                rate, speed = {}, {}
                for server, port in servers.items():
                    elapsed = measure(client, port, "spa942.cfg", PROFILE,
                                      args.small_count, args.workers, scratch)
                    rate[server] = args.small_count / elapsed
                    best = min(measure(client, port, "firmware.bin", firmware, 1, 1, scratch)
                               for _ in range(args.repeat))
                    speed[server] = FIRMWARE_SIZE / best / 1e6
                for metric, values in (("transfers/s", rate), ("MB/s", speed)):
                    print(f"{label:<40}{metric:<16}{values['ours']:>10.1f}"
                          f"{values['tftpd-hpa']:>12.1f}"
                          f"{values['ours'] / values['tftpd-hpa']:>8.2f}")
        finally:
            for process in (ours, hpa):
                process.terminate()
                process.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
