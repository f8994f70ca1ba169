# -*- test-case-name: tests.test_csvimport -*-
"""
The devices CSV file (DESIGN §4.4), parsed into an L{ImportPlan}.

A header row names the columns, in any order::

    mac,vendor,model,line,user,password,display_name,registrar[,auth_user][,outbound_proxy]

and each further row is one line (SIP identity) of a phone; a phone with
several lines has several rows.  Every row is checked before anything is
returned: a file with any problem raises L{CSVImportError} listing every
problem, each naming the file and its line (the header is line 1).  The plan
is then applied with C{IDeviceStore.applyImport(plan.devices, plan.lines)}:
all or nothing, and applying it again changes nothing.

Pure: no I/O, no Twisted.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Collection, Iterator, Mapping

from snomprov.device import DeviceInfo, InvalidMAC, Line, parseMAC

__all__ = [
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "MAX_LINE",
    "CSVImportError",
    "ImportPlan",
    "parseDeviceCSV",
    "checkDeviceCSV",
    "CHECK_CHUNK",
    "FieldProblem",
    "vendorNames",
    "readMAC",
    "readVendor",
    "readLineNumber",
    "readUser",
    "checkText",
]

REQUIRED_COLUMNS = (
    "mac", "vendor", "model", "line", "user", "password", "display_name", "registrar",
)  # fmt: skip
OPTIONAL_COLUMNS = ("auth_user", "outbound_proxy")
MAX_LINE = 99
"""
The highest line number a row may give.
"""

_LINE_NUMBER = re.compile(r"[0-9]{1,3}")

# Line attribute for each column holding free text.
_TEXT_COLUMNS = {
    "user": "user",
    "display_name": "displayName",
    "registrar": "registrar",
    "auth_user": "authUser",
    "outbound_proxy": "outboundProxy",
}


class CSVImportError(ValueError):
    """
    A devices CSV file was refused.

    @ivar errors: one message per problem, each starting with the file name
        and, where there is one, the line (C{"devices.csv: line 8: bad MAC
        'xyz'"}).  No message carries a password.
    @ivar problems: the same problems as C{(line, message)} pairs, the
        line C{None} for a problem of the whole file, the message without
        the file name and line (C{(8, "bad MAC 'xyz'")}).
    """

    def __init__(self, errors: list[str], problems: list[tuple[int | None, str]] | None = None) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)
        self.problems = list(problems) if problems is not None else [(None, e) for e in errors]


@dataclass(frozen=True)
class ImportPlan:
    """
    What a devices CSV file asks for.

    @ivar devices: one L{DeviceInfo} per MAC, ordered by MAC, in state
        C{registered}; C{model} is C{None} where the file leaves it empty.
    @ivar lines: MAC to that device's lines, ordered by index.
    """

    devices: tuple[DeviceInfo, ...]
    lines: Mapping[str, tuple[Line, ...]]


@dataclass
class _Device:
    """
    What the rows seen so far say of one MAC.
    """

    firstLine: int
    vendor: str
    model: str | None
    modelLine: int
    lines: dict[int, tuple[int, Line]]


class _Problems:
    """
    The problems found in one file, in the order found.
    """

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.messages: list[str] = []
        self.pairs: list[tuple[int | None, str]] = []
        self.passwords: set[str] = set()
        self.fields: tuple[str, ...] = ()

    def add(self, lineNumber: int | None, message: str) -> None:
        message = self._hidden(message)
        where = "" if lineNumber is None else f" line {lineNumber}:"
        self.messages.append(f"{self.filename}:{where} {message}")
        self.pairs.append((lineNumber, message))

    def _hidden(self, message: str) -> str:
        """
        C{message} without any value of the file's password columns: a
        field of the row being checked (C{fields}) that is (part of) a
        password is not shown, and a password found in the message is
        replaced by C{***}.
        """
        passwords = self.passwords
        if not passwords:
            return message
        for value in self.fields:
            shown = value.strip()
            if shown and any(shown in password for password in passwords):
                for spelling in (repr(shown), repr(value)):
                    message = message.replace(spelling, "(a value not shown: it is in a password column)")
        for password in passwords:
            if len(password) >= 4 and password in message:
                message = message.replace(password, "***")
        return message

    def error(self) -> "CSVImportError":
        return CSVImportError(self.messages, self.pairs)


def _records(text: str, problems: _Problems) -> Iterator[tuple[int, list[str]]]:
    """
    The CSV records of C{text} with the file line each starts on; blank rows
    (no field holding anything but white space) are skipped.  Reading stops
    at the first record the CSV reader cannot read.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            problems.add(start, f"not valid CSV ({e})")
            return
        if any(field.strip() for field in fields):
            yield start, fields
        start = reader.line_num + 1


def _readHeader(lineNumber: int, fields: list[str], problems: _Problems) -> list[str] | None:
    """
    The column names of the header row, or C{None} if it is unusable (the
    problems then added).
    """
    names = [name.strip().lower() for name in fields]
    ok = True
    if len(names) == 1 and ";" in names[0]:
        problems.add(lineNumber, "columns must be separated by commas, not semicolons")
        return None
    for position, name in enumerate(names, 1):
        if not name:
            problems.add(lineNumber, f"column {position} has no name")
            ok = False
        elif name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            problems.add(
                lineNumber,
                f"unknown column {name!r} (columns are "
                f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})",
            )
            ok = False
        elif names.index(name) != position - 1:
            problems.add(lineNumber, f"column {name!r} given twice")
            ok = False
    for name in REQUIRED_COLUMNS:
        if name not in names:
            problems.add(lineNumber, f"missing column {name!r}")
            ok = False
    return names if ok else None


