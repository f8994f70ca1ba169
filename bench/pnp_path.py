"""
CPU cost of the plug-and-play path in process, against a baseline run in
the same process.

snomprov: the real L{SIPProtocol} and L{PnPController} (snom vendor, the
default allow-list and dedup table, the NOTIFY retransmitter, the proof
checker issuing each NOTIFY's token) on a fake
transport and a L{Clock}, handing what it learns to a real L{Recorder}
(not flushed: C{bench/recorder.py} measures the store).  Each simulated
phone's SUBSCRIBE (the one C{bench/pnp_storm.py} sends, distinct MAC and
Call-ID) goes in, then the phone's C{200 OK} to our NOTIFY.

baseline: L{bench.bare_responder.answer} on the same SUBSCRIBEs, the least
Python an answer takes (no state, no checks, no timers).

No sockets and no system calls on the path: this is the interpreter's work
only, the part C{bench/pnp_storm.py} reports as user CPU.  The garbage
collector is tuned as the daemon tunes it once started
(L{snomprov.gctuning}); C{--default-gc} leaves CPython's defaults.

metrics on vs off: each round also runs snomprov with C{/metrics}'
L{snomprov.metrics.Metrics} watching the controller and the recorder, as
the daemon has it, and scrapes it once after (checking that it counted
every exchange); the ratio on / off is the metrics' cost on the PnP path
(the scrape itself, off the path, is timed apart).  C{--metrics off} skips
it.

Run: C{.venv/bin/python bench/pnp_path.py [--phones N] [--rounds R] [--default-gc] [--metrics on|off]}
"""

from __future__ import annotations

import argparse
import os
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(BENCH))
sys.path.insert(0, BENCH)

from twisted.internet import defer  # noqa: E402
from twisted.internet.task import Clock  # noqa: E402

from bare_responder import answer  # noqa: E402
from snomprov.config import parseConfig  # noqa: E402
from snomprov.gctuning import tuneForServing  # noqa: E402
from snomprov.metrics import Metrics  # noqa: E402
from snomprov.pnp import PnPController  # noqa: E402
from snomprov.proofcheck import ProofChecker  # noqa: E402
from snomprov.proofs import KEY_BYTES  # noqa: E402
from snomprov.recorder import Recorder  # noqa: E402
from snomprov.registry import VendorRegistry  # noqa: E402
from snomprov.sip.protocol import SIPProtocol  # noqa: E402
from snomprov.store.memory import MemoryDeviceStore  # noqa: E402
from snomprov.testing import FakeMulticastTransport  # noqa: E402
from snomprov.vendors.snom import snomVendor  # noqa: E402

from pnp_storm import _SUBSCRIBE  # noqa: E402

PHONE = ("127.0.0.1", 5061)
BASE_URL = "http://127.0.0.1:8080"
CONFIG = f"""
[server]
base_url = "{BASE_URL}"
[sip]
rate_per_source = 1e9
rate_burst = 1000000000
"""


def subscribes(phones: int, round_: int) -> list[bytes]:
    """
    One SUBSCRIBE per phone, as C{bench/pnp_storm.py} sends them.
    """
    return [
        _SUBSCRIBE.format(mac=f"0004{i:08X}", host=PHONE[0], port=PHONE[1], n=i,
                          tag=f"r{round_}", branch=f"{i}sr{round_}").encode()
        for i in range(phones)
    ]


def phoneOK(notify: bytes) -> bytes:
    """
    The phone's C{200 OK} to one of our NOTIFYs: its Via, From, To, Call-ID
    and CSeq lines copied.
    """
    keep = (b"Via:", b"From:", b"To:", b"Call-ID:", b"CSeq:")
    lines = [line for line in notify.split(b"\r\n") if line.startswith(keep)]
    return b"\r\n".join([b"SIP/2.0 200 OK", *lines, b"Content-Length: 0", b"", b""])


class Responder:
    """
    The protocol, controller and recorder of the daemon, on a fake
    transport; with C{metrics}, watched by a L{Metrics} as in the daemon.
    """

    def __init__(self, metrics: bool = False) -> None:
        config = parseConfig(CONFIG, "bench.toml", baseDir=BENCH)
        self.clock = Clock()
        self.recorder = Recorder(lambda: None, self.clock)
        # As the daemon: each NOTIFY's URL carries a token bound to the
        # phone's MAC and address, remembered until it is used.
        proofs = ProofChecker(b"\x07" * KEY_BYTES, config, self.clock)
        self.controller = PnPController(VendorRegistry([snomVendor]), config, self.recorder, self.clock,
                                        proofs=proofs)
        self.protocol = SIPProtocol(self.controller, "224.0.1.75", reactor=self.clock,
                                    localHostFor=lambda ip: "127.0.0.1")
        self.transport = FakeMulticastTransport()
        self.protocol.makeConnection(self.transport)
        self.metrics = None
        if metrics:
            store = MemoryDeviceStore()
            self.metrics = Metrics(lambda: defer.succeed(store), self.clock, self.recorder, None)
            self.metrics.watchPnP(self.controller)


