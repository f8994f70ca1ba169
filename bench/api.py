"""
The operators' API against the phone-facing path, in the same run: how fast
one page of the device list (over 1,000 and over 100,000 devices) and one
device's GET are answered, as ratios of the cached phone-facing settings
rate (C{/snom/<MAC>-settings.xml}) of the same daemon.

For each fleet size N, N devices are imported with C{snomprov import} into
a fresh SQLite store, an API token is issued with C{snomprov token add}, and
the daemon (C{twistd -n -r epoll snomprov}) runs on core 0 (C{taskset}, when
it exists).  wrk (on the other cores) then loads, each after a warm-up:

  - C{/snom/<MAC>-settings.xml} rotating through the MACs with a snom
    User-Agent (every file fetched once before: the cache is hot) — the
    baseline;
  - C{/api/devices?limit=100}, the first page, with C{Authorization: Bearer};
  - C{/api/devices?limit=100&text=...}, a filtered page;
  - C{/api/devices/<MAC>} rotating through the MACs, with the token.

The cost of the PnP path's metrics is measured by C{bench/pnp_path.py}
(metrics on against off, same run).

Run: C{.venv/bin/python bench/api.py [--devices 1000,100000] [--seconds S]
[--connections C]}
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from daemon import Daemon  # noqa: E402
from http_config import SERVER_CORE, UA, clientCores, devicesCSV, get, macs, pinned, wrk  # noqa: E402

ROTATE = """
local macs = {%(macs)s}
local i = 0
request = function()
  i = i %% #macs + 1
  return wrk.format("GET", %(path)s, %(headers)s)
end
"""


def script(directory: str, name: str, addresses: list[str], path: str, headers: str) -> str:
    """
    A wrk Lua script asking C{path} (a Lua expression of C{macs[i]}) with
    C{headers} (a Lua table), rotating through C{addresses}.
    """
    location = os.path.join(directory, f"{name}.lua")
    with open(location, "w") as f:
        f.write(ROTATE % {"macs": ",".join(f'"{m}"' for m in addresses), "path": path,
                          "headers": headers})
    return location


def issueToken(daemon: Daemon) -> str:
    result = daemon.run("token", "add", "bench", "--role", "viewer")
    if result.returncode != 0:
        raise RuntimeError(f"token add failed:\n{result.stdout}{result.stderr}")
    return next(word for word in result.stdout.split() if word.startswith("snp_"))


def getWithToken(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def measure(devices: int, seconds: float, connections: int, threads: int, warmup: float) -> dict:
    addresses = macs(devices)
    with tempfile.TemporaryDirectory(prefix="bench-api-") as directory:
        os.makedirs(os.path.join(directory, "snomprov"))
        daemon = Daemon(os.path.join(directory, "snomprov"), sip=False, tftp=False)
        daemon.wrapper = pinned([], SERVER_CORE)
        daemon.twistdOptions = ["-r", "epoll"]
        started = time.monotonic()
        daemon.importCSV(devicesCSV(addresses))
        print(f"{devices} devices imported in {time.monotonic() - started:.1f} s")
        token = issueToken(daemon)
        auth = f'{{["Authorization"] = "Bearer {token}"}}'
        sample = addresses[: min(len(addresses), 1000)]
        scripts = {
            "settings (cached)": script(directory, "settings", sample, '"/snom/" .. macs[i] .. "-settings.xml"',
                                        f'{{["User-Agent"] = "{UA}"}}'),
            "device list, 1 page": script(directory, "list", sample, '"/api/devices?limit=100"', auth),
            "filtered list, 1 page": script(directory, "filtered", sample,
                                            '"/api/devices?limit=100&text=" .. string.sub(macs[i], 7)', auth),
            "device GET": script(directory, "get", sample, '"/api/devices/" .. macs[i]', auth),
        }
        results = {}
        with daemon:
            for mac in sample:
                get(f"{daemon.baseURL}/snom/{mac}-settings.xml")
            page = getWithToken(f"{daemon.baseURL}/api/devices?limit=100", token)
            assert addresses[0].encode() in page, page[:200]
            for name, path in scripts.items():
                wrk(daemon.httpPort, path, warmup, connections, threads)
                results[name] = wrk(daemon.httpPort, path, seconds, connections, threads)
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", default="1000,100000", help="fleet sizes, comma-separated")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    errors = 0
    pinnedNote = f"server on core {SERVER_CORE}, wrk on {clientCores()}" if shutil.which("taskset") else "not pinned"
    for devices in (int(n) for n in args.devices.split(",")):
        results = measure(devices, args.seconds, args.connections, args.threads, args.warmup)
        baseline = results["settings (cached)"].rps
        print(f"{devices} devices; wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, {pinnedNote}")
        for name, result in results.items():
            problems = f", {result.errors} non-2xx" if result.errors else ""
            problems += f", socket errors {result.socketErrors}" if result.socketErrors else ""
            errors += result.errors
            print(f"  {name:22} {result.rps:9.0f} requests/s  p99 {result.p99ms:7.2f} ms"
                  f"  ratio to settings {result.rps / baseline:5.2f}{problems}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
