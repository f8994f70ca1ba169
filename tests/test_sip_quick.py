"""
Tests for the plug-and-play hot path's reading of datagrams
(L{snomprov.sip.quick}) and for the decoder's quick readers
(L{snomprov.sip.decoded.Decoder}): wherever they answer, they agree with
the full parser (L{parseMessage}), and the controller writes, counts and
records the same behind a quick decoder as behind a full one, on the real
phones' fixtures and on generated SUBSCRIBEs and responses.
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snomprov.sip import uaprofile
from snomprov.sip.decoded import Decoder
from snomprov.sip.message import HeaderNames, SIPParseError, SIPRequest, parseMessage
from snomprov.sip.quick import (
    QUICK_HEADERS,
    isPlainRequestLine,
    quickFinalResponseBranch,
    quickSplit,
    statusCode,
)
from snomprov.sip.uaprofile import newBranch, viaBranch

from tests.test_pnp import PHONE, RecordingRecorder, fixture, makeResponder

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "sip")
NAMES = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".sip"))
YEALINK = {"mac": "001565AABBCC", "ip": "192.0.2.67", "port": "5060"}


def fixtureBytes(name: str) -> bytes:
    return fixture(name, **YEALINK) if name.startswith("Yealink") else fixture(name)


def assertAgrees(data: bytes) -> None:
    """
    L{quickSplit} of C{data} (with a decoder's names) is C{None}, or agrees
    with L{parseMessage}.
    """
    quick = quickSplit(data, HeaderNames())
    if quick is not None and (
        isPlainRequestLine(quick[0], "SUBSCRIBE") is None and statusCode(quick[0]) is None
    ):
        quick = None  # the start line is its callers' to check
    try:
        message = parseMessage(data)
    except SIPParseError:
        assert quick is None
        return
    if quick is None:
        return
    start, vias, fields = quick
    headers = message.headers
    assert vias == headers.getAll("Via")
    for key in QUICK_HEADERS:
        assert fields.get(key) == headers.get(key), key
    if isinstance(message, SIPRequest):
        assert isPlainRequestLine(start, message.method) in (None, message.uri)
        assert statusCode(start) is None
    else:
        assert statusCode(start) == message.code


@pytest.mark.parametrize("name", NAMES)
def test_fixtures(name):
    """
    Every fixture in its plain form is read, and read as L{parseMessage}
    reads it; its variants (LF line ends, folded lines, leading blank lines)
    agree or are left to the full parser.
    """
    data = fixtureBytes(name)
    try:
        parseMessage(data)
    except SIPParseError:
        pass
    else:
        # With a decoder's names, any valid plain datagram is read.
        assert quickSplit(data, HeaderNames()) is not None
    assertAgrees(data)
    assertAgrees(data.replace(b"\r\n", b"\n"))
    assertAgrees(b"\r\n" + data)
    assertAgrees(data.replace(b"\r\nCall-ID: ", b"\r\nCall-ID:\r\n  "))
    assertAgrees(data.replace(b"Content-Length: 0", b"Content-Length: 5"))


_NAME_SPELLINGS = {
    "Via": ["Via", "via", "VIA", "v"],
    "From": ["From", "from", "f"],
    "To": ["To", "TO", "t"],
    "Call-ID": ["Call-ID", "call-id", "Call-Id", "i"],
    "CSeq": ["CSeq", "cseq"],
    "Contact": ["Contact", "m"],
    "Event": ["Event", "o", "event"],
    "User-Agent": ["User-Agent", "user-agent"],
    "Content-Length": ["Content-Length", "l"],
    "Expires": ["Expires"],
    "X-Unseen-Before": ["X-Unseen-Before"],
}

_text = st.text(alphabet=st.sampled_from(list('abAB09.:;=<>",@ %\t-_zé')), max_size=12)

_VALUES = {
    "Via": st.one_of(
        st.just("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKabc;rport"),
        st.just("SIP/2.0/UDP 10.0.0.5:5060;rport, SIP/2.0/UDP 10.0.0.6"),
        st.just(""),
        st.builds(lambda t: f"SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK{t}", _text),
    ),
    "From": st.one_of(
        st.just("<sip:MAC%3a000413922D24@224.0.1.75>;tag=ft1"),
        st.just('"Phone, one" <sip:512@10.0.0.90>;tag=x'),
        st.just("sip:512@10.0.0.90"),
        _text,
    ),
    "To": st.one_of(st.just("<sip:MAC%3a000413922D24@224.0.1.75>"), _text),
    "Call-ID": st.one_of(st.just("cid1@10.0.0.5"), _text),
    "CSeq": st.one_of(st.just("7 SUBSCRIBE"), st.just("1 NOTIFY"), st.just("x NOTIFY"), _text),
    "Contact": st.one_of(
        st.just("<sip:10.0.0.5:5060>"),
        st.just("<sip:a@b>, <sip:c@d>"),
        st.just(","),
        st.just("*"),
        _text,
    ),
    "Event": st.one_of(
        st.just('ua-profile;profile-type="device";vendor="snom";model="snomD785";version="10.1"'),
        st.just("UA-Profile ; vendor=snom"),
        st.just("dialog"),
        _text,
    ),
    "User-Agent": st.one_of(st.just("snomD785/10.1.54.13"), _text),
    "Content-Length": st.one_of(st.just("0"), st.just("3"), st.just("x"), st.just(" 0 ")),
    "Expires": st.just("0"),
    "X-Unseen-Before": _text,
}


@st.composite
def messages(draw):
    """
    SUBSCRIBEs and responses: random header sets, order, repetitions,
    spellings and values, line ends and bodies.
    """
    headers = draw(st.lists(st.sampled_from(sorted(_NAME_SPELLINGS)), max_size=14))
    lines = []
    for name in headers:
        spelling = draw(st.sampled_from(_NAME_SPELLINGS[name]))
        colon = draw(st.sampled_from([": ", ":", " : ", ":  "]))
        lines.append(f"{spelling}{colon}{draw(_VALUES[name])}")
    start = draw(st.sampled_from([
        "SUBSCRIBE sip:MAC%3a000413922D24@224.0.1.75 SIP/2.0",
        "SUBSCRIBE sip:MAC000413922D24@224.0.1.75 sip/2.0",
        "SUBSCRIBE  sip:x SIP/2.0",
        "SUBSCRIBE sip:x SIP/2.1",
        "SIP/2.0 200 OK",
        "SIP/2.0 180 Ringing",
        "SIP/2.0 099 Low",
        "SIP/2.0 200",
        "sip/2.0 404 Not Found",
    ]))
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    body = draw(st.sampled_from(["", "abc", "abcdef"]))
    end = draw(st.sampled_from([eol + eol, "\r\n\r\n", eol]))
    return (start + eol + eol.join(lines) + end + body).encode("utf-8")


@st.composite
def subscribes(draw):
    """
    ua-profile SUBSCRIBEs with every header an answer needs, in random
    order, spellings and values, sometimes one dropped or repeated.
    """
    names = ["Via", "From", "To", "Call-ID", "CSeq", "Contact", "Event", "User-Agent",
             "Content-Length", "Expires"]
    names = draw(st.permutations(names))
    names = names + draw(st.lists(st.sampled_from(names), max_size=2))
    if draw(st.booleans()):
        names = names[1:]
    lines = []
    for name in names:
        spelling = draw(st.sampled_from(_NAME_SPELLINGS[name]))
        if name == "Event":
            value = draw(st.sampled_from([
                'ua-profile;profile-type="device";vendor="snom";model="snomD785";version="10.1"',
                "ua-profile",
                'ua-profile;vendor="Grandstream";model="GRP2612W"',
            ]))
        elif name == "Content-Length":
            value = "0"
        elif name == "CSeq":
            value = draw(st.sampled_from(["7 SUBSCRIBE", "20000 SUBSCRIBE"]))
        elif draw(st.integers(0, 3)):
            value = draw(_VALUES[name].filter(lambda v: v != "")) if name == "Via" else {
                "Via": "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKabc;rport",
                "From": "<sip:MAC%3a000413922D24@224.0.1.75>;tag=ft1",
                "To": "<sip:MAC%3a000413922D24@224.0.1.75>",
                "Call-ID": "cid1@10.0.0.5",
                "Contact": "<sip:10.0.0.5:5060>",
                "User-Agent": "snomD785/10.1.54.13",
                "Expires": "0",
            }[name]
        else:
            value = draw(_VALUES[name])
        lines.append(f"{spelling}: {value}")
    uri = draw(st.sampled_from([
        "sip:MAC%3a000413922D24@224.0.1.75", "sip:MAC000413922D24@h", "sip:phone@h",
        "sip:MAC%3aC074AD112233@224.0.1.75",
    ]))
    return (f"SUBSCRIBE {uri} SIP/2.0\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(st.one_of(messages(), subscribes()))
def test_generated(data):
    """
    On generated messages, L{quickSplit} agrees with L{parseMessage} or
    leaves the datagram to it.
    """
    assertAgrees(data)


class _Fixed:
    """
    Deterministic tags and branches, so two paths build the same bytes.
    """

    def __init__(self):
        self.n = 0

    def __call__(self, digits):
        self.n += 1
        return f"{self.n:0{digits}x}"[-digits:]


def _bothPaths(tmp_path, monkeypatch, datagrams):
    """
    What the controller writes, counts and records for the same datagrams
    behind a quick L{Decoder} and behind a full one (L{parseMessage} alone).
    """
    results = []
    for quick in (True, False):
        monkeypatch.setattr(uaprofile, "_randomHex", _Fixed())
        recorder = RecordingRecorder()
        protocol, controller, transport, clock, _ = makeResponder(tmp_path, recorder=recorder)
        protocol._decoder = Decoder(quick=quick)
        for data in datagrams:
            protocol.datagramReceived(data, PHONE)
            clock.advance(0.1)
        results.append((transport.written, controller.counters, recorder.sightings, recorder.events))
    return results


@pytest.mark.parametrize("name", NAMES)
def test_controllerFixtures(tmp_path, monkeypatch, name):
    """
    For every fixture (and its repetition, and the phone's answer to our
    NOTIFY), the quick path writes, counts and records what the full path
    does.
    """
    data = fixtureBytes(name)
    monkeypatch.setattr(uaprofile, "_randomHex", _Fixed())
    protocol, _, transport, _, _ = makeResponder(tmp_path)
    protocol.datagramReceived(data, PHONE)
    replies = [d for d, _, _ in transport.written if d.startswith(b"NOTIFY")]
    answers = [_okFor(r) for r in replies]
    quick, full = _bothPaths(tmp_path, monkeypatch, [data, data, *answers])
    assert quick == full


def _okFor(notify: bytes) -> bytes:
    """
    The phone's 200 to our NOTIFY.
    """
    message = parseMessage(notify)
    lines = ["SIP/2.0 200 OK"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        lines.append(f"{name}: {message.headers.get(name)}")
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def test_controllerGenerated(tmp_path, monkeypatch):
    """
    On generated datagrams, the quick path writes, counts and records what
    the full path does; and the generated datagrams reached the answers
    that matter (both an answered SUBSCRIBE and a malformed datagram), so
    that the agreement covers them.
    """
    seen: dict = {}

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.one_of(messages(), subscribes()), min_size=1, max_size=4))
    def agree(datagrams):
        quick, full = _bothPaths(tmp_path, monkeypatch, datagrams)
        assert quick == full
        seen.update(quick[1])

    agree()
    assert {"answered", "malformed"} <= set(seen), seen


class TestResponseBranch:
    """
    L{viaBranch} and L{quickFinalResponseBranch}: what matches the phone's
    response to the NOTIFY that carried the branch.
    """

    def test_viaBranch(self) -> None:
        assert viaBranch("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKabc;rport") == "z9hG4bKabc"
        assert viaBranch("SIP/2.0/UDP 192.0.2.10:5060;Branch=\"z9hG4bKq\"") == "z9hG4bKq"
        assert viaBranch("SIP/2.0/UDP 192.0.2.10:5060;rport") is None
        assert viaBranch("SIP/2.0/UDP 192.0.2.10:5060;branch=") is None
        assert viaBranch(None) is None

    def response(self, code: str, via: str) -> bytes:
        return (f"SIP/2.0 {code}\r\nVia: {via}\r\nCall-ID: c\r\nCSeq: 1 NOTIFY\r\n"
                "Content-Length: 0\r\n\r\n").encode()

    def test_finalResponses(self) -> None:
        """
        A final response gives the branch of its first Via when it is one
        L{newBranch} could have made; anything else gives C{None}.
        """
        branch = newBranch()
        for code in ("200 OK", "202 Accepted", "481 Call/Transaction Does Not Exist", "699 Odd"):
            data = self.response(code, f"SIP/2.0/UDP 192.0.2.10:5060;branch={branch};rport")
            assert quickFinalResponseBranch(data) == branch, code
        assert quickFinalResponseBranch(
            self.response("200 OK", f"SIP/2.0/UDP 192.0.2.10:5060;branch={branch}")) == branch
        for code in ("100 Trying", "180 Ringing", "700 No", "2x0 OK"):
            data = self.response(code, f"SIP/2.0/UDP 192.0.2.10:5060;branch={branch}")
            assert quickFinalResponseBranch(data) is None, code
        for via in (f"SIP/2.0/UDP h;branch={branch}0", f"SIP/2.0/UDP h;branch={branch[:-1]}",
                    "SIP/2.0/UDP h;branch=1234", "SIP/2.0/UDP h"):
            assert quickFinalResponseBranch(self.response("200 OK", via)) is None, via
        request = f"NOTIFY sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch={branch}\r\n\r\n".encode()
        assert quickFinalResponseBranch(request) is None
        assert quickFinalResponseBranch(f"SIP/2.0 200 OK;branch={branch}".encode()) is None

    @given(st.sampled_from(["200 OK", "486 Busy Here", "603 Decline"]),
           st.lists(st.sampled_from(["rport", "received=192.0.2.1", "x=y"]), max_size=2))
    def test_agreesWithTheParser(self, code: str, params: list[str]) -> None:
        """
        Where it answers on a response whose first Via carries the branch,
        it agrees with L{viaBranch} on the parsed top Via.
        """
        branch = newBranch()
        via = ";".join(["SIP/2.0/UDP 192.0.2.10:5060", f"branch={branch}", *params])
        data = self.response(code, via)
        assert quickFinalResponseBranch(data) == viaBranch(parseMessage(data).headers.get("Via")) == branch

    @given(st.binary(max_size=300))
    def test_neverRaises(self, data: bytes) -> None:
        """
        On any tail after the cookie it raises nothing, and answers exactly
        when the tail starts with 20 letters or digits and a separator.
        """
        result = quickFinalResponseBranch(b"SIP/2.0 200 OK\r\nVia: x;branch=z9hG4bK" + data)
        ours = len(data) > 20 and data[:20].isalnum() and data[20:21] in (b";", b",", b" ", b"\t", b"\r", b"\n")
        assert result == ("z9hG4bK" + data[:20].decode("ascii") if ours else None)