def scrape(responder: Responder, phones: int) -> float:
    """
    CPU seconds of one scrape of C{responder}'s metrics, which must have
    counted C{phones} SUBSCRIBEs answered and NOTIFYs acknowledged.
    """
    start = time.process_time()
    text = responder.metrics.text()
    spent = time.process_time() - start
    assert f"snomprov_pnp_subscribes_answered_total {float(phones)}".encode() in text, text
    assert f'snomprov_pnp_notify_outcomes_total{{outcome="acked"}} {float(phones)}'.encode() in text, text
    return spent


def measureSnomprov(phones: int, round_: int, metrics: bool = False) -> tuple[float, float, float | None]:
    """
    CPU seconds per SUBSCRIBE and per phone's 200, for C{phones} phones,
    and of the scrape after (C{None} without C{metrics}).
    """
    responder = Responder(metrics)
    sent = responder.transport.written
    received = responder.protocol.datagramReceived
    datagrams = subscribes(phones, round_)
    start = time.process_time()
    for data in datagrams:
        received(data, PHONE)
    subscribed = time.process_time() - start
    notifies = [data for data, *_ in sent if data.startswith(b"NOTIFY ")]
    assert len(notifies) == phones, responder.controller.counters
    assert all(b"?token=" in notify for notify in notifies), "a NOTIFY without its token"
    oks = [phoneOK(notify) for notify in notifies]
    start = time.process_time()
    for data in oks:
        received(data, PHONE)
    acked = time.process_time() - start
    assert responder.controller.counters.get("notify-acked") == phones, responder.controller.counters
    scraped = scrape(responder, phones) if metrics else None
    return subscribed / phones, acked / phones, scraped


def measureBaseline(phones: int, round_: int) -> float:
    """
    CPU seconds per SUBSCRIBE for L{answer}.
    """
    datagrams = subscribes(phones, round_)
    us = "127.0.0.1:5060"
    start = time.process_time()
    for data in datagrams:
        answer(data, PHONE, us, BASE_URL)
    return (time.process_time() - start) / phones


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--default-gc", action="store_true", help="leave the garbage collector untuned")
    parser.add_argument("--metrics", choices=("on", "off"), default="on",
                        help="also run with /metrics' collector watching (default) and print on / off")
    args = parser.parse_args(argv)
    if not args.default_gc:
        tuneForServing()
    results = []
    withMetrics = []
    for round_ in range(args.rounds):
        # On and off take turns going first, so neither always runs warmer.
        if args.metrics == "on" and round_ % 2:
            withMetrics.append(measureSnomprov(args.phones, round_, metrics=True))
        subscribe, ok, _ = measureSnomprov(args.phones, round_)
        if args.metrics == "on" and not round_ % 2:
            withMetrics.append(measureSnomprov(args.phones, round_, metrics=True))
        baseline = measureBaseline(args.phones, round_)
        results.append((subscribe, ok, baseline))
        print(f"round {round_ + 1}: snomprov SUBSCRIBE {subscribe * 1e6:.2f} us + phone's 200 "
              f"{ok * 1e6:.2f} us = {(subscribe + ok) * 1e6:.2f} us/exchange; "
              f"baseline answer() {baseline * 1e6:.2f} us; ratio {(subscribe + ok) / baseline:.2f}",
              flush=True)
        if withMetrics:
            onSubscribe, onOK, scraped = withMetrics[-1]
            print(f"round {round_ + 1}: metrics on {(onSubscribe + onOK) * 1e6:.2f} us/exchange; "
                  f"on / off {(onSubscribe + onOK) / (subscribe + ok):.3f}; one scrape "
                  f"{scraped * 1e3:.2f} ms CPU", flush=True)
    subscribe, ok, baseline = min(results, key=lambda r: (r[0] + r[1]) / r[2])
    print(f"best ratio snomprov / baseline: {(subscribe + ok) / baseline:.2f} "
          f"({(subscribe + ok) * 1e6:.2f} / {baseline * 1e6:.2f} us)")
    if withMetrics:
        off = min(s + o for s, o, _ in results)
        on = min(s + o for s, o, _ in withMetrics)
        print(f"PnP path with metrics on / off (best of each): {on / off:.3f} "
              f"({on * 1e6:.2f} / {off * 1e6:.2f} us/exchange)")


if __name__ == "__main__":
    main()
