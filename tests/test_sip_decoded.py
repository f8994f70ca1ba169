"""
Tests for L{snomprov.sip.decoded}: the one value the protocol hands the
controller, read the quick way or the full way alike.
"""

from __future__ import annotations

import pytest

from snomprov.sip import message as messageModule
from snomprov.sip.decoded import DECODED_HEADERS, DecodedMessage, Decoder, decodedFrom
from snomprov.sip.message import HeaderNames, SIPParseError, parseMessage
from snomprov.sip.uaprofile import newBranch

from tests.test_sip_quick import NAMES, fixtureBytes


@pytest.mark.parametrize("name", NAMES)
def test_quickAndFullAgree(name):
    """
    Every fixture decodes to the same L{DecodedMessage} with the quick
    readers as with the full parser alone, and that is L{decodedFrom} of
    the full parse; one that does not parse raises either way.
    """
    data = fixtureBytes(name)
    try:
        parseMessage(data)
    except SIPParseError:
        for decoder in (Decoder(), Decoder(quick=False)):
            with pytest.raises(SIPParseError):
                decoder.decode(data)
        return
    quick = Decoder().decode(data)
    full = Decoder(quick=False).decode(data)
    assert isinstance(quick, DecodedMessage)
    assert quick == full == decodedFrom(parseMessage(data))
    parsed = parseMessage(data)
    for key in DECODED_HEADERS:
        assert quick.header(key) == parsed.headers.get(key)
    assert quick.vias == parsed.headers.getAll("Via")


def test_requestAndResponse():
    """
    A request has a method and URI and no code; a response a code and no
    method; both keep every Via and the first values of the headers kept,
    in any spelling.
    """
    request = Decoder().decode(b"OPTIONS sip:x@h SIP/2.0\r\nv: SIP/2.0/UDP a, SIP/2.0/UDP b\r\n"
                               b"i: 1@x\r\nCSeq: 1 OPTIONS\r\nX-Other: y\r\n\r\n")
    assert (request.method, request.uri, request.code, request.isResponse) == ("OPTIONS", "sip:x@h", None, False)
    assert request.vias == ["SIP/2.0/UDP a", "SIP/2.0/UDP b"]
    assert request.header("Call-ID") == "1@x" and request.header("x-other") is None
    response = Decoder().decode(b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKq\r\n"
                                b"CSeq: 1 NOTIFY\r\n\r\n")
    assert (response.method, response.uri, response.code, response.isResponse) == (None, None, 180, True)
    assert response.branch is None and response.header("cseq") == "1 NOTIFY"


def test_finalResponseByBranchAlone():
    """
    A final response carrying a branch of our shape is read no further:
    its code and branch, no Via list, no fields.  The full decoder reads
    it whole.
    """
    branch = newBranch()
    data = (f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch={branch};rport\r\n"
            "Call-ID: c\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n").encode()
    quick = Decoder().decode(data)
    assert (quick.code, quick.branch, list(quick.vias), dict(quick.fields)) == (200, branch, [], {})
    full = Decoder(quick=False).decode(data)
    assert full.branch is None and full.vias[0].endswith(f"branch={branch};rport")


@pytest.mark.parametrize("garbage", [b"", b"\x00garbage", b"SIP/2.0", b"NOT A MESSAGE\r\n\r\n",
                                     b"SUBSCRIBE sip:x SIP/2.0\r\nBad Name: x\r\n\r\n"])
def test_undecodable(garbage):
    """
    What is not a SIP message raises L{SIPParseError}, either way.
    """
    for decoder in (Decoder(), Decoder(quick=False)):
        with pytest.raises(SIPParseError):
            decoder.decode(garbage)


def test_namesLearntOnTheDecoderBounded():
    """
    Header names the decoder meets are learnt on its own L{HeaderNames},
    at most its limit; the module's table of usual names never grows.
    """
    before = dict(messageModule._NAMES)
    decoder = Decoder(maxNames=3)
    for n in range(10):
        message = decoder.decode(f"OPTIONS sip:x SIP/2.0\r\nX-Seen-{n}: {n}\r\nCSeq: 1 OPTIONS\r\n\r\n".encode())
        assert message.method == "OPTIONS" and message.header("cseq") == "1 OPTIONS"
    assert messageModule._NAMES == before
    assert len(decoder._names.table) == len(before) + 3
    names = HeaderNames(limit=1)
    assert names.learn("x-a") == ("x-a", "x-a") and names.learn("X-B") == ("x-b", "X-B")
    assert "x-a" in names.table and "X-B" not in names.table
    with pytest.raises(SIPParseError):
        names.learn("bad name")


@pytest.mark.parametrize("status", ["200 OK", "481 Call/Transaction Does Not Exist", "603 Decline"])
def test_finalResponseBranchAgreesWithDecode(status):
    """
    L{Decoder.finalResponseBranch} reads from the bytes the branch that
    L{Decoder.decode} puts on the value of the same final response,
    whatever its code; with C{quick=False} it reads nothing (C{None}), and
    the full decode carries the branch in its Via only.
    """
    branch = newBranch()
    data = (f"SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch={branch};rport\r\n"
            "Call-ID: c\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n").encode()
    assert Decoder().finalResponseBranch(data) == Decoder().decode(data).branch == branch
    full = Decoder(quick=False)
    assert full.finalResponseBranch(data) is None
    assert full.decode(data).branch is None and full.decode(data).code == int(status[:3])


@pytest.mark.parametrize("data", [
    b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK0123456789abcdefghij\r\n\r\n",
    b"SIP/2.0 2x0 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK0123456789abcdefghij\r\n\r\n",
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKshort\r\n\r\n",
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK0123456789abcdefghij",
    b"NOTIFY sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK0123456789abcdefghij\r\n\r\n",
    b"", b"\x00garbage", b"SIP/2.0 ",
])
def test_finalResponseBranchNone(data):
    """
    A provisional response, a malformed status line, a branch not of our
    shape, a request or garbage: no branch, and nothing raises.
    """
    assert Decoder().finalResponseBranch(data) is None
