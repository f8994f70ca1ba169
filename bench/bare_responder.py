"""
The reference plug-and-play responder for C{bench/pnp_storm.py}: one plain
UDP socket, a blocking loop, minimal parsing, no framework.

For each SUBSCRIBE it sends the same two datagrams as snomprov, in the same
shape (DESIGN.md S{1.1} steps 2-3): a C{200 OK} (every Via copied, the top
one with C{received} and C{rport}; From; To with a fresh tag; Call-ID; CSeq;
Contact; C{Expires: 0}) and a C{NOTIFY} whose body is
C{<base-url>/snom/<MAC>.xml}.  It never retransmits, checks nothing, keeps
no state and ignores every other datagram: the least work an answer takes
in Python.

Run: C{python bench/bare_responder.py --port 5060 --base-url http://127.0.0.1:8080}
"""

from __future__ import annotations

import argparse
import secrets
import signal
import socket
import sys

_NOTIFY = (
    "NOTIFY {target} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP {us};branch=z9hG4bK{branch};rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: {to};tag={tag}\r\n"
    "To: {from_}\r\n"
    "Call-ID: {callID}\r\n"
    "CSeq: 1 NOTIFY\r\n"
    "Contact: <sip:{us}>\r\n"
    "Event: {event}\r\n"
    "Subscription-State: terminated;reason=timeout\r\n"
    "Content-Type: application/url\r\n"
    "Content-Length: {length}\r\n"
    "\r\n"
    "{url}"
)


def answer(data: bytes, source: tuple[str, int], us: str, baseURL: str) -> tuple[bytes, bytes] | None:
    """
    The C{200 OK} and C{NOTIFY} for a SUBSCRIBE, or C{None} for anything
    else.

    @param us: C{host:port} of this responder, for Via and Contact.
    """
    if not data.startswith(b"SUBSCRIBE "):
        return None
    lines = data.decode("latin-1").split("\r\n")
    uri = lines[0].split(" ")[1]
    vias: list[str] = []
    picked: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            break
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "via":
            vias.append(value.strip())
        else:
            picked[name] = value.strip()
    if not vias:
        return None
    tag = secrets.token_hex(8)
    top = [p for p in vias[0].split(";") if not p.startswith(("rport", "received"))]
    vias[0] = ";".join(top) + f";rport={source[1]};received={source[0]}"
    to, from_ = picked.get("to", ""), picked.get("from", "")
    callID = picked.get("call-id", "")
    ok = "".join([
        "SIP/2.0 200 OK\r\n",
        *(f"Via: {via}\r\n" for via in vias),
        f"From: {from_}\r\n",
        f"To: {to};tag={tag}\r\n",
        f"Call-ID: {callID}\r\n",
        f"CSeq: {picked.get('cseq', '')}\r\n",
        f"Contact: <sip:{us}>\r\n",
        "Expires: 0\r\n",
        "Content-Length: 0\r\n\r\n",
    ])
    mac = uri.partition("@")[0].rpartition("%3a")[2].rpartition(":")[2].upper()
    url = f"{baseURL}/snom/{mac}.xml"
    contact = picked.get("contact", "")
    target = contact[contact.find("<") + 1:contact.find(">")] if "<" in contact else contact
    notify = _NOTIFY.format(
        target=target or uri, us=us, branch=secrets.token_hex(10), to=to, tag=tag, from_=from_,
        callID=callID, event=picked.get("event", "ua-profile"), length=len(url), url=url,
    )
    return ok.encode("latin-1"), notify.encode("latin-1")


def serve(host: str, port: int, baseURL: str, ready=sys.stdout) -> None:
    """
    Answer SUBSCRIBEs on C{host:port} until killed.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    us = f"{host}:{sock.getsockname()[1]}"
    print(f"bare responder on udp:{us}", file=ready, flush=True)
    recvfrom, sendto = sock.recvfrom, sock.sendto
    while True:
        data, source = recvfrom(65535)
        replies = answer(data, source, us, baseURL)
        if replies is not None:
            sendto(replies[0], source)
            sendto(replies[1], source)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5060)
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(args.host, args.port, args.base_url.rstrip("/"))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
