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

Run: C{.venv/bin/python bench/http_config.py [--devices N] [--seconds S]
[--connections C]}
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


def run(devices: int, seconds: float, connections: int, threads: int, warmup: float) -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    addresses = macs(devices)
    with tempfile.TemporaryDirectory(prefix="bench-http-") as directory:
        script = os.path.join(directory, "rotate.lua")
        with open(script, "w") as f:
            f.write(LUA % {"macs": ",".join(f'"{m}"' for m in addresses), "ua": UA})

        os.makedirs(os.path.join(directory, "snomprov"))
        daemon = Daemon(os.path.join(directory, "snomprov"), sip=False, tftp=False)
        daemon.wrapper = pinned([], SERVER_CORE)
        daemon.twistdOptions = ["-r", "epoll"]
        daemon.importCSV(devicesCSV(addresses))

        static = os.path.join(directory, "static")
        os.makedirs(os.path.join(static, "snom"))
        with daemon:
            started = time.monotonic()
            for mac in addresses:
                content = get(f"{daemon.baseURL}/snom/{mac}-settings.xml")
                assert f"<user_name idx=\"1\"".encode() in content, mac
                with open(os.path.join(static, "snom", f"{mac}-settings.xml"), "wb") as f:
                    f.write(content)
            print(f"{devices} devices rendered and cached in {time.monotonic() - started:.1f} s")
            wrk(daemon.httpPort, script, warmup, connections, threads)
            ours = wrk(daemon.httpPort, script, seconds, connections, threads)

        port = freePort()
        argv = pinned([*twistdCommand(), "-n", "-r", "epoll", "--pidfile=", "--logfile",
                       os.path.join(directory, "static.log"), "web", "--path", static,
                       "--listen", f"tcp:{port}:interface=127.0.0.1"], SERVER_CORE)
        baseline = subprocess.Popen(argv, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.STDOUT)
        try:
            waitForHTTP(port, baseline)
            wrk(port, script, warmup, connections, threads)
            theirs = wrk(port, script, seconds, connections, threads)
        finally:
            baseline.terminate()
            baseline.wait(timeout=20)

    pinnedNote = f"server on core {SERVER_CORE}, wrk on {clientCores()}" if shutil.which("taskset") else "not pinned"
    print(f"wrk -t{threads} -c{connections} -d{seconds}s, {devices} MACs rotating, {pinnedNote}")
    for name, result in (("snomprov", ours), ("static.File", theirs)):
        problems = f", {result.errors} non-2xx" if result.errors else ""
        problems += f", socket errors {result.socketErrors}" if result.socketErrors else ""
        print(f"{name:12} {result.rps:10.0f} requests/s   p99 {result.p99ms:7.2f} ms{problems}")
    ratio = ours.rps / theirs.rps
    print(f"ratio snomprov/static.File: {ratio:.2f}")
    print(f"target >= 5000 requests/s and ratio >= 1.0: {'met' if ours.rps >= 5000 and ratio >= 1.0 else 'NOT met'}")
    return 0 if not (ours.errors or theirs.errors) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    return run(args.devices, args.seconds, args.connections, args.threads, args.warmup)


if __name__ == "__main__":
    sys.exit(main())
