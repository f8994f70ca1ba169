"""
The operators' pages during a PnP boot storm: how long the dashboard
(C{/}) and the first page of the device list (C{/devices}) take while
C{pnp_storm.py}'s simulated phones boot, as ratios to the same pages on
the same daemon idle (before the storm, and after it with the storm's
phones stored: the ratio is to the latter), with a dashboard's live stream (C{/events/stream})
open throughout, as an operator watching would have it.

One daemon (C{twistd -n -r epoll snomprov}, SIP and HTTP, the default
SQLite store, the per-source limit lifted) gets an operator
(C{snomprov user add}); a prober process logs in through C{/login}
(session cookie and CSRF token, as a browser) and fetches the two pages in
turn, one at a time, for C{--seconds} idle, then during the storm.  The
storm's own figures (phones lost, p99) are printed too, to show what the
pages cost it.

Run: C{.venv/bin/python bench/pages.py [--rate 1000] [--duration 10]
[--phones 10000]}
"""

from __future__ import annotations

import argparse
import http.cookiejar
import multiprocessing
import os
import re
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from pnp_storm import Snomprov, runLoad  # noqa: E402

PAGES = ("/", "/devices")


def _opener(baseURL: str, name: str, password: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(baseURL + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf" value="([^"]*)"', html).group(1)
    form = urllib.parse.urlencode({"csrf": token, "name": name, "password": password}).encode()
    page = opener.open(baseURL + "/login", form, timeout=30)
    if "data-live" not in page.read().decode():
        raise RuntimeError("the login did not reach the dashboard")
    return opener


def _probe(baseURL: str, seconds: float, start: float, results) -> None:
    """
    Fetch the pages in turn from C{start} for C{seconds}; put each page's
    times (seconds) on C{results}.
    """
    opener = _opener(baseURL, "bench", "bench-pw")
    stream = opener.open(baseURL + "/events/stream", timeout=60)  # kept open: the live feed polls
    times = {path: [] for path in PAGES}
    while time.monotonic() < start:
        time.sleep(0.01)
    while time.monotonic() < start + seconds:
        for path in PAGES:
            began = time.perf_counter()
            body = opener.open(baseURL + path, timeout=60).read()
            times[path].append(time.perf_counter() - began)
            assert b"<!DOCTYPE html>" in body
    stream.close()
    results.put(times)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def _run(baseURL: str, seconds: float, during=None):
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    prober = context.Process(target=_probe, args=(baseURL, seconds, time.monotonic() + 1.0, results))
    prober.start()
    storm = during() if during is not None else None
    times = results.get(timeout=seconds * 4 + 120)
    prober.join()
    return times, storm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="SUBSCRIBEs (phones booting) per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of storm")
    parser.add_argument("--phones", type=int, default=10000, help="distinct MACs")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of idle probing")
    args = parser.parse_args(argv)
    storm = argparse.Namespace(rate=args.rate, duration=args.duration, phones=args.phones, deadline=5.0,
                               retries=[1.0, 2.0], sockets=4, pin=False)
    with tempfile.TemporaryDirectory(prefix="snomprov-bench-pages-") as directory:
        server = Snomprov("snomprov", os.path.join(directory, "snomprov"))
        added = server.daemon.run("user", "add", "bench", input="bench-pw\n")
        if added.returncode != 0:
            raise SystemExit(added.stderr)
        server.start(pin=False)
        try:
            _run(server.baseURL, 2.0, lambda: runLoad(server.port, argparse.Namespace(
                **{**vars(storm), "rate": 200.0, "duration": 1.0, "phones": 200})))
            idle, _ = _run(server.baseURL, args.seconds)
            busy, figures = _run(server.baseURL, args.duration, lambda: runLoad(server.port, storm))
            after, _ = _run(server.baseURL, args.seconds)
        finally:
            server.stop()
    print(f"storm: {figures['offered']} SUBSCRIBEs at {figures['offeredRate']:.0f}/s, completed "
          f"{figures['completed']}, lost {figures['lost']}, p50 {figures['p50'] * 1000:.1f} ms, "
          f"p99 {figures['p99'] * 1000:.1f} ms")
    for path in PAGES:
        line = []
        for name, times in (("idle before", idle), ("storm", busy), ("idle after", after)):
            line.append(f"{name} p50 {_quantile(times[path], 0.5) * 1000:.1f} / p95 "
                        f"{_quantile(times[path], 0.95) * 1000:.1f} ms ({len(times[path])})")
        ratios = [_quantile(busy[path], q) / _quantile(after[path], q) for q in (0.5, 0.95)]
        print(f"{path:9} " + "; ".join(line) + f"; storm / idle after: p50 {ratios[0]:.2f}, p95 {ratios[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
