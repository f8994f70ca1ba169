"""
Cached settings served over HTTP: snomprov against C{twisted.web.static.File}
serving the same bytes, in the same run (DESIGN.md §6: at least 5,000
requests/s on one core, and not below static.File).

N devices (default 1000) are registered with C{snomprov import} into the
daemon's SQLite store; the daemon (C{twistd -n -r epoll snomprov}) runs on
core 0 (C{taskset -c 0}, when taskset exists).  Every MAC's settings are
fetched once (the cache is then hot), wrk warms up, then wrk loads
C{/snom/<MAC>-settings.xml} with a Lua script rotating through the MACs and
sending a snom User-Agent.  The baseline is C{twistd -n -r epoll web --path
DIR} on the same core, DIR holding each MAC's rendered settings under the
same names, loaded by the same wrk command.  wrk runs on the other cores.

With C{--stored M}, a second daemon with M devices stored (the same N MACs
among them, rotating) is loaded the same way in the same run: its rate
against the first's (DESIGN §6: a store of 100,000 devices serves cached
files at the rate of one of 1,000, ratio at least 0.9) and its resident
memory (C{VmRSS} after the load, C{VmHWM} its peak; target under 300 MB).

Run: C{.venv/bin/python bench/http_config.py [--devices N] [--seconds S]
[--connections C] [--stored M]}
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from daemon import ROOT, Daemon, _env, freePort, twistdCommand  # noqa: E402

UA = "Mozilla/4.0 (compatible; snom360-SIP 7.3.14 1.1.3-s)"
SERVER_CORE = "0"

LUA = """
local macs = {%(macs)s}
local i = 0
request = function()
  i = i %% #macs + 1
  return wrk.format("GET", "/snom/" .. macs[i] .. "-settings.xml", {["User-Agent"] = "%(ua)s"})
