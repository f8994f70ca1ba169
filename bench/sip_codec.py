"""
CPU cost of the SIP codec on one plug-and-play exchange, against a baseline
run in the same process.

One exchange is: decode the phone's SUBSCRIBE (L{Decoder}, as the protocol
does), build our 200 OK, build our NOTIFY, decode the phone's 200 OK to the
NOTIFY.  The baseline does the same
work the way a bare responder does it (split lines, partition on C{:},
f-strings), with none of the checks snomprov makes (compact forms, folding,
Content-Length, every Via, quoted parameters, tags already present, ...).

Run: C{.venv/bin/python bench/sip_codec.py [--iterations N]}
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from snomprov.sip.decoded import Decoder  # noqa: E402
from snomprov.sip.message import parseMessage  # noqa: E402
from snomprov.sip.uaprofile import (  # noqa: E402
    ProfileReader,
    buildNotify,
    buildSubscribeOK,
    isUAProfileSubscribe,
    subscribeKey,
    viaBranch,
)

_decoder = Decoder()
_reader = ProfileReader()

# The Grandstream GRP2612W SUBSCRIBE of tests/fixtures/sip (a wire capture).
SUBSCRIBE = (
    b"SUBSCRIBE sip:MAC%3AC074AD112233@224.0.1.75 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.168.1.2:5080;branch=z9hG4bK1611133778;rport\r\n"
    b"From: <sip:MAC%3AC074AD112233@224.0.1.75>;tag=395400190\r\n"
    b"To: <sip:MAC%3AC074AD112233@224.0.1.75>\r\n"
    b"Call-ID: 490431573-5080-1@BJC.BGI.IG.DA\r\n"
    b"CSeq: 20000 SUBSCRIBE\r\n"
    b"Contact: <sip:192.168.1.2:5080>\r\n"
    b"Max-Forwards: 70\r\n"
    b"User-Agent: Grandstream GRP2612W 1.0.5.67\r\n"
    b"Expires: 0\r\n"
    b"Supported: replaces, path\r\n"
    b'Event: ua-profile;profile-type="device";vendor="Grandstream";'
    b'model="GRP2612W";version="1.0.5.67"\r\n'
    b"Accept: application/url\r\n"
    b"Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, "
    b"UPDATE, MESSAGE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
SOURCE = ("192.168.1.2", 5080)
OURS = "sip:192.0.2.10:5060"
VIA = "192.0.2.10:5060"
URL = "http://192.0.2.10:8080/grandstream/"


def phoneOK(notify: bytes) -> bytes:
    """
    The 200 OK a phone sends back to C{notify}.
    """
    message = parseMessage(notify)
    h = message.headers
    return (
        "SIP/2.0 200 OK\r\n"
        f"Via: {h.get('Via')};received=192.0.2.10\r\n"
        f"From: {h.get('From')}\r\n"
        f"To: {h.get('To')}\r\n"
        f"Call-ID: {h.get('Call-ID')}\r\n"
        f"CSeq: {h.get('CSeq')}\r\n"
        "User-Agent: Grandstream GRP2612W 1.0.5.67\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def snomprovExchange(subscribe: bytes, ok: bytes, full: bool) -> tuple:
    """
    One exchange with snomprov's codec; with C{full}, also what the
    controller reads (ua-profile check, ProfileRequest, dedup and
    transaction keys).
    """
    request = _decoder.decode(subscribe)
    if full:
        isUAProfileSubscribe(request)
        _reader.read(request, SOURCE[0])
        subscribeKey(request)
    answer = buildSubscribeOK(request, SOURCE, "5f3a9c21", OURS)
    notify = buildNotify(request, "5f3a9c21", "z9hG4bK77aa01", 1, OURS, VIA, URL)
    response = _decoder.decode(ok)
    if full:
        response.branch or viaBranch(response.vias[0])
    return answer, notify, response


def _bareParse(data: bytes) -> tuple[str, dict[str, str], bytes]:
    """
    The baseline parser: start line, a dict of headers (last one wins),
    body.
    """
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


def bareExchange(subscribe: bytes, ok: bytes, full: bool) -> tuple:
    """
    The same exchange as a bare responder writes it.
    """
    start, h, _ = _bareParse(subscribe)
    uri = start.split(" ")[1]
    if full:
        event = h["event"]
        params = dict(
            p.split("=", 1) for p in event.split(";")[1:] if "=" in p
        )
        {k: v.strip('"') for k, v in params.items()}
        uri.split("@")[0].split("%3A")[-1].split("%3a")[-1]
    via = h["via"]
    answer = (
        "SIP/2.0 200 OK\r\n"
        f"Via: {via};received={SOURCE[0]}\r\n"
        f"From: {h['from']}\r\n"
        f"To: {h['to']};tag=5f3a9c21\r\n"
        f"Call-ID: {h['call-id']}\r\n"
        f"CSeq: {h['cseq']}\r\n"
        f"Contact: <{OURS}>\r\n"
        "Expires: 0\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()
    contact = h["contact"]
    target = contact[contact.find("<") + 1 : contact.find(">")]
    body = URL.encode()
    notify = (
        f"NOTIFY {target} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {VIA};branch=z9hG4bK77aa01;rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: {h['to']};tag=5f3a9c21\r\n"
        f"To: {h['from']}\r\n"
        f"Call-ID: {h['call-id']}\r\n"
        "CSeq: 1 NOTIFY\r\n"
        f"Contact: <{OURS}>\r\n"
        f"Event: {h['event']}\r\n"
        "Subscription-State: terminated;reason=timeout\r\n"
        "Content-Type: application/url\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    response = _bareParse(ok)
    if full:
        (response[1]["call-id"], int(response[1]["cseq"].split()[0]))
    return answer, notify, response


def cpuPerCall(function, iterations: int, repeats: int = 5) -> float:
    """
    The best of C{repeats} runs of C{iterations} calls: CPU seconds per
    call.
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(iterations):
            function()
        best = min(best, time.process_time() - start)
    return best / iterations


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=20000)
    args = parser.parse_args(argv)
    notify = buildNotify(
        _decoder.decode(SUBSCRIBE), "5f3a9c21", "z9hG4bK77aa01", 1, OURS, VIA, URL
    )
    ok = phoneOK(notify)
    print(
        f"Python {sys.version.split()[0]}, {args.iterations} iterations, "
        "best of 5, CPU time (time.process_time)"
    )
    print("one exchange = decode SUBSCRIBE + build 200 + build NOTIFY + decode 200")
    for full, label in ((False, "codec only"), (True, "codec + ProfileRequest + keys")):
        ours = cpuPerCall(lambda: snomprovExchange(SUBSCRIBE, ok, full), args.iterations)
        bare = cpuPerCall(lambda: bareExchange(SUBSCRIBE, ok, full), args.iterations)
        print(
            f"{label:32s} snomprov {ours * 1e6:6.2f} us   "
            f"bare baseline {bare * 1e6:6.2f} us   ratio {ours / bare:.2f}x"
        )


if __name__ == "__main__":
    main()
