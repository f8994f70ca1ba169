"""
Tests for L{snomprov.sip.uaprofile}: what each fixture SUBSCRIBE says of its
phone, and the replies we build, parsed back and checked header by header
against DESIGN.md §1.1 and against the real servers' replies in the
fixtures.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, strategies as st

from snomprov.device import InvalidMAC, ProfileRequest, parseMAC
from snomprov.sip.message import (
    SIPParseError,
    SIPRequest,
    SIPResponse,
    parseMessage,
    parseNameAddr,
    parseVia,
)
from snomprov.sip.decoded import decodedFrom as D
from snomprov.sip.uaprofile import (
    ALLOWED_METHODS,
    headerLines,
    buildNotify,
    buildResponse,
    buildResyncNotify,
    buildSubscribeOK,
    isUAProfileSubscribe,
    macFromURI,
    newBranch,
    newTag,
    ProfileReader,
    readProfileRequest,
    subscribeKey,
    transactionKey,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "sip")
OURS = "sip:192.0.2.10:5060"
URL = "http://192.0.2.10:8080/snom/{mac}.xml"


def load(name: str) -> SIPRequest | SIPResponse:
    """
    The parsed fixture C{name}.
    """
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return parseMessage(f.read())


def request(*headerLines: str, uri: str = "sip:MAC%3a000413922D24@224.0.1.75") -> SIPRequest:
    """
    A SUBSCRIBE with the given header lines.
    """
    data = f"SUBSCRIBE {uri} SIP/2.0\r\n" + "".join(h + "\r\n" for h in headerLines) + "\r\n"
    message = parseMessage(data.encode("utf-8"))
    assert isinstance(message, SIPRequest)
    return message


BASIC = (
    "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKabc;rport",
    "From: <sip:MAC%3a000413922D24@224.0.1.75>;tag=ft1",
    "To: <sip:MAC%3a000413922D24@224.0.1.75>",
    "Call-ID: cid1@10.0.0.5",
    "CSeq: 7 SUBSCRIBE",
    "Contact: <sip:10.0.0.5:5060>",
    'Event: ua-profile;profile-type="device";vendor="snom";model="snomD785";version="10.1.33.33"',
)

SUBSCRIBES = {
    "AudioCodes-420HD-1.2.1_build_6-1.sip": ProfileRequest(
        mac=None, vendor=None, model="420HD", version="1.2.1_build_6",
        profileType="application", userAgent="AUDC-IPPhone/1.2.1_build_6", ip="10.13.2.37",
    ),
    "Grandstream-GRP2612W-1.0.5.67-1.sip": ProfileRequest(
        mac="C074AD112233", vendor="Grandstream", model="GRP2612W", version="1.0.5.67",
        profileType="device", userAgent="Grandstream GRP2612W 1.0.5.67", ip="192.168.1.2",
    ),
    "Yealink-T21P-34.72.14.6-1.sip": ProfileRequest(
        mac=None, vendor="Yealink", model="T21D", version="34.72.14.6",
        profileType="device", userAgent="Yealink SIP-T21P 34.72.14.6", ip="10.0.0.1",
    ),
    "snom-M700-03.23.0005-1.sip": ProfileRequest(
        mac=None, vendor="snom", model="snomM700", version="03.23.0005", profileType="device",
        userAgent="snomM700/03.23.0005 (MAC=0004136*****; SER= 00000; HW=255)", ip="10.0.0.90",
    ),
    "snom-OEM-7.1.19-1.sip": ProfileRequest(
        mac="00135E874B49", vendor="OEM", model="OEM", version="7.1.19",
        profileType="device", userAgent=None, ip="192.168.10.67",
    ),
    "snom-snom360-7.3.14-1.sip": ProfileRequest(
        mac="00041329882C", vendor="snom", model="snom360", version="7.3.14",
        profileType="device", userAgent=None, ip="141.41.40.131",
    ),
    "snom-snom720-7.1.19-1.sip": ProfileRequest(
        mac="00135E874B49", vendor="snom", model="snom720", version="7.1.19",
        profileType="device", userAgent=None, ip="172.16.18.90",
    ),
}


class TestReadProfileRequest:
    """
    L{readProfileRequest} and L{isUAProfileSubscribe}.
    """

    @pytest.mark.parametrize("name", sorted(SUBSCRIBES))
    def test_fixture(self, name: str) -> None:
        """
        Each fixture SUBSCRIBE gives the expected MAC, Event parameters and
        User-Agent; masked and placeholder MACs give none, the M700's
        typographic quotes are dropped.
        """
        expected = SUBSCRIBES[name]
        message = load(name)
        assert isUAProfileSubscribe(D(message))
        assert readProfileRequest(D(message), expected.ip) == expected

    def test_labelWithoutSeparatorLeftToVendors(self) -> None:
        """
        Yealink's C{MAC<hex>} user part, without C{%3a}, is not read by the
        server (the vendor reads it: tests/test_vendor_generic.py).
        """
        with open(os.path.join(FIXTURES, "Yealink-T21P-34.72.14.6-1.sip"), "rb") as f:
            data = f.read().replace(b"$mac", b"001565aabbcc").replace(b"$ip", b"10.0.0.9")
        data = data.replace(b"$port.", b"5059").replace(b"$port", b"5059")
        assert readProfileRequest(D(parseMessage(data)), "10.0.0.9").mac is None

    @pytest.mark.parametrize(
        "uri, expected",
        [
            ("sip:MAC%3a000413922D24@224.0.1.75", "000413922D24"),
            ("sip:MAC%3A000413922d24@224.0.1.75", "000413922D24"),
            ("sip:MAC000413922D24@224.0.1.75", None),
            ("sip:MAC=000413922D24@h", "000413922D24"),
            ("sip:MAC%3d000413922D24@h", "000413922D24"),
            ("sip:mac:00:04:13:92:2d:24@h", "000413922D24"),
            ("sip:000413922D24@h", None),
            ("sip:MAC%3a0004136*****@224.0.1.75", None),
            ("sip:224.0.1.75:5060", None),
            ("sip:MAC%3a000413922D24", None),
            ("nonsense", None),
        ],
    )
    def test_macFromURI(self, uri: str, expected: str | None) -> None:
        """
        The MAC forms phones write into a user part are read; a bare number
        and a URI without user part give none.
        """
        assert macFromURI(uri) == expected

    @given(
        st.sampled_from(["MAC", "mac", "MAC%3a", "MAC%3A", "MAC=", "MAC%3d", "MAC:"]),
        st.text(alphabet="0123456789abcdefABCDEFg:-.*", min_size=10, max_size=19),
    )
    def test_macFastPathAgreesWithParseMAC(self, prefix: str, rest: str) -> None:
        """
        Whatever follows the C{MAC} label and a separator, L{macFromURI}
        gives what L{parseMAC} gives for the unescaped user part (or C{None}
        where it refuses); without a separator, C{None}.
        """
        user = prefix.replace("%3a", ":").replace("%3A", ":").replace("%3d", "=") + rest
        try:
            expected = parseMAC(user) if user[3:4] in (":", "=") else None
        except InvalidMAC:
            expected = None
        assert macFromURI(f"sip:{prefix}{rest}@224.0.1.75") == expected

    def test_macFromFromOrTo(self) -> None:
        """
        Without a MAC in the Request-URI, the From URI's MAC is used, then
        the To URI's.
        """
        fromOnly = request(
            "From: <sip:MAC%3a000413000001@h>;tag=1", "To: <sip:MAC%3a000413000002@h>",
            uri="sip:224.0.1.75",
        )
        toOnly = request("From: <sip:1@h>;tag=1", "To: <sip:MAC%3a000413000002@h>", uri="sip:224.0.1.75")
        assert readProfileRequest(D(fromOnly), "1.2.3.4").mac == "000413000001"
        assert readProfileRequest(D(toOnly), "1.2.3.4").mac == "000413000002"

    def test_venderLeftToVendors(self) -> None:
        """
        Panasonic's C{vender=} is not read by the server as C{vendor=} (the
        vendor reads it: tests/test_vendor_generic.py).
        """
        assert readProfileRequest(D(request('Event: ua-profile;vender="Panasonic"')), "ip").vendor is None
        assert readProfileRequest(D(request("Event: ua-profile;vender=a;vendor=b")), "ip").vendor == "b"

    def test_readerRemembersBounded(self) -> None:
        """
        A L{ProfileReader} reads what L{readProfileRequest} reads, and
        remembers at most its limit of C{Event} values.
        """
        reader = ProfileReader(maxEvents=2)
        for version in range(5):
            subscribe = D(request(*BASIC[:-1], f'Event: ua-profile;vendor="snom";version="{version}"'))
            assert reader.read(subscribe, "ip") == readProfileRequest(subscribe, "ip")
            assert reader.read(subscribe, "ip").version == str(version)
            assert len(reader._events) <= 2

    def test_noEvent(self) -> None:
        """
        A SUBSCRIBE without Event gives no Event fields and is not a
        ua-profile SUBSCRIBE.
        """
        message = request("From: <sip:a@b>;tag=1")
        assert readProfileRequest(D(message), "1.2.3.4") == ProfileRequest(mac="000413922D24", ip="1.2.3.4")
        assert not isUAProfileSubscribe(D(message))

    def test_otherEventsAndMethods(self) -> None:
        """
        Other events, other methods and responses are not ua-profile
        SUBSCRIBEs; the event name is matched without regard to case or
        compact form.
        """
        assert not isUAProfileSubscribe(D(request("Event: dialog")))
        assert isUAProfileSubscribe(D(request("o: UA-Profile ;vendor=x")))
        notify = load("AudioCodes-310HD-1.2.0-1.notify.sip")
        assert not isUAProfileSubscribe(D(notify))
        assert not isUAProfileSubscribe(D(load("AudioCodes-310HD-1.2.0-1.200.sip")))


def names(message: SIPRequest | SIPResponse) -> list[str]:
    """
    The header names of a message, in order.
    """
    return [name for name, _ in message.headers]


class TestSubscribeOK:
    """
    L{buildSubscribeOK} (DESIGN.md §1.1 step 2).
    """

    @pytest.mark.parametrize("name", sorted(SUBSCRIBES))
    def test_fixture(self, name: str) -> None:
        """
        For each fixture, the 200 has every Via (the top one with
        C{received} and a filled C{rport}), From, To plus our tag, Call-ID,
        CSeq, our Contact, C{Expires: 0}, C{Content-Length: 0}, and nothing
        else.
        """
        subscribe = load(name)
        ok = parseMessage(buildSubscribeOK(D(subscribe), ("198.51.100.7", 5062), "tag42", OURS))
        assert isinstance(ok, SIPResponse)
        assert (ok.code, ok.reason, ok.body) == (200, "OK", b"")
        assert names(ok) == [
            "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Expires", "Content-Length"
        ]
        theirVia = subscribe.headers.getAll("Via")
        top = ok.headers.getAll("Via")[0]
        assert top.startswith(theirVia[0].split(";")[0])
        assert "received=198.51.100.7" in top.split(";")
        assert "rport=5062" in top.split(";")
        assert ok.headers.getAll("Via")[1:] == theirVia[1:]
        assert ok.headers.get("From") == subscribe.headers.get("From")
        assert ok.headers.get("To") == subscribe.headers.get("To") + ";tag=tag42"
        for header in ("Call-ID", "CSeq"):
            assert ok.headers.get(header) == subscribe.headers.get(header)
        assert ok.headers.get("Contact") == f"<{OURS}>"
        assert ok.headers.get("Expires") == "0"
        assert ok.headers.get("Content-Length") == "0"

    def test_headerSetOfRealServers(self) -> None:
        """
        Our 200 has the header set of AudioCodes' example 200, and of the
        snom PnP server's but for the Record-Route its proxy added.
        """
        ours = set(names(parseMessage(buildSubscribeOK(
            D(load("snom-OEM-7.1.19-1.sip")), ("192.168.10.67", 5060), "t", OURS
        ))))
        assert ours == set(names(load("AudioCodes-310HD-1.2.0-1.200.sip")))
        assert ours == set(names(load("snom-OEM-7.1.19-1.200.sip"))) - {"Record-Route"}

    def test_likeSnomServer(self) -> None:
        """
        To the snom OEM SUBSCRIBE, our 200 carries what snom's own server
        sent: the same From, To URI, Call-ID, CSeq, Expires, and
        C{rport=5060} on the top Via.
        """
        ours = parseMessage(buildSubscribeOK(
            D(load("snom-OEM-7.1.19-1.sip")), ("192.168.10.67", 5060), "91955270", OURS
        ))
        theirs = load("snom-OEM-7.1.19-1.200.sip")
        for header in ("From", "To", "Call-ID", "CSeq", "Expires", "Content-Length"):
            assert ours.headers.get(header) == theirs.headers.get(header).strip()
        assert parseVia(ours.headers.get("Via")).params["rport"] == "5060"
        assert parseVia(theirs.headers.get("Via")).params["rport"] == "5060"

    @pytest.mark.parametrize(
        "via, expected",
        [
            ("SIP/2.0/UDP h:5060;branch=z9hG4bK1", "SIP/2.0/UDP h:5060;branch=z9hG4bK1;received=192.0.2.1;rport=4000"),
            ("SIP/2.0/UDP h:5060;rport;branch=b", "SIP/2.0/UDP h:5060;rport=4000;branch=b;received=192.0.2.1"),
            ("SIP/2.0/UDP h;rport=1;received=9.9.9.9", "SIP/2.0/UDP h;rport=4000;received=192.0.2.1"),
            ('SIP/2.0/UDP h;x="a;rport";RPORT', 'SIP/2.0/UDP h;x="a;rport";rport=4000;received=192.0.2.1'),
        ],
    )
    def test_topVia(self, via: str, expected: str) -> None:
        """
        C{rport} absent, empty or wrong is set to the source port;
        C{received} is set to the source address, replacing any.
        """
        ok = parseMessage(buildSubscribeOK(
            D(request(f"Via: {via}", *BASIC[1:])), ("192.0.2.1", 4000), "t", OURS
        ))
        assert ok.headers.get("Via") == expected

    def test_everyVia(self) -> None:
        """
        Several Vias, on one line or several, are all copied in order, one
        per line, only the top one changed.
        """
        subscribe = request(
            "Via: SIP/2.0/UDP p1;branch=1, SIP/2.0/UDP p2;branch=2", "v: SIP/2.0/UDP h;branch=3",
            *BASIC[1:],
        )
        ok = parseMessage(buildSubscribeOK(D(subscribe), ("192.0.2.1", 5060), "t", OURS))
        assert ok.headers.getLines("Via") == [
            "SIP/2.0/UDP p1;branch=1;received=192.0.2.1;rport=5060",
            "SIP/2.0/UDP p2;branch=2",
            "SIP/2.0/UDP h;branch=3",
        ]

    def test_existingToTagKept(self) -> None:
        """
        A To that has a tag already keeps it and gets no second one.
        """
        subscribe = request(*BASIC[:2], "To: <sip:x@y;tag=no>;tag=theirs", *BASIC[3:])
        ok = parseMessage(buildSubscribeOK(D(subscribe), ("192.0.2.1", 5060), "mine", OURS))
        assert parseNameAddr(ok.headers.get("To"))[2] == {"tag": "theirs"}
        uriTag = request(*BASIC[:2], "To: <sip:x@y;tag=no>", *BASIC[3:])
        ok = parseMessage(buildSubscribeOK(D(uriTag), ("192.0.2.1", 5060), "mine", OURS))
        assert parseNameAddr(ok.headers.get("To"))[2] == {"tag": "mine"}

    @pytest.mark.parametrize("missing", ["Via", "From", "To", "Call-ID", "CSeq"])
    def test_missingHeader(self, missing: str) -> None:
        """
        A SUBSCRIBE without a header the 200 must copy is a L{SIPParseError}.
        """
        subscribe = request(*(h for h in BASIC if not h.startswith(missing + ":")))
        with pytest.raises(SIPParseError, match=missing):
            buildSubscribeOK(D(subscribe), ("192.0.2.1", 5060), "t", OURS)


class TestOtherResponses:
    """
    L{buildResponse} for the answers of DESIGN.md §1.1 step 6.
    """

    def test_badEvent(self) -> None:
        """
        A 489 copies the dialog headers and has no extra ones.
        """
        response = parseMessage(buildResponse(D(request(*BASIC)), 489, "Bad Event", ("192.0.2.1", 5060), "t"))
        assert (response.code, response.reason) == (489, "Bad Event")
        assert names(response) == ["Via", "From", "To", "Call-ID", "CSeq", "Content-Length"]

    def test_extraHeadersInOrder(self) -> None:
        """
        Extra headers (C{Allow} of a 405 or an OPTIONS 200) follow CSeq, in
        the order given.
        """
        response = parseMessage(buildResponse(
            D(request(*BASIC)), 405, "Method Not Allowed", ("192.0.2.1", 5060), "t",
            headerLines(("Allow", ALLOWED_METHODS), ("Accept", "application/url")),
        ))
        assert names(response)[4:] == ["CSeq", "Allow", "Accept", "Content-Length"]
        assert response.headers.getAll("Allow") == ["SUBSCRIBE", "NOTIFY", "OPTIONS"]


class TestNotify:
    """
    L{buildNotify} (DESIGN.md §1.1 step 3).
    """

    def build(self, subscribe: SIPRequest, body: str = URL) -> SIPRequest:
        """
        Our NOTIFY to C{subscribe}, parsed back.
        """
        notify = parseMessage(
            buildNotify(D(subscribe), "tag42", "z9hG4bKbr1", 3, OURS, "192.0.2.10:5060", body)
        )
        assert isinstance(notify, SIPRequest)
        return notify

    @pytest.mark.parametrize("name", sorted(SUBSCRIBES))
    def test_fixture(self, name: str) -> None:
        """
        For each fixture, the NOTIFY goes to the SUBSCRIBE's Contact URI and
        has the headers of §1.1 step 3, in order, with the URL as body.
        """
        subscribe = load(name)
        notify = self.build(subscribe)
        assert notify.method == "NOTIFY"
        assert notify.uri == parseNameAddr(subscribe.headers.get("Contact"))[1]
        assert names(notify) == [
            "Via", "Max-Forwards", "From", "To", "Call-ID", "CSeq", "Contact", "Event",
            "Subscription-State", "Content-Type", "Content-Length",
        ]
        h = notify.headers
        assert h.get("Via") == "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKbr1;rport"
        assert h.get("Max-Forwards") == "70"
        assert h.get("From") == subscribe.headers.get("To") + ";tag=tag42"
        assert h.get("To") == subscribe.headers.get("From")
        assert h.get("Call-ID") == subscribe.headers.get("Call-ID")
        assert h.get("CSeq") == "3 NOTIFY"
        assert h.get("Contact") == f"<{OURS}>"
        assert h.get("Event") == subscribe.headers.get("Event")
        assert h.get("Subscription-State") == "terminated;reason=timeout"
        assert h.get("Content-Type") == "application/url"
        assert notify.body == URL.encode()
        assert h.get("Content-Length") == str(len(URL))

    def test_sameDialogAsTheOK(self) -> None:
        """
        With the same tag, the NOTIFY's From is the 200's To and its To the
        200's From.
        """
        subscribe = load("Grandstream-GRP2612W-1.0.5.67-1.sip")
        ok = parseMessage(buildSubscribeOK(D(subscribe), ("192.168.1.2", 5080), "tag42", OURS))
        notify = self.build(subscribe)
        assert notify.headers.get("From") == ok.headers.get("To")
        assert notify.headers.get("To") == ok.headers.get("From")

    def test_headerSetOfRealServers(self) -> None:
        """
        Our NOTIFY has the header set of AudioCodes' example NOTIFY, and
        that of the Epygi NOTIFY to an Akuvox phone but for its User-Agent.
        """
        ours = set(names(self.build(load("AudioCodes-420HD-1.2.1_build_6-1.sip"))))
        assert ours == set(names(load("AudioCodes-310HD-1.2.0-1.notify.sip")))
        with open(os.path.join(FIXTURES, "Akuvox-R20K-220.30.3.1-1.notify.sip"), "rb") as f:
            akuvox = parseMessage(f.read().replace(b"{4}", b"3").replace(b"{5}", b"url"))
        assert ours == set(names(akuvox)) - {"User-Agent"}

    def test_fallBackToFrom(self) -> None:
        """
        Without a Contact (or with C{*}), the NOTIFY goes to the From URI.
        """
        withoutContact = request(*(h for h in BASIC if not h.startswith("Contact")))
        star = request(*(h for h in BASIC if not h.startswith("Contact")), "Contact: *")
        for subscribe in (withoutContact, star):
            assert self.build(subscribe).uri == "sip:MAC%3a000413922D24@224.0.1.75"

    def test_utf8BodyLength(self) -> None:
        """
        C{Content-Length} counts the bytes of the UTF-8 body, not its
        characters.
        """
        notify = self.build(request(*BASIC), body="http://h/caf\u00e9")
        assert notify.body == "http://h/caf\u00e9".encode()
        assert notify.headers.get("Content-Length") == str(len(notify.body))

    def test_typographicEventCopied(self) -> None:
        """
        The Event is copied exactly, the M700's typographic quotes and all.
        """
        subscribe = load("snom-M700-03.23.0005-1.sip")
        assert self.build(subscribe).headers.get("Event") == subscribe.headers.get("Event")

    def test_branchCookie(self) -> None:
        """
        A branch without the RFC 3261 magic cookie gets it.
        """
        notify = parseMessage(buildNotify(D(request(*BASIC)), "t", "abc", 1, OURS, "h:5060", URL))
        assert parseVia(notify.headers.get("Via")).params["branch"] == "z9hG4bKabc"

    def test_transactionKeyMatchesTheResponse(self) -> None:
        """
        The phone's 200 to our NOTIFY has the NOTIFY's transaction key.
        """
        notify = self.build(request(*BASIC))
        phoneOK = parseMessage(buildResponse(D(notify), 200, "OK", ("192.0.2.10", 5060), "x"))
        assert transactionKey(phoneOK) == transactionKey(notify) == ("cid1@10.0.0.5", 3)


class TestResyncNotify:
    """
    L{buildResyncNotify} (DESIGN.md §1.4).
    """

    @pytest.mark.parametrize("event", ["check-sync;reboot=false", "resync"])
    def test_headers(self, event: str) -> None:
        """
        The push NOTIFY goes to the phone's URI, with our Via, our Contact
        as From (with our tag), the phone as To, the vendor's Event and no
        body.
        """
        notify = parseMessage(buildResyncNotify(
            "sip:4711@192.0.2.50:5060", "192.0.2.1:5060", "z9hG4bKx", "ft", "c1@192.0.2.1",
            2, "sip:prov@192.0.2.1", event,
        ))
        assert isinstance(notify, SIPRequest)
        assert (notify.method, notify.uri, notify.body) == ("NOTIFY", "sip:4711@192.0.2.50:5060", b"")
        assert notify.headers.items() == (
            ("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx;rport"),
            ("Max-Forwards", "70"),
            ("From", "<sip:prov@192.0.2.1>;tag=ft"),
            ("To", "<sip:4711@192.0.2.50:5060>"),
            ("Call-ID", "c1@192.0.2.1"),
            ("CSeq", "2 NOTIFY"),
            ("Contact", "<sip:prov@192.0.2.1>"),
            ("Event", event),
            ("Content-Length", "0"),
        )


class TestKeysAndTokens:
    """
    L{subscribeKey}, L{transactionKey}, L{newTag}, L{newBranch}.
    """

    def test_subscribeKey(self) -> None:
        """
        A SUBSCRIBE is known by Call-ID, From tag and CSeq number; a From
        without tag (Fanvil) gives an empty tag.
        """
        assert subscribeKey(D(request(*BASIC))) == ("cid1@10.0.0.5", "ft1", 7)
        fanvil = request(*(h for h in BASIC if not h.startswith("From")), "From: <sip:a@b>")
        assert subscribeKey(D(fanvil)) == ("cid1@10.0.0.5", "", 7)

    @pytest.mark.parametrize("cseq", ["CSeq: x SUBSCRIBE", "CSeq: \u0663 SUBSCRIBE"])
    def test_badCSeq(self, cseq: str) -> None:
        """
        A CSeq that does not start with a decimal number is a parse error.
        """
        message = request(*(h for h in BASIC if not h.startswith("CSeq")), cseq)
        with pytest.raises(SIPParseError):
            transactionKey(message)

    def test_fresh(self) -> None:
        """
        Tags and branches are fresh each time; branches carry the magic
        cookie.
        """
        assert newTag() != newTag()
        assert newBranch() != newBranch()
        assert newBranch().startswith("z9hG4bK")