end
"""


def macs(n: int) -> list[str]:
    return [f"000413{i:06X}" for i in range(1, n + 1)]


def devicesCSV(addresses: list[str]) -> str:
    rows = ["mac,vendor,model,line,user,password,display_name,registrar"]
    rows += [f"{mac},snom,snom360,1,u{i},pw{i},User {i},pbx.example.org" for i, mac in enumerate(addresses)]
    return "\n".join(rows) + "\n"


def pinned(argv: list[str], cores: str) -> list[str]:
    """
    C{argv} under C{taskset -c cores}, when taskset exists.
    """
    return ["taskset", "-c", cores, *argv] if shutil.which("taskset") else argv


def clientCores() -> str:
    """
    The cores wrk runs on: all but the server's (or all, on one core).
    """
    cores = sorted(os.sched_getaffinity(0))
    others = [str(c) for c in cores if str(c) != SERVER_CORE]
    return ",".join(others or [str(c) for c in cores])


def get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": UA})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def waitForHTTP(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on port {port}")


class Result:
    """
    One wrk run: requests/s, p99 latency (ms), and errors.
    """

    def __init__(self, output: str) -> None:
        self.output = output
        self.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
        p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        self.p99ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        socketErrors = re.search(r"Socket errors: (.*)", output)
        self.errors = (int(errors.group(1)) if errors else 0)
        self.socketErrors = socketErrors.group(1) if socketErrors else ""


def wrk(port: int, script: str, seconds: float, connections: int, threads: int) -> Result:
    argv = pinned(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script,
         f"http://127.0.0.1:{port}"],
        clientCores(),
    )
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    return Result(out)


def memory(pid: int) -> tuple[float, float]:
    """
    A process's resident set now and at its peak (C{VmRSS}, C{VmHWM}), in MB.
    """
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return tuple(int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


def startDaemon(directory: str, stored: int, addresses: list[str], static: str | None) -> Daemon:
    """
    A daemon with C{stored} devices registered (the first of them
    C{addresses}), started, each of C{addresses} fetched once (its cache is
    then hot).  With C{static}, the files fetched are written there too.
    """
    home = os.path.join(directory, f"snomprov-{stored}")
    os.makedirs(home)
    daemon = Daemon(home, sip=False, tftp=False)
    daemon.wrapper = pinned([], SERVER_CORE)
    daemon.twistdOptions = ["-r", "epoll"]
    started = time.monotonic()
    daemon.importCSV(devicesCSV(macs(stored)))
    print(f"{stored} devices imported in {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    daemon.start(timeout=120)
    print(f"daemon with {stored} devices started in {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    for mac in addresses:
        content = get(f"{daemon.baseURL}/snom/{mac}-settings.xml")
        assert f"<user_name idx=\"1\"".encode() in content, mac
        if static is not None:
            with open(os.path.join(static, "snom", f"{mac}-settings.xml"), "wb") as f:
                f.write(content)
    print(f"{len(addresses)} of {stored} devices rendered and cached in {time.monotonic() - started:.1f} s")
    return daemon


def run(devices: int, seconds: float, connections: int, threads: int, warmup: float,
        stored: int | None = None, rounds: int = 1) -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    addresses = macs(devices)
    with tempfile.TemporaryDirectory(prefix="bench-http-") as directory:
        script = os.path.join(directory, "rotate.lua")
        with open(script, "w") as f:
            f.write(LUA % {"macs": ",".join(f'"{m}"' for m in addresses), "ua": UA})

        static = os.path.join(directory, "static")
        os.makedirs(os.path.join(static, "snom"))
        daemons = [startDaemon(directory, devices, addresses, static)]
        port = freePort()
        argv = pinned([*twistdCommand(), "-n", "-r", "epoll", "--pidfile=", "--logfile",
                       os.path.join(directory, "static.log"), "web", "--path", static,
                       "--listen", f"tcp:{port}:interface=127.0.0.1"], SERVER_CORE)
        baseline = subprocess.Popen(argv, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.STDOUT)
        try:
            if stored is not None:
                daemons.append(startDaemon(directory, stored, addresses, None))
            waitForHTTP(port, baseline)
            # Every server loaded in turn, round after round, so that a
            # machine busy with other work slows them alike; the best round
            # of each is kept.
            ports = [d.httpPort for d in daemons] + [port]
            results: list[list[Result]] = [[] for _ in ports]
            for _ in range(rounds):
                for found, target in zip(results, ports):
                    wrk(target, script, warmup, connections, threads)
                    found.append(wrk(target, script, seconds, connections, threads))
            pids = [d.process.pid for d in daemons] + [baseline.pid]
            memories = [memory(pid) for pid in pids]
        finally:
            for daemon in daemons:
                daemon.stop()
            baseline.terminate()
            baseline.wait(timeout=20)

    best = [max(found, key=lambda r: r.rps) for found in results]
    pinnedNote = f"server on core {SERVER_CORE}, wrk on {clientCores()}" if shutil.which("taskset") else "not pinned"
    print(f"wrk -t{threads} -c{connections} -d{seconds}s, {devices} MACs rotating, {pinnedNote}, "
          f"best of {rounds} round(s)")
    names = [f"snomprov {devices}"] + ([f"snomprov {stored}"] if stored is not None else []) + ["static.File"]
    for name, result, (rss, peak), found in zip(names, best, memories, results):
        problems = f", {result.errors} non-2xx" if result.errors else ""
        problems += f", socket errors {result.socketErrors}" if result.socketErrors else ""
        rounds_ = " ".join(f"{r.rps:.0f}" for r in found)
        print(f"{name:16} {result.rps:10.0f} requests/s   p99 {result.p99ms:7.2f} ms   "
              f"RSS {rss:6.1f} MB (peak {peak:6.1f})   rounds: {rounds_}{problems}")
    ours, theirs = best[0], best[-1]
    ratio = ours.rps / theirs.rps
    print(f"ratio snomprov/static.File: {ratio:.2f}")
    print(f"target >= 5000 requests/s and ratio >= 1.0: {'met' if ours.rps >= 5000 and ratio >= 1.0 else 'NOT met'}")
    if stored is not None:
        scale = best[1].rps / ours.rps
        rss, peak = memories[1]
        print(f"ratio {stored} stored / {devices} stored: {scale:.2f}; RSS with {stored} stored: {rss:.1f} MB "
              f"(peak {peak:.1f})")
        met = scale >= 0.9 and peak < 300
        print(f"target ratio >= 0.9 and peak RSS < 300 MB: {'met' if met else 'NOT met'}")
    return 1 if any(found.errors for found in best) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1,
                        help="load every server this many times in turn, keeping the best (default 1)")
    parser.add_argument("--stored", type=int, default=None,
                        help="also run a daemon with this many devices stored (the same --devices "
                             "MACs rotating) and compare its rate and memory")
    args = parser.parse_args(argv)
    if args.stored is not None and args.stored < args.devices:
        parser.error("--stored must be at least --devices")
    return run(args.devices, args.seconds, args.connections, args.threads, args.warmup, args.stored,
               args.rounds)


if __name__ == "__main__":
    sys.exit(main())