class FieldProblem(ValueError):
    """
    One field of a row (or of an operator's form) refused.  The row checks
    below are the rules of a device and its lines wherever they come from:
    this file, the API, the pages (L{snomprov.operations.devices}).

    @ivar field: the CSV column (C{mac}, C{vendor}, C{line}, C{user}, ...).
    @ivar message: why, never repeating a password.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def vendorNames(knownVendors: Collection[str]) -> dict[str, str]:
    """
    The vendors' names by their lower-case spelling, for L{readVendor}.
    """
    return {name.lower(): name for name in knownVendors}


def readMAC(text: str) -> str:
    """
    A MAC in any spelling, normalised.

    @raise FieldProblem: for anything else.
    """
    try:
        return parseMAC(text)
    except InvalidMAC:
        raise FieldProblem("mac", f"bad MAC {text!r}") from None


def readVendor(text: str, vendors: Mapping[str, str]) -> str:
    """
    The name of a known vendor, given in any case.

    @param vendors: see L{vendorNames}.
    @raise FieldProblem: for an empty or unknown vendor.
    """
    text = text.strip()
    vendor = vendors.get(text.lower())
    if vendor is None:
        known = ", ".join(sorted(vendors.values())) or "none"
        what = f"unknown vendor {text!r}" if text else "empty vendor"
        raise FieldProblem("vendor", f"{what} (known: {known})")
    return vendor


def readLineNumber(value: str | int) -> int:
    """
    A line number, 1 to L{MAX_LINE}, as text (C{"2"}) or as an integer.

    @raise FieldProblem: for anything else.
    """
    if isinstance(value, str):
        text = value.strip()
        index = int(text) if _LINE_NUMBER.fullmatch(text) else 0
        shown = text
    else:
        index = value if isinstance(value, int) and not isinstance(value, bool) else 0
        shown = value
    if not 1 <= index <= MAX_LINE:
        raise FieldProblem("line", f"bad line number {shown!r} (expected 1 to {MAX_LINE})")
    return index


def readUser(text: str) -> str:
    """
    A line's user, which may not be empty.

    @raise FieldProblem: for an empty one.
    """
    if not text.strip():
        raise FieldProblem("user", "empty user")
    return text.strip()


def checkText(column: str, value: str) -> None:
    """
    Refuse a field's text that cannot be stored or written into a phone's
    configuration; the value is not repeated (it may be a password).

    @raise FieldProblem: naming the control character.
    """
    for character in value:
        if unicodedata.category(character) in ("Cc", "Cs"):
            raise FieldProblem(column, f"{column} contains a control character (U+{ord(character):04X})")


def _readRow(
    lineNumber: int,
    row: Mapping[str, str],
    vendors: Mapping[str, str],
    problems: _Problems,
) -> tuple[str, str, str | None, Line] | None:
    """
    Check one row on its own.

    @return: C{(mac, vendor, model, line)}, or C{None} if the row has
        problems (then added, one per problem).
    """
    found = len(problems.messages)

    def checked(check, *args):
        try:
            return check(*args)
        except FieldProblem as e:
            problems.add(lineNumber, e.message)
            return None

    mac = checked(readMAC, row["mac"]) or ""
    vendor = checked(readVendor, row["vendor"], vendors)
    index = checked(readLineNumber, row["line"]) or 0
    texts = {column: row.get(column, "").strip() for column in _TEXT_COLUMNS}
    model = row["model"].strip()
    texts["model"] = model
    checked(readUser, texts["user"])
    for column, value in [*texts.items(), ("password", row["password"])]:
        checked(checkText, column, value)
    if len(problems.messages) > found or vendor is None:
        return None
    line = Line(
        index=index,
        password=row["password"],
        **{attribute: texts[column] for column, attribute in _TEXT_COLUMNS.items()},
    )
    return mac, vendor, model or None, line


def _addRow(
    devices: dict[str, _Device],
    lineNumber: int,
    mac: str,
    vendor: str,
    model: str | None,
    line: Line,
    problems: _Problems,
) -> None:
    """
    Add a checked row to what is known of its MAC, refusing a second vendor
    or model, or a line given twice.
    """
    device = devices.get(mac)
    if device is None:
        lines = {line.index: (lineNumber, line)}
        devices[mac] = _Device(lineNumber, vendor, model, lineNumber, lines)
        return
    if vendor != device.vendor:
        problems.add(
            lineNumber,
            f"MAC {mac} has vendor {vendor!r} here "
            f"but {device.vendor!r} on line {device.firstLine}",
        )
    if model is not None and device.model is not None and model != device.model:
        problems.add(
            lineNumber,
            f"MAC {mac} has model {model!r} here but {device.model!r} on line {device.modelLine}",
        )
    elif model is not None and device.model is None:
        device.model, device.modelLine = model, lineNumber
    if line.index in device.lines:
        problems.add(
            lineNumber,
            f"MAC {mac} line {line.index} is already given on line {device.lines[line.index][0]}",
        )
    else:
        device.lines[line.index] = (lineNumber, line)


def parseDeviceCSV(
    text: str, knownVendors: Collection[str], filename: str = "<csv>"
) -> ImportPlan:
    """
    Parse and check a devices CSV file.

    @param text: the file's text; a leading byte-order mark is ignored.
    @param knownVendors: the vendors' names; the C{vendor} column must name
        one of them (in any case).
    @param filename: names the file in error messages.
    @return: the L{ImportPlan}.
    @raise CSVImportError: listing every problem found.
    """
    steps = checkDeviceCSV(text, knownVendors, filename)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


CHECK_CHUNK = 500
"""
How many rows L{checkDeviceCSV} checks between two steps.
"""


def checkDeviceCSV(
    text: str, knownVendors: Collection[str], filename: str = "<csv>", chunk: int = CHECK_CHUNK
) -> Iterator[tuple[int, int]]:
    """
    L{parseDeviceCSV} a step at a time, so that a caller can do something
    else (a reactor: answer others) between two steps: a generator yielding
    C{(rows checked, rows)} after every C{chunk} rows, whose return value is
    the L{ImportPlan}.

    @raise CSVImportError: from C{next}, listing every problem found.
    """
    problems = _Problems(filename)
    vendors = vendorNames(knownVendors)
    records = _records(text.removeprefix("\ufeff"), problems)
    header = next(records, None)
    if header is None:
        if not problems.messages:
            problems.add(None, f"no header row: expected {','.join(REQUIRED_COLUMNS)}")
        raise problems.error()
    names = _readHeader(*header, problems)
    if names is None:
        raise problems.error()
    devices: dict[str, _Device] = {}
    records = list(records)
    # No message may echo a value of a password column, whichever row it
    # is in (a value put in the wrong column, a file whose columns moved).
    column = names.index("password")
    problems.passwords = {fields[column].strip() for _, fields in records
                          if len(fields) == len(names) and fields[column].strip()}
    for position, (lineNumber, fields) in enumerate(records):
        if position and position % chunk == 0:
            yield position, len(records)
        if len(fields) != len(names):
            problems.add(
                lineNumber, f"{len(fields)} fields, but the header has {len(names)} columns"
            )
            continue
        problems.fields = tuple(field for name, field in zip(names, fields) if name != "password")
        checked = _readRow(lineNumber, dict(zip(names, fields)), vendors, problems)
        if checked is not None:
            _addRow(devices, lineNumber, *checked, problems)
    problems.fields = ()
    if not devices and not problems.messages:
        problems.add(None, "no devices: the file has a header row only")
    if problems.messages:
        raise problems.error()
    return ImportPlan(
        devices=tuple(
            DeviceInfo(mac, vendor=device.vendor, model=device.model, state="registered")
            for mac, device in sorted(devices.items())
        ),
        lines={
            mac: tuple(line for _, (_, line) in sorted(devices[mac].lines.items()))
            for mac in sorted(devices)
        },
    )
