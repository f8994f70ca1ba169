"""
Soak (issue 15): boot storms of a fleet of phones, again and again, with a
share of hostile traffic (garbage datagrams to SIP and TFTP, oversized and
broken SIP, SIP naming a third host in Via and Contact, traversal names over
HTTP and TFTP), against the real daemon, for a bounded time.  Every few
seconds it samples the daemon's resident memory, open files
(C{/proc/PID/fd}) and store size (the SQLite file with its WAL), and at the
end reports each one's growth per hour (the least-squares slope of the
samples after the first tenth of the run: start-up and first caches are not
growth).

The run fails (exit 1) when a phone of the last round was not provisioned,
when a traversal name leaked a file, when the daemon sent anything to a
third host, or when the daemon died.

Only loopback addresses are used (phones from 127.1.x.y, hostile traffic
from 127.2.0.1, the third host 127.0.0.77).

Run: C{.venv/bin/python bench/soak.py [--minutes 10] [--phones 200]
[--rate 200] [--hostile 20] [--interval 5] [--json]}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)

from bench._phones import Hostile, boot, devicesCSV, fetch, macOf  # noqa: E402
from daemon import Daemon  # noqa: E402


def rssBytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def openFiles(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def storeBytes(directory: str) -> int:
    base = os.path.join(directory, "var", "snomprov.sqlite")
    return sum(os.path.getsize(base + suffix) for suffix in ("", "-wal", "-shm")
               if os.path.exists(base + suffix))


def slopePerHour(samples: list[tuple[float, float]]) -> float:
    """
    The least-squares slope of C{(seconds, value)} samples, per hour.
    """
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mv = sum(v for _, v in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    return sum((t - mt) * (v - mv) for t, v in samples) / var * 3600


class Sampler(threading.Thread):
    """
    Samples RSS, open files and store size every C{interval} seconds.
    """

    def __init__(self, pid: int, directory: str, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.directory, self.interval = pid, directory, interval
        self.samples: list[tuple[float, int, int, int]] = []
        self.stopped = threading.Event()
        self.start_ = time.monotonic()

    def sample(self) -> None:
        try:
            self.samples.append((time.monotonic() - self.start_, rssBytes(self.pid), openFiles(self.pid),
                                 storeBytes(self.directory)))
        except (FileNotFoundError, ProcessLookupError):
            pass

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sample()


def growth(samples: list[tuple[float, int, int, int]]) -> dict:
    """
    Per measure: first, last and largest value, and the growth per hour
    over the samples after the first tenth of the run.
    """
    if not samples:
        return {}
    settled = [s for s in samples if s[0] >= samples[-1][0] / 10] or samples
    out = {}
    for index, name in ((1, "rss_bytes"), (2, "open_files"), (3, "store_bytes")):
        values = [s[index] for s in samples]
        out[name] = {"first": values[0], "last": values[-1], "max": max(values),
                     "per_hour": round(slopePerHour([(s[0], s[index]) for s in settled]), 1)}
    return out


def soak(minutes: float, phones: int, rate: float, hostileShare: int, interval: float,
         directory: str) -> dict:
    daemon = Daemon(directory)
    daemon.importCSV(devicesCSV(phones))
    daemon.start()
    macs = [macOf(n) for n in range(phones)]
    hostile = Hostile(daemon.sipPort, daemon.tftpPort, daemon.baseURL)
    sampler = Sampler(daemon.process.pid, directory, interval)
    sampler.sample()
    sampler.start()
    rounds = []
    deadline = time.monotonic() + minutes * 60
    try:
        while time.monotonic() < deadline and daemon.process.poll() is None:
            hostile.burst(hostileShare)
            result = boot(daemon.sipPort, macs, rate=rate, deadline=10.0)
            hostile.burst(hostileShare)
            rounds.append({"provisioned": result.provisioned, "lost": len(result.lost),
                           "fromElsewhere": result.fromElsewhere})
        sampler.sample()
        alive = daemon.process.poll() is None and fetch(daemon.baseURL + "/snom/" + macs[0] + ".xml")[0] == 200
    finally:
        sampler.stopped.set()
        sampler.join()
        hostile.close()
        daemon.stop()
    return {
        "minutes": minutes, "phones": phones, "rounds": len(rounds),
        "provisioned": sum(r["provisioned"] for r in rounds),
        "lost": sum(r["lost"] for r in rounds),
        "last_round": rounds[-1] if rounds else None,
        "hostile_sent": dict(hostile.sent), "third_party_packets": hostile.thirdParty,
        "traversal_leaks": hostile.leaks,
        "packets_from_elsewhere": sum(r["fromElsewhere"] for r in rounds),
        "alive_after": alive, "samples": len(sampler.samples), "growth": growth(sampler.samples),
    }


def failures(result: dict) -> list[str]:
    problems = []
    last = result["last_round"]
    if last is None:
        problems.append("no round ran")
    elif last["provisioned"] != result["phones"]:
        problems.append(f"last round: {last['provisioned']} of {result['phones']} phones provisioned")
    if result["traversal_leaks"]:
        problems.append(f"{result['traversal_leaks']} traversal names leaked a file")
    if result["third_party_packets"] or result["packets_from_elsewhere"]:
        problems.append("packets to or from a third address")
    if not result["alive_after"]:
        problems.append("the daemon did not answer after the soak")
    return problems


def report(result: dict) -> None:
    print(f"soak: {result['minutes']} min, {result['rounds']} rounds of {result['phones']} phones, "
          f"{result['provisioned']} provisioned, {result['lost']} lost (retried next round)")
    print(f"hostile: {result['hostile_sent']}; to a third host: {result['third_party_packets']}; "
          f"leaks: {result['traversal_leaks']}; daemon alive after: {result['alive_after']}")
    print(f"{'measure':<12} {'first':>12} {'last':>12} {'max':>12} {'growth/hour':>14}   ({result['samples']} samples)")
    for name, g in result["growth"].items():
        print(f"{name:<12} {g['first']:>12} {g['last']:>12} {g['max']:>12} {g['per_hour']:>14}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long (default 10)")
    parser.add_argument("--phones", type=int, default=200, help="the fleet that boots each round")
    parser.add_argument("--rate", type=float, default=200.0, help="SUBSCRIBEs a second")
    parser.add_argument("--hostile", type=int, default=20,
                        help="garbage and bad SIP datagrams of each kind around each round")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="snomprov-soak-") as directory:
        result = soak(args.minutes, args.phones, args.rate, args.hostile, args.interval, directory)
    report(result)
    if args.json:
        print(json.dumps(result))
    problems = failures(result)
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
