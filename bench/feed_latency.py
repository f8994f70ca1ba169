"""
How long a change committed through one PostgreSQL store takes to reach
the change listeners of another store on the same database (another
daemon's), pushed by C{LISTEN}/C{NOTIFY}: a test PostgreSQL started in a
temporary directory (C{tests/pgserver.py}), two stores opened the daemon's
way, C{--changes} site layers put through the first, the time from each
commit's Deferred to the second's listener.  Figures only.

Run: C{.venv/bin/python bench/feed_latency.py [--changes N]}
"""

import argparse
import os
import statistics
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(_HERE, "..", "tests"), os.path.join(_HERE, "..")]

from twisted.internet import defer, task  # noqa: E402

from pgserver import PostgresServer  # noqa: E402
from snomprov.dburl import parseDatabaseURL  # noqa: E402
from snomprov.device import Setting, SettingsLayer  # noqa: E402
from snomprov.store.sql import SQLDeviceStore  # noqa: E402


async def main(reactor, changes):
    server = PostgresServer().start()
    try:
        url = parseDatabaseURL(server.createDatabase("lat"))
        a = await SQLDeviceStore.openPostgreSQL(url, reactor)
        b = await SQLDeviceStore.openPostgreSQL(url, reactor)
        while not b.pushesChanges():
            await task.deferLater(reactor, 0.01, lambda: None)
        heard = []
        b.addChangeListener(lambda scopes: heard.append(time.monotonic()))
        lat = []
        for n in range(changes):
            before = len(heard)
            await a.putLayer(SettingsLayer("site", (Setting("language", str(n)),)))
            committed = time.monotonic()
            while len(heard) == before:
                await task.deferLater(reactor, 0.0005, lambda: None)
            lat.append((heard[-1] - committed) * 1000)
        print(f"commit in store A -> listener of store B told: n={changes} median {statistics.median(lat):.1f} ms, max {max(lat):.1f} ms")
        await a.close()
        await b.close()
    finally:
        server.destroy()

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--changes", type=int, default=50)
    arguments = parser.parse_args()
    task.react(lambda r: defer.ensureDeferred(main(r, arguments.changes)))
