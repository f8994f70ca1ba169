"""
Tests for L{snomprov.csvimport}: good and bad devices CSV files, properties
over arbitrary text and generated plans, and applying a plan to a store.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.python.failure import Failure

from snomprov.csvimport import (
    MAX_LINE,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    CSVImportError,
    ImportPlan,
    checkDeviceCSV,
    parseDeviceCSV,
)
from snomprov.device import DeviceInfo, Line, formatMAC
from snomprov.store.memory import MemoryDeviceStore

VENDORS = ("snom", "linksys")
HEADER = "mac,vendor,model,line,user,password,display_name,registrar"


def parse(text, filename="devices.csv"):
    return parseDeviceCSV(text, VENDORS, filename)


def errorsOf(text):
    with pytest.raises(CSVImportError) as info:
        parse(text)
    return info.value.errors


def succeeded(d):
    """
    The result of an already-fired Deferred that did not fail.
    """
    results = []
    d.addBoth(results.append)
    assert len(results) == 1 and not isinstance(results[0], Failure), results
    return results[0]


ALICE = Line(1, "alice", "s3cret", "Alice", "pbx.example.com")


GOOD = [
    (
        HEADER + "\n00:04:13:92:2d:24,snom,snomD785,1,alice,s3cret,Alice,pbx.example.com\n",
        ImportPlan(
            (DeviceInfo("000413922D24", vendor="snom", model="snomD785", state="registered"),),
            {"000413922D24": (ALICE,)},
        ),
    ),
    (
        # BOM, CRLF, columns in another order, optional columns, upper-case
        # header and vendor, a blank row, several lines of one phone in any
        # order, a model given on one row only, quoting, and a password
        # whose spaces are kept.
        "\ufeffVendor, MAC ,line,model,user,password,display_name,registrar,"
        "outbound_proxy,auth_user\r\n"
        "SNOM,0004.1392.2D24,2,,bob,' pw ',\"Bob, Jr.\",pbx,sbc,b-auth\r\n"
        "\r\n"
        "snom,000413922d24,1,snom360,alice,s3cret,Alice,pbx.example.com,,\r\n"
        "linksys,00-0E-08-00-00-01,1,,spa, ,,pbx,,\r\n",
        ImportPlan(
            (
                DeviceInfo("000413922D24", vendor="snom", model="snom360", state="registered"),
                DeviceInfo("000E08000001", vendor="linksys", model=None, state="registered"),
            ),
            {
                "000413922D24": (
                    ALICE,
                    Line(2, "bob", "' pw '", "Bob, Jr.", "pbx", "b-auth", "sbc"),
                ),
                "000E08000001": (Line(1, "spa", " ", "", "pbx"),),
            },
        ),
    ),
]


@pytest.mark.parametrize("text, plan", GOOD)
def test_goodFiles(text, plan):
    """
    Good files give the plan they describe: MACs normalised, devices by MAC
    in state C{registered}, lines by index, empty model C{None}.
    """
    assert parse(text) == plan


ROW = "000413922D24,snom,snomD785,1,alice,s3cret,Alice,pbx"

BAD = [
    ("", ["devices.csv: no header row: expected " + HEADER]),
    ("\n  \n", ["devices.csv: no header row: expected " + HEADER]),
    (HEADER + "\n", ["devices.csv: no devices: the file has a header row only"]),
    (
        "mac,vendor,model,line,user,password,display_name,colour\n" + ROW,
        [
            "devices.csv: line 1: unknown column 'colour' (columns are "
            "mac, vendor, model, line, user, password, display_name, registrar, "
            "auth_user, outbound_proxy)",
            "devices.csv: line 1: missing column 'registrar'",
        ],
    ),
    (
        HEADER + ",mac,\n" + ROW,
        [
            "devices.csv: line 1: column 'mac' given twice",
            "devices.csv: line 1: column 10 has no name",
        ],
    ),
    (
        "mac;vendor;model;line;user;password;display_name;registrar\n",
        ["devices.csv: line 1: columns must be separated by commas, not semicolons"],
    ),
    (
        "\n".join(
            [
                HEADER,
                ROW,
                "xyz,snom,,2,bob,pw,Bob,pbx",
                "000413922D25,acme,,1,carol,pw,,pbx",
                "000413922D25,,,1,carol,pw,,pbx",
                "000413922D26,snom,,0,dave,pw,,pbx",
                "000413922D26,snom,,100,dave,pw,,pbx",
                "000413922D26,snom,,one,dave,pw,,pbx",
                "000413922D27,snom,,1, ,pw,,pbx",
                "000413922D24,snom,,1,again,pw,,pbx",
                "000413922D24,linksys,snom360,2,eve,pw,,pbx",
                "000413922D24,snom,x,3",
                "000413922D28,snom,,1,frank,p\tw,Fr\x07nk,pbx",
            ]
        ),
        [
            "devices.csv: line 3: bad MAC 'xyz'",
            "devices.csv: line 4: unknown vendor 'acme' (known: linksys, snom)",
            "devices.csv: line 5: empty vendor (known: linksys, snom)",
            "devices.csv: line 6: bad line number '0' (expected 1 to 99)",
            "devices.csv: line 7: bad line number '100' (expected 1 to 99)",
            "devices.csv: line 8: bad line number 'one' (expected 1 to 99)",
            "devices.csv: line 9: empty user",
            "devices.csv: line 10: MAC 000413922D24 line 1 is already given on line 2",
            "devices.csv: line 11: MAC 000413922D24 has vendor 'linksys' here but 'snom' on line 2",
            "devices.csv: line 11: MAC 000413922D24 has model 'snom360' here "
            "but 'snomD785' on line 2",
            "devices.csv: line 12: 4 fields, but the header has 8 columns",
            "devices.csv: line 13: display_name contains a control character (U+0007)",
            "devices.csv: line 13: password contains a control character (U+0009)",
        ],
    ),
    (
        # A quoted field spanning two lines: the next record starts on line 4.
        HEADER + '\n000413922D24,snom,,1,alice,pw,"Alice\nSmith",pbx\nbad,snom,,1,a,pw,,pbx\n',
        [
            "devices.csv: line 2: display_name contains a control character (U+000A)",
            "devices.csv: line 4: bad MAC 'bad'",
        ],
    ),
    (
        HEADER + '\n000413922D24,snom,,1,alice,pw,"Alice,pbx\n',
        ["devices.csv: line 2: not valid CSV (unexpected end of data)"],
    ),
]


@pytest.mark.parametrize("text, errors", BAD)
def test_badFiles(text, errors):
    """
    Bad files are refused with one message per problem, each naming the
    file and the line it is on (the header being line 1).
    """
    assert errorsOf(text) == errors


def test_errorsNeverShowPasswords():
    """
    No message repeats a password, even one that is the reason for refusal.
    """
    text = HEADER + "\n000413922D24,snom,,1,alice,sec\x01ret,Alice,pbx\nxyz,snom,,1,bob,hunter2,,"
    messages = errorsOf(text)
    assert len(messages) == 2
    for message in messages:
        assert "sec" not in message and "hunter2" not in message


def test_optionalColumnsDefaultEmpty():
    """
    Without C{auth_user} and C{outbound_proxy} columns the lines have them
    empty; the error message joins every line of the exception.
    """
    plan = parse(HEADER + "\n" + ROW + "\n")
    assert plan.lines["000413922D24"][0].authUser == ""
    assert plan.lines["000413922D24"][0].outboundProxy == ""
    error = CSVImportError(["a: line 2: x", "a: line 3: y"])
    assert str(error) == "a: line 2: x\na: line 3: y"


# ---------------------------------------------------------------------------
# Properties


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text().map(lambda tail: HEADER + "\n" + tail)))
def test_arbitraryTextOnlyRaisesCSVImportError(text):
    """
    Whatever the text, parsing gives a plan or raises L{CSVImportError} with
    at least one message, never anything else.
    """
    try:
        plan = parse(text)
    except CSVImportError as e:
        assert e.errors and all(m.startswith("devices.csv: ") for m in e.errors)
    else:
        assert plan.devices


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=12
)
_STRIPPED = _TEXT.filter(lambda s: s == s.strip())

_LINE = st.builds(
    Line,
    index=st.integers(1, MAX_LINE),
    user=_STRIPPED.filter(bool),
    password=_TEXT,
    displayName=_STRIPPED,
    registrar=_STRIPPED,
    authUser=_STRIPPED,
    outboundProxy=_STRIPPED,
)


@st.composite
def plans(draw):
    """
    A valid L{ImportPlan} of a few phones with a few lines each.
    """
    mac = st.text("0123456789ABCDEF", min_size=12, max_size=12)
    macs = draw(st.lists(mac, min_size=1, max_size=4, unique=True))
    devices, lines = [], {}
    for mac in sorted(macs):
        vendor = draw(st.sampled_from(VENDORS))
        model = draw(st.none() | _STRIPPED.filter(bool))
        devices.append(DeviceInfo(mac, vendor=vendor, model=model, state="registered"))
        deviceLines = draw(st.lists(_LINE, min_size=1, max_size=3, unique_by=lambda l: l.index))
        lines[mac] = tuple(sorted(deviceLines, key=lambda l: l.index))
    return ImportPlan(tuple(devices), lines)


@settings(max_examples=100, deadline=None)
@given(
    plans(),
    st.permutations(REQUIRED_COLUMNS + OPTIONAL_COLUMNS),
    st.randoms(),
    st.sampled_from(["\n", "\r\n"]),
)
def test_writtenPlanParsesBack(plan, columns, random, newline):
    """
    A valid plan written as CSV (any column order, any row order, MACs in
    any accepted spelling) parses back to the same plan.
    """
    rows = []
    for device in plan.devices:
        spelling = random.choice([device.mac, device.mac.lower(), formatMAC(device.mac, "-")])
        for line in plan.lines[device.mac]:
            rows.append(
                {
                    "mac": spelling,
                    "vendor": device.vendor,
                    "model": device.model or "",
                    "line": str(line.index),
                    "user": line.user,
                    "password": line.password,
                    "display_name": line.displayName,
                    "registrar": line.registrar,
                    "auth_user": line.authUser,
                    "outbound_proxy": line.outboundProxy,
                }
            )
    random.shuffle(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    assert parse(out.getvalue()) == plan


# ---------------------------------------------------------------------------
# Applying a plan


def storeContent(store):
    devices = succeeded(store.listDevices())
    lines = {d.mac: succeeded(store.getLines(d.mac)) for d in devices}
    return devices, lines, succeeded(store.settingsVersion())


def test_applyTwiceSameContent():
    """
    Applying a plan to a store registers its devices and lines; applying it
    a second time changes nothing, settings version included.
    """
    plan = GOOD[1][1]
    store = MemoryDeviceStore()
    succeeded(store.applyImport(plan.devices, plan.lines))
    first = storeContent(store)
    assert first == (list(plan.devices), dict(plan.lines), 1)
    succeeded(store.applyImport(plan.devices, plan.lines))
    assert storeContent(store) == first


def test_applyKeepsWhatPhonesReported():
    """
    Importing over devices that phones already reported keeps their state
    and their reported model where the file leaves the model empty.
    """
    store = MemoryDeviceStore()
    seen = DeviceInfo(
        "000E08000001", vendor="linksys", model="SPA942", state="fetched", ip="192.0.2.7"
    )
    succeeded(store.mergeDevices([seen]))
    plan = GOOD[1][1]
    succeeded(store.applyImport(plan.devices, plan.lines))
    assert succeeded(store.getDevice("000E08000001")) == seen


@pytest.mark.parametrize("row, secret", [
    # the password put in the MAC column too (columns pasted twice)
    ("Hunter2Secret,snom,snom360,1,alice,Hunter2Secret,A,pbx", "Hunter2Secret"),
    # a password as the vendor, and as the line number
    ("000413000001,Sw0rdfish,snom360,1,alice,Sw0rdfish,A,pbx", "Sw0rdfish"),
    ("000413000001,snom,snom360,99x,alice,99x,A,pbx", "99x"),
    # a MAC field holding the password inside other text
    ("mac-Opensesame-1,snom,snom360,1,alice,Opensesame,A,pbx", "Opensesame"),
    # a MAC that is part of the password
    ("q7Zk,snom,snom360,1,alice,xq7Zkx,A,pbx", "q7Zk"),
])
def test_passwordColumnNeverEchoed(row, secret):
    """
    A bad row whose password column holds the value that the error would
    echo: the error names the problem, never the value.
    """
    with pytest.raises(CSVImportError) as e:
        parse(f"{HEADER}\n{row}\n")
    assert e.value.errors and all(error.startswith("devices.csv: line 2: ") for error in e.value.errors)
    text = "\n".join(e.value.errors) + repr(e.value.problems)
    assert secret not in text, text


def test_otherRowsPasswordNeverEchoed():
    """
    A value of another row's password column is not echoed either; other
    bad values still are.
    """
    text = (f"{HEADER}\n000413000001,snom,snom360,1,alice,Tr0ub4dor,A,pbx\n"
            "Tr0ub4dor,snom,snom360,1,bob,pw,B,pbx\nzz,snom,snom360,1,carol,pw,C,pbx\n")
    with pytest.raises(CSVImportError) as e:
        parse(text)
    assert "Tr0ub4dor" not in "\n".join(e.value.errors)
    assert e.value.errors[-1] == "devices.csv: line 4: bad MAC 'zz'"


_FIELD = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters=',"'), max_size=14)


@settings(max_examples=300)
@given(st.lists(_FIELD, min_size=8, max_size=8), st.integers(0, 7), _FIELD.filter(lambda p: len(p) >= 4))
def test_noErrorEchoesAPassword(fields, where, password):
    """
    Whatever a row holds, and wherever else its password appears in it, no
    error message carries the password.
    """
    fields[5] = password
    fields[where] = fields[where] + password if where != 5 else password
    try:
        parse(f"{HEADER}\n{','.join(fields)}\n")
    except CSVImportError as e:
        assert password not in "\n".join(e.errors)


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 3), st.booleans()), max_size=40),
       st.integers(1, 12))
def test_checkedInStepsAsWhole(rows, chunk):
    """
    L{checkDeviceCSV} yields C{(rows checked, rows)} every C{chunk} rows,
    growing, and ends with the plan L{parseDeviceCSV} gives, or raises the
    same problems.
    """
    text = HEADER + "\n" + "".join(
        f"{'000413' if good else 'zz0413'}{mac:06X},snom,,{line},u{mac}-{line},pw,,pbx\n" for mac, line, good in rows)
    steps = checkDeviceCSV(text, VENDORS, "devices.csv", chunk=chunk)
    seen = []
    try:
        while True:
            seen.append(next(steps))
    except StopIteration as done:
        assert done.value == parse(text)
    except CSVImportError as e:
        with pytest.raises(CSVImportError) as whole:
            parse(text)
        assert e.errors == whole.value.errors
    assert seen == [(n, len(rows)) for n in range(chunk, len(rows), chunk)]
