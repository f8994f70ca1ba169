"""
Tests for L{snomprov.sip.message}: a table of known values read from the
fixtures in C{tests/fixtures/sip/} (both ways), the line-end and encoding
variants real phones produce, the header helpers, and Hypothesis properties
(round trip, and nothing but L{SIPParseError} out of any input).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings, strategies as st

from snomprov.sip.message import (
    MAX_MESSAGE_SIZE,
    Headers,
    SIPParseError,
    SIPRequest,
    SIPResponse,
    Via,
    _scanSplit,
    canonicalHeaderName,
    parseMessage,
    parseNameAddr,
    parseParams,
    parseVia,
    serializeMessage,
    splitList,
    splitQuoted,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "sip")


def fixture(name: str) -> bytes:
    """
    The bytes of a fixture file.
    """
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


# Every fixture that is a well-formed message, and the message it holds.
# Checked against the files by eye, header by header.
KNOWN_VALUES = {
    'AudioCodes-310HD-1.2.0-1.200.sip': (
        SIPResponse(
            200,
            'OK',
            Headers(
                [
                    ('Via', 'SIP/2.0/UDP 10.13.2.37:5060;rport;branch=z9hG4bK-386d4398-6ad00ca2-7ca3606e'),
                    ('Contact', '<sip:10.13.2.37:5060>'),
                    ('To', '<sip:224.0.1.75:5060>'),
                    ('From', '<sip:00000001@10.13.2.37:5060>;tag=87a5a8-25020d0a-13c4-50029-386d4398-66dc40c-386d4398'),
                    ('Call-ID', '8884c8-25020d0a-13c4-50029-386d4398-3e2bcb8e-386d4398'),
                    ('CSeq', '1 SUBSCRIBE'),
                    ('Expires', '0'),
                    ('Content-Length', '0'),
                ]
            ),
            b'',
        )
    ),
    'AudioCodes-310HD-1.2.0-1.notify.sip': (
        SIPRequest(
            'NOTIFY',
            'sip:10.13.2.37:5060',
            Headers(
                [
                    ('Via', 'SIP/2.0/UDP 10.13.2.37:5060;rport;branch=z9hG4bK-386d4398-6ad00ca2-7ca3606e'),
                    ('Max-Forwards', '20'),
                    ('Contact', '<sip:10.13.4.121:5060>'),
                    ('To', '<sip:224.0.1.75:5060>'),
                    ('From', '<sip:00000001@10.13.2.37:5060>;tag=87a5a8-25020d0a-13c4-50029-386d4398-66dc40c-386d4398'),
                    ('Call-ID', '8884c8-25020d0a-13c4-50029-386d4398-3e2bcb8e-386d4398'),
                    ('CSeq', '1 NOTIFY'),
                    ('Content-Type', 'application/url'),
                    ('Subscription-State', 'terminated;reason=timeout'),
                    ('Event', 'ua-profile;profile-type="application";model="310HD";version="1.2.0"'),
                    ('Content-Length', '18'),
                ]
            ),
            b'tftp://10.13.4.121',
        )
    ),
    'AudioCodes-420HD-1.2.1_build_6-1.sip': (
        SIPRequest(
            'SUBSCRIBE',
            'sip:224.0.1.75:5060',
            Headers(
                [
                    ('From', '<sip:00000001@10.13.2.37:5060>;tag=87a5a8-25020d0a-13c4-50029-386d4398-66dc40c-386d4398'),
                    ('To', '<sip:224.0.1.75:5060>'),
                    ('Call-ID', '8884c8-25020d0a-13c4-50029-386d4398-3e2bcb8e-386d4398'),
                    ('CSeq', '1 SUBSCRIBE'),
                    ('Via', 'SIP/2.0/UDP 10.13.2.37:5060;rport;branch=z9hG4bK-386d4398-6ad00ca2-7ca3606e'),
                    ('Expires', '0'),
                    ('Event', 'ua-profile;profile-type="application";model="420HD";version="1.2.1_build_6"'),
                    ('Max-Forwards', '70'),
                    ('Supported', 'replaces,100rel'),
                    ('Accept', 'application/url'),
                    ('Contact', '<sip:00000001@10.13.2.37:5060>'),
                    ('User-Agent', 'AUDC-IPPhone/1.2.1_build_6'),
                    ('Content-Length', '0'),
                ]
            ),
            b'',
        )
    ),
    'Grandstream-GRP2612W-1.0.5.67-1.sip': (
        SIPRequest(
            'SUBSCRIBE',
            'sip:MAC%3AC074AD112233@224.0.1.75',
            Headers(
                [
                    ('Via', 'SIP/2.0/UDP 192.168.1.2:5080;branch=z9hG4bK1611133778;rport'),
                    ('From', '<sip:MAC%3AC074AD112233@224.0.1.75>;tag=395400190'),
                    ('To', '<sip:MAC%3AC074AD112233@224.0.1.75>'),
                    ('Call-ID', '490431573-5080-1@BJC.BGI.IG.DA'),
                    ('CSeq', '20000 SUBSCRIBE'),
                    ('Contact', '<sip:192.168.1.2:5080>'),
                    ('Max-Forwards', '70'),
                    ('User-Agent', 'Grandstream GRP2612W 1.0.5.67'),
                    ('Expires', '0'),
                    ('Supported', 'replaces, path'),
                    ('Event', 'ua-profile;profile-type="device";vendor="Grandstream";model="GRP2612W";version="1.0.5.67"'),
                    ('Accept', 'application/url'),
                    ('Allow', 'INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, UPDATE, MESSAGE'),
                    ('Content-Length', '0'),
                ]
            ),
            b'',
        )
    ),
    'Yealink-T21P-34.72.14.6-1.sip': (
        SIPRequest(
            'SUBSCRIBE',
            'sip:MAC$mac@224.0.1.75',
            Headers(
                [
                    ('Via', 'SIP/2.0/UDP $ip:$port.;branch=z9hG4bK42054260'),
                    ('From', '<sip:MAC$mac@224.0.1.75>;tag=42054258'),
                    ('To', '<sip:MAC$mac@224.0.1.75>'),
                    ('Call-ID', '42054258@$ip'),
                    ('CSeq', '1 SUBSCRIBE'),
                    ('Contact', '<sip:MAC$mac@$ip:$port>'),
                    ('Max-Forwards', '70'),
                    ('User-Agent', 'Yealink SIP-T21P 34.72.14.6'),
                    ('Expires', '0'),
                    ('Event', 'ua-profile;profile-type="device";vendor="Yealink";model="T21D";version="34.72.14.6"'),
                    ('Accept', 'application/url'),
                    ('Content-Length', '0'),
                ]
            ),
            b'',
        )
    ),
    'snom-M700-03.23.0005-1.sip': (
        SIPRequest(
            'SUBSCRIBE',
            'sip:MAC%3a0004136*****@224.0.1.75',
            Headers(
                [
                    ('Via', 'SIP/2.0/UDP 10.0.0.90:5060;branch=z9hG4bKl1d23iyadenuaa1jr4vm'),
                    ('Max-Forwards', '70'),
                    ('From', '<sip:512@10.0.0.90>;tag=dmrud.mzfyg66'),
                    ('To', '<sip:MAC%3a0004136*****@224.0.1.75>'),
                    ('Call-ID', '6cm70qdo.o.8i@10.0.0.90'),
                    ('CSeq', '20264 SUBSCRIBE'),
                    ('Contact', '<sip:512@10.0.0.90>'),
                    ('Accept', 'application/url'),
                    ('Allow', 'INVITE, CANCEL, BYE, ACK, REGISTER, OPTIONS, REFER, SUBSCRIBE, NOTIFY, MESSAGE, INFO, PRACK, UPDATE'),
                    ('Allow-Events', 'dialog,message-summary'),
                    ('Event', 'ua-profile;profile-type=“device“;vendor=“snom“;model=“snomM700“;version=“03.23.0005“'),
                    ('Expires', '0'),
                    ('Supported', 'replaces,100rel'),
                    ('User-Agent', 'snomM700/03.23.0005 (MAC=0004136*****; SER= 00000; HW=255)'),
                    ('Content-Length', '0'),
                ]
            ),
            b'',
        )
    ),
    'snom-OEM-7.1.19-1.200.sip': (
        SIPResponse(
            200,
            'OK',
            Headers(
                [
                    ('Via', 'SIP/2.0/UDP 192.168.10.67:5060;rport=5060'),
                    ('Record-Route', '<sip:127.0.0.1;lr;transport=tcp;route-id=fb4fb92b7775c2a7>'),
                    ('Record-Route', '<sip:192.168.100.10;lr;transport=UDP;route-id=fb4fb92b7775c2a7>'),
                    ('Contact', '<sip:192.168.100.10;transport=TCP;handler=dum>'),
                    ('To', '<sip:MAC%3a00135E874B49@intern.snom.de>;tag=91955270'),
                    ('From', '<sip:MAC%3a00135E874B49@intern.snom.de>;tag=658512961'),
                    ('Call-ID', '1930770594@192.168.10.67'),
                    ('CSeq', '1 SUBSCRIBE'),
                    ('Expires', '0'),
                    ('Content-Length', '0'),
                ]
            ),
            b'',
        )
    ),
    'snom-OEM-7.1.19-1.sip': (
        SIPRequest(
            'SUBSCRIBE',
            'sip:MAC%3a00135E874B49@intern.snom.de',
            Headers(
                [
                    ('Via', 'SIP/2.0/UDP 192.168.10.67:5060;rport'),
                    ('From', '<sip:MAC%3a00135E874B49@intern.snom.de>;tag=658512961'),
                    ('To', '<sip:MAC%3a00135E874B49@intern.snom.de>'),
                    ('Call-ID', '1930770594@192.168.10.67'),
                    ('CSeq', '1 SUBSCRIBE'),
                    ('Event', 'ua-profile;profile-type="device";vendor="OEM";model="OEM";version="7.1.19"'),
                    ('Expires', '0'),
                    ('Accept', 'application/url'),
                    ('Contact', '<sip:192.168.10.67:5060>'),
                    ('Content-Length', '0'),
                ]
            ),
            b'',
        )
    ),
    'snom-snom360-7.3.14-1.sip': (
        SIPRequest(
            'SUBSCRIBE',
            'sip:MAC%3a00041329882C@voip.ikt-bs.de',
            Headers(
                [
                    ('Via', 'SIP/2.0/UDP 141.41.40.131:2055;rport'),
                    ('From', '<sip:MAC%3a00041329882C@voip.ikt-bs.de>;tag=1023721533'),
                    ('To', '<sip:MAC%3a00041329882C@voip.ikt-bs.de>'),
                    ('Call-ID', '1936281451@141.41.40.131'),
                    ('CSeq', '1 SUBSCRIBE'),
                    ('Event', 'ua-profile;profile-type="device";vendor="snom";model="snom360";version="7.3.14"'),
                    ('Expires', '0'),
                    ('Accept', 'application/url'),
                    ('Contact', '<sip:141.41.40.131:2055>'),
                    ('Content-Length', '0'),
                ]
            ),
            b'',
        )
    ),
    'snom-snom720-7.1.19-1.sip': (
        SIPRequest(
            'SUBSCRIBE',
            'sip:MAC%3a00135E874B49@fake',
            Headers(
                [
                    ('Content-Length', '0'),
                    ('Via', 'SIP/2.0/UDP 172.16.18.90:5060;rport'),
                    ('From', '<sip:MAC%3a00135E874B49>;tag=658512961'),
                    ('Expires', '0'),
                    ('Accept', 'application/url'),
                    ('To', '<sip:MAC%3a00135E874B49>'),
                    ('Contact', '<sip:172.16.18.90:5060>'),
                    ('CSeq', '1 SUBSCRIBE'),
                    ('Call-ID', '1930770594@ciccio'),
                    ('Event', 'ua-profile;profile-type="device";vendor="snom";model="snom720";version="7.1.19"'),
                ]
            ),
            b'',
        )
    ),
}

# How serializeMessage writes a fixture where that differs from the file.
SERIALIZED_DIFFERENTLY = {
    # The trailing blank after "Expires: 0" is not part of the value.
    "snom-OEM-7.1.19-1.200.sip": lambda data: data.replace(
        b"Expires: 0 \r\n", b"Expires: 0\r\n"
    ),
}

AKUVOX = "Akuvox-R20K-220.30.3.1-1.notify.sip"


def akuvoxFilled() -> bytes:
    """
    The Akuvox NOTIFY template with its placeholders filled in as its
    harness would.
    """
    return (
        fixture(AKUVOX)
        .replace(b"{0}", b"0C1105123456")
        .replace(b"{1}", b"0C1105123456@")
        .replace(b"{2}", b"0C1105123456@")
        .replace(b"{3}", b"192.168.3.1")
        .replace(b"{4}", b"25")
        .replace(b"{5}", b"http://192.168.3.1/cfg/x/")
    )


class TestKnownValues:
    """
    Each fixture parses to the message in L{KNOWN_VALUES}, and that message
    serializes back to the fixture's bytes.
    """

    def test_everyFixtureIsInTheTable(self) -> None:
        """
        The table covers every C{.sip} file of the fixture directory but the
        Akuvox template, whose C{Content-Length: {4}} is refused.
        """
        files = {n for n in os.listdir(FIXTURES) if n.endswith(".sip")}
        assert files == set(KNOWN_VALUES) | {AKUVOX}

    @pytest.mark.parametrize("name", sorted(KNOWN_VALUES))
    def test_parse(self, name: str) -> None:
        """
        Parsing the fixture gives the known message.
        """
        assert parseMessage(fixture(name)) == KNOWN_VALUES[name]

    @pytest.mark.parametrize("name", sorted(KNOWN_VALUES))
    def test_serialize(self, name: str) -> None:
        """
        Serializing the known message gives the fixture's bytes.
        """
        data = fixture(name)
        expected = SERIALIZED_DIFFERENTLY.get(name, lambda d: d)(data)
        assert serializeMessage(KNOWN_VALUES[name]) == expected

    def test_akuvoxTemplateRefused(self) -> None:
        """
        The Akuvox template's placeholder Content-Length is not a number.
        """
        with pytest.raises(SIPParseError, match="Content-Length"):
            parseMessage(fixture(AKUVOX))

    def test_akuvoxFilled(self) -> None:
        """
        Filled in, the Akuvox NOTIFY parses with its URL body, and
        serializes back to the same bytes.
        """
        data = akuvoxFilled()
        message = parseMessage(data)
        assert isinstance(message, SIPRequest)
        assert (message.method, message.uri) == ("NOTIFY", "sip:MAC0C1105123456@192.168.3.7:5060")
        assert message.body == b"http://192.168.3.1/cfg/x/"
        assert message.headers.get("user-agent") == (
            "Epygi Quadro SIP User Agent/v5.2.48 (QUADRO-2X)"
        )
        assert serializeMessage(message) == data


class TestLineEnd:
    """
    Line ends and message ends as phones and documents write them.
    """

    @pytest.mark.parametrize("name", sorted(KNOWN_VALUES))
    def test_lfOnly(self, name: str) -> None:
        """
        LF-only line ends give the same message as CRLF.
        """
        data = fixture(name).replace(b"\r\n", b"\n")
        assert parseMessage(data) == KNOWN_VALUES[name]

    def test_crlfLfEnding(self) -> None:
        """
        The Yealink SUBSCRIBE as its source writes it, ending in CRLF LF,
        parses like the CRLF CRLF one.
        """
        name = "Yealink-T21P-34.72.14.6-1.sip"
        data = fixture(name)
        assert data.endswith(b"\r\n\r\n")
        assert parseMessage(data[:-2] + b"\n") == KNOWN_VALUES[name]

    @pytest.mark.parametrize("cut", [2, 4])
    def test_noTrailingBlankLine(self, cut: int) -> None:
        """
        The snom720 SUBSCRIBE without the blank line (or without any line end
        after its last header) still parses, with an empty body.
        """
        name = "snom-snom720-7.1.19-1.sip"
        assert parseMessage(fixture(name)[:-cut]) == KNOWN_VALUES[name]

    def test_leadingBlankLines(self) -> None:
        """
        Empty lines before the start line (keep-alive CRLFs) are skipped.
        """
        name = "snom-OEM-7.1.19-1.sip"
        assert parseMessage(b"\r\n\r\n" + fixture(name)) == KNOWN_VALUES[name]

    def test_keepAliveAlone(self) -> None:
        """
        A datagram of nothing but CRLFs is not a message.
        """
        with pytest.raises(SIPParseError):
            parseMessage(b"\r\n\r\n")

    def test_foldedHeader(self) -> None:
        """
        A header continued on lines starting with a blank or a tab is joined
        with one space.
        """
        message = parseMessage(
            b"OPTIONS sip:a@b SIP/2.0\r\nSubject: one\r\n  two\r\n\tthree\r\n"
            b"Call-ID: x\r\n\r\n"
        )
        assert message.headers.items() == (("Subject", "one two three"), ("Call-ID", "x"))

    def test_foldedAfterStartLine(self) -> None:
        """
        A continuation line with no header before it spoils the start line.
        """
        with pytest.raises(SIPParseError):
            parseMessage(b"OPTIONS sip:a@b SIP/2.0\r\n x: y\r\n\r\n")


class TestBody:
    """
    C{Content-Length} decides the body.
    """

    HEAD = b"NOTIFY sip:a@b SIP/2.0\r\nCall-ID: x\r\n"

    def test_truncatedToContentLength(self) -> None:
        """
        Bytes after the declared length are not part of the body.
        """
        message = parseMessage(self.HEAD + b"Content-Length: 4\r\n\r\nabcdefg")
        assert message.body == b"abcd"

    def test_shorterThanContentLength(self) -> None:
        """
        A body shorter than declared is an error.
        """
        with pytest.raises(SIPParseError, match="shorter"):
            parseMessage(self.HEAD + b"Content-Length: 10\r\n\r\nabc")

    def test_noContentLength(self) -> None:
        """
        Without C{Content-Length}, the body is the rest of the datagram.
        """
        assert parseMessage(self.HEAD + b"\r\nab\r\ncd\r\n").body == b"ab\r\ncd\r\n"

    def test_compactContentLength(self) -> None:
        """
        The compact C{l:} counts as C{Content-Length}.
        """
        assert parseMessage(self.HEAD + b"l: 2\r\n\r\nabc").body == b"ab"

    @pytest.mark.parametrize(
        "value", [b"-1", b"x", b"1 2", b"\xd9\xa3", b"", b"\xc2\xb2"]
    )
    def test_badContentLength(self, value: bytes) -> None:
        """
        A C{Content-Length} that is not a decimal number is an error (also
        non-ASCII digits).
        """
        with pytest.raises(SIPParseError):
            parseMessage(self.HEAD + b"Content-Length: " + value + b"\r\n\r\n")

    def test_conflictingContentLengths(self) -> None:
        """
        Two different C{Content-Length}s are an error; two equal ones are
        not.
        """
        with pytest.raises(SIPParseError):
            parseMessage(self.HEAD + b"Content-Length: 1\r\nl: 2\r\n\r\nab")
        assert parseMessage(self.HEAD + b"Content-Length: 1\r\nl: 1\r\n\r\nab").body == b"a"

    def test_serializeFixesContentLength(self) -> None:
        """
        The serializer writes the body's real length in place of the first
        C{Content-Length}, drops others, and appends one when there is none.
        """
        headers = Headers([("Content-Length", "99"), ("Foo", "1"), ("content-length", "7")])
        assert serializeMessage(SIPRequest("M", "sip:x", headers, b"xyz")) == (
            b"M sip:x SIP/2.0\r\nContent-Length: 3\r\nFoo: 1\r\n\r\nxyz"
        )
        assert serializeMessage(SIPResponse(486, "Busy Here", Headers([("Foo", "1")]))) == (
            b"SIP/2.0 486 Busy Here\r\nFoo: 1\r\nContent-Length: 0\r\n\r\n"
        )


class TestEncoding:
    """
    UTF-8 and bytes that are not UTF-8.
    """

    def test_typographicQuotes(self) -> None:
        """
        The M700's UTF-8 typographic quotes are decoded as such.
        """
        message = parseMessage(fixture("snom-M700-03.23.0005-1.sip"))
        assert "vendor=\u201csnom\u201c" in message.headers.get("Event")

    def test_strayBytesRoundTrip(self) -> None:
        """
        Bytes that are not UTF-8 in a header survive a parse and serialize
        unchanged.
        """
        data = b"OPTIONS sip:a@b SIP/2.0\r\nUser-Agent: caf\xe9 \xff\r\nContent-Length: 0\r\n\r\n"
        message = parseMessage(data)
        assert message.headers.get("User-Agent") == "caf\udce9 \udcff"
        assert serializeMessage(message) == data


class TestStartLine:
    """
    Request and status lines.
    """

    def test_response(self) -> None:
        """
        A status line gives the code as a number and the reason as written,
        spaces included, or empty.
        """
        assert parseMessage(b"SIP/2.0 489 Bad Event\r\n\r\n") == SIPResponse(
            489, "Bad Event", Headers(), b""
        )
        assert parseMessage(b"SIP/2.0 200\r\n\r\n").reason == ""

    @pytest.mark.parametrize(
        "line",
        [
            b"SIP/2.0 20 OK",
            b"SIP/2.0 099 Low",
            b"SIP/2.0 700 High",
            b"SIP/3.0 200 OK",
            b"SIP/2.0 2x0 OK",
            b"SUBSCRIBE sip:a@b SIP/3.0",
            b"SUBSCRIBE sip:a@b",
            b"SUBSCRIBE  sip:a@b SIP/2.0",
            b"SUB(SCRIBE sip:a@b SIP/2.0",
            b"GET / HTTP/1.1",
            b"\x00\x01\x02",
        ],
    )
    def test_badStartLine(self, line: bytes) -> None:
        """
        Start lines that are neither a SIP/2.0 request nor a status line
        are errors.
        """
        with pytest.raises(SIPParseError):
            parseMessage(line + b"\r\nCall-ID: x\r\n\r\n")

    @pytest.mark.parametrize(
        "line",
        [b"no colon here", b": empty name", b"bad name: x", b"na\xffme: x"],
    )
    def test_badHeaderLine(self, line: bytes) -> None:
        """
        Header lines without a colon or whose name is not a token are
        errors.
        """
        with pytest.raises(SIPParseError):
            parseMessage(b"OPTIONS sip:a@b SIP/2.0\r\n" + line + b"\r\n\r\n")

    def test_oversize(self) -> None:
        """
        Input longer than C{maxSize} is refused before it is looked at.
        """
        data = b"OPTIONS sip:a@b SIP/2.0\r\n\r\n" + b"x" * MAX_MESSAGE_SIZE
        with pytest.raises(SIPParseError, match="over"):
            parseMessage(data)
        assert parseMessage(data, maxSize=len(data)).body.startswith(b"xxx")

    def test_notBytes(self) -> None:
        """
        Text instead of bytes is a parse error, not a C{TypeError}.
        """
        with pytest.raises(SIPParseError):
            parseMessage("OPTIONS sip:a@b SIP/2.0\r\n\r\n")  # type: ignore[arg-type]


class TestHeaders:
    """
    L{Headers}: order, repetition, case-insensitive and compact lookup,
    list splitting.
    """

    def test_compactFormsExpanded(self) -> None:
        """
        Compact names are stored under their full names and found by
        either.
        """
        message = parseMessage(
            b"SUBSCRIBE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h\r\nf: <sip:a@b>\r\n"
            b"t: <sip:a@b>\r\ni: c1\r\nm: <sip:h>\r\no: ua-profile\r\nk: path\r\n"
            b"u: dialog\r\nc: text/plain\r\nl: 0\r\ns: hi\r\nE: gzip\r\n\r\n"
        )
        names = [name for name, _ in message.headers]
        assert names == [
            "Via", "From", "To", "Call-ID", "Contact", "Event", "Supported",
            "Allow-Events", "Content-Type", "Content-Length", "Subject",
            "Content-Encoding",
        ]
        assert message.headers.get("i") == message.headers.get("CALL-ID") == "c1"
        assert message.headers.get("O") == "ua-profile"

    def test_getAllSplitsLists(self) -> None:
        """
        C{getAll} gives each element of comma-separated list headers over
        all their lines; commas inside quotes or angle brackets do not
        split.
        """
        headers = Headers(
            [
                ("Via", "SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b"),
                ("v", "SIP/2.0/UDP c;x=\"1,2\""),
                ("Contact", '"Doe, J" <sip:j@h;a=1,2>, <sip:k@h>'),
            ]
        )
        assert headers.getAll("via") == [
            "SIP/2.0/UDP a;branch=1", "SIP/2.0/UDP b", 'SIP/2.0/UDP c;x="1,2"'
        ]
        assert headers.get("Via") == "SIP/2.0/UDP a;branch=1"
        assert headers.getAll("m") == ['"Doe, J" <sip:j@h;a=1,2>', "<sip:k@h>"]
        assert headers.getLines("Via") == [
            "SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b", 'SIP/2.0/UDP c;x="1,2"'
        ]

    def test_nonListHeadersNotSplit(self) -> None:
        """
        Commas in headers that are not lists (User-Agent, Date) stay.
        """
        headers = Headers([("User-Agent", "a, b"), ("User-Agent", "c")])
        assert headers.getAll("user-agent") == ["a, b", "c"]
        assert headers.get("User-Agent") == "a, b"

    def test_missing(self) -> None:
        """
        A missing header gives C{None} (or the default) and an empty list.
        """
        headers = Headers([("Foo", "1")])
        assert headers.get("Bar") is None
        assert headers.get("Bar", "x") == "x"
        assert headers.getAll("Bar") == []
        assert "foo" in headers and "bar" not in headers and 3 not in headers

    def test_equalityAndOrder(self) -> None:
        """
        Headers are equal when they hold the same lines in the same order.
        """
        assert Headers([("Foo", "1"), ("Bar", "2")]) == Headers([("Foo", "1"), ("Bar", "2")])
        assert Headers([("Foo", "1"), ("Bar", "2")]) != Headers([("Bar", "2"), ("Foo", "1")])
        assert len(Headers([("Foo", "1"), ("Foo", "1")])) == 2

    def test_refusesLineBreaks(self) -> None:
        """
        A value with a line break (header injection) is refused.
        """
        with pytest.raises(SIPParseError):
            Headers([("Foo", "1\r\nBar: 2")])

    def test_canonicalHeaderName(self) -> None:
        """
        Compact names expand; other names keep their spelling; non-tokens
        are refused.
        """
        assert canonicalHeaderName("v") == "Via"
        assert canonicalHeaderName("cseq") == "cseq"
        with pytest.raises(SIPParseError):
            canonicalHeaderName("a b")


class TestParams:
    """
    L{parseParams}, L{parseNameAddr}, L{parseVia}, L{splitList}.
    """

    @pytest.mark.parametrize(
        "text, expected",
        [
            (
                'ua-profile;profile-type="device";vendor="snom"',
                ("ua-profile", {"profile-type": "device", "vendor": "snom"}),
            ),
            ("a ; B = 1 ;flag; c=\"x;y\"", ("a", {"b": "1", "flag": "", "c": "x;y"})),
            ('x;q="a\\"b"', ("x", {"q": 'a"b'})),
            ("x;a=1;a=2;;=3", ("x", {"a": "1"})),
            ("", ("", {})),
        ],
    )
    def test_parseParams(self, text: str, expected: tuple) -> None:
        """
        Values are split from their parameters; names are lower-cased,
        quoted values unquoted, flags empty, the first repeat wins.
        """
        assert parseParams(text) == expected

    @pytest.mark.parametrize(
        "text, expected",
        [
            ("<sip:a@b>;tag=1", ("", "sip:a@b", {"tag": "1"})),
            ('"Bob \\"B\\"" <sip:bob@h;lr>;tag=x', ('Bob "B"', "sip:bob@h;lr", {"tag": "x"})),
            ("Bob Smith <sip:bob@h>", ("Bob Smith", "sip:bob@h", {})),
            ("sip:a@b;tag=9", ("", "sip:a@b", {"tag": "9"})),
            ('"a<b" <sip:x@y>', ("a<b", "sip:x@y", {})),
            ("<sip:MAC%3a00135E874B49>", ("", "sip:MAC%3a00135E874B49", {})),
        ],
    )
    def test_parseNameAddr(self, text: str, expected: tuple) -> None:
        """
        From/To/Contact values with or without angle brackets and display
        names.
        """
        assert parseNameAddr(text) == expected

    @pytest.mark.parametrize("text", ["", "<sip:a@b", '"unterminated <sip:a@b>', '"x" sip:a@b', "<>"])
    def test_parseNameAddrErrors(self, text: str) -> None:
        """
        Missing URIs and unclosed brackets or quotes are errors.
        """
        with pytest.raises(SIPParseError):
            parseNameAddr(text)

    @pytest.mark.parametrize(
        "text, expected",
        [
            (
                "SIP/2.0/UDP 192.168.1.2:5080;branch=z9hG4bK1;rport",
                Via("SIP/2.0/UDP", "192.168.1.2", 5080, {"branch": "z9hG4bK1", "rport": ""}),
            ),
            ("SIP / 2.0 / tcp host.example", Via("SIP/2.0/TCP", "host.example", None, {})),
            ("SIP/2.0/UDP [2001:db8::1]:5060;received=x", Via("SIP/2.0/UDP", "[2001:db8::1]", 5060, {"received": "x"})),
        ],
    )
    def test_parseVia(self, text: str, expected: Via) -> None:
        """
        A Via gives its protocol, sent-by host and port and parameters.
        """
        assert parseVia(text) == expected

    @pytest.mark.parametrize(
        "text", ["SIP/2.0/UDP $ip:$port.", "SIP/2.0/UDP", "UDP host", "SIP/2.0/UDP h:70000", "SIP/2.0/UDP [::1"]
    )
    def test_parseViaErrors(self, text: str) -> None:
        """
        A Via without a valid sent-by is an error (the Yealink template's
        placeholder port among them).
        """
        with pytest.raises(SIPParseError):
            parseVia(text)

    def test_splitList(self) -> None:
        """
        List elements are stripped and empty ones dropped.
        """
        assert splitList("a, b,,c ") == ["a", "b", "c"]
        assert splitList("") == []


# Hypothesis strategies for messages that serialize unambiguously.
_tokens = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~",
    min_size=2,
    max_size=12,
).filter(lambda n: n.lower() != "content-length")
_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
    max_size=40,
).map(str.strip)
_headerLists = st.lists(st.tuples(_tokens, _values), max_size=10)
_bodies = st.binary(max_size=60)


@st.composite
def messages(draw: st.DrawFn) -> SIPRequest | SIPResponse:
    """
    A request or response whose C{Content-Length} is right and sits
    anywhere among its headers.
    """
    items = draw(_headerLists)
    body = draw(_bodies)
    at = draw(st.integers(0, len(items)))
    items.insert(at, ("Content-Length", str(len(body))))
    headers = Headers(items)
    if draw(st.booleans()):
        uri = draw(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30))
        return SIPRequest(draw(_tokens), uri, headers, body)
    reason = draw(_values)
    return SIPResponse(draw(st.integers(100, 699)), reason, headers, body)


class TestProperty:
    """
    Properties over generated messages and arbitrary bytes.
    """

    @given(messages())
    def test_roundTrip(self, message: SIPRequest | SIPResponse) -> None:
        """
        Serializing then parsing gives the message back.
        """
        assert parseMessage(serializeMessage(message)) == message

    @given(st.binary(max_size=300))
    def test_arbitraryBytes(self, data: bytes) -> None:
        """
        Any bytes either parse, re-serialize and parse again to the same
        message, or raise L{SIPParseError}: nothing else.
        """
        try:
            message = parseMessage(data)
        except SIPParseError:
            return
        again = parseMessage(serializeMessage(message))
        assert again.headers.getAll("Via") == message.headers.getAll("Via")
        assert again.body == message.body

    @settings(max_examples=200)
    @given(
        st.sampled_from(sorted(KNOWN_VALUES)),
        st.integers(0, 800),
        st.binary(max_size=8),
    )
    def test_mutatedFixtures(self, name: str, at: int, junk: bytes) -> None:
        """
        Fixtures cut short or with junk spliced in never raise anything but
        L{SIPParseError}.
        """
        data = fixture(name)
        for candidate in (data[:at], data[:at] + junk + data[at:], data[:at] + junk):
            try:
                parseMessage(candidate)
            except SIPParseError:
                pass

    @given(st.text(alphabet='ab;,"<>\\ ', max_size=30), st.sampled_from(";,"))
    def test_splitQuotedFastPathsAgree(self, text: str, sep: str) -> None:
        """
        The split-and-glue fast paths of L{splitQuoted} agree with the
        character scanner.
        """
        assert splitQuoted(text, sep) == _scanSplit(text, sep)
