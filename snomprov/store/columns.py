# -*- test-case-name: tests.test_store_columns -*-
"""
The devices table, one column a row: the single definition every place
that converts, merges or writes device rows is made from.

Each L{Column} names its SQL column, the L{DeviceInfo} field it holds, its
SQL type and its merge rule: what a stored value becomes when a newer
sighting or import is merged into it.  From L{DEVICE_COLUMNS} come

  - the Python merge of two rows (L{mergeDeviceRows}) and the conversions
    between devices and rows (L{deviceToRow}, L{deviceFromRow}), compiled
    once at import into plain functions (the recorder merges every
    sighting: no per-column call);
  - the SQL merge (L{mergeSQL}): per column the expression of
    C{INSERT ... ON CONFLICT (mac) DO UPDATE SET column = ...}, written in
    standard SQL (C{CASE}, C{COALESCE}, C{excluded.}) that SQLite and
    PostgreSQL both read; a dialect only changes the placeholders;
  - which columns an operator sets (L{OPERATOR_COLUMNS}) and which of those
    choose a device's files (L{REGISTRATION_COLUMNS}).

Adding a column is one row here and a migration adding it (C{ALTER TABLE
devices ADD COLUMN ...}): a released migration is never edited, and a test
checks that the migrated table has exactly these columns and types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from snomprov.device import DEVICE_STATES, DeviceInfo

__all__ = [
    "Rule",
    "KEY",
    "NEWEST_KNOWN",
    "EARLIEST",
    "STATE_BY_RANK",
    "withColumn",
    "Column",
    "DEVICE_COLUMNS",
    "COLUMN_NAMES",
    "OPERATOR_COLUMNS",
    "REGISTRATION_COLUMNS",
    "mergeSQL",
    "sameColumnsSQL",
    "mergeDeviceRows",
    "deviceToRow",
    "deviceFromRow",
    "mergeDevice",
]


@dataclass(frozen=True)
class Rule:
    """
    How a column's stored value and a newer one merge, as an expression in
    Python and in SQL.  Both are built from the expressions of the stored
    (C{old}) and newer (C{new}) values of any column, given by name.

    @ivar name: what the rule says, for people (C{"newest known"}).
    @ivar python: C{(column, old, new) -> source} of a Python expression.
    @ivar sql: the same in SQL, or C{None} for the key (never updated).
    """

    name: str
    python: Callable[[str, Callable[[str], str], Callable[[str], str]], str]
    sql: Callable[[str, Callable[[str], str], Callable[[str], str]], str] | None


KEY = Rule("key", lambda c, old, new: old(c), None)
"""
The row's identity: the stored value stays (it equals the new one).
"""

NEWEST_KNOWN = Rule(
    "newest known",
    lambda c, old, new: f"({old(c)} if {new(c)} is None else {new(c)})",
    lambda c, old, new: f"COALESCE({new(c)}, {old(c)})",
)
"""
The new value when known (not C{NULL}), else the stored one.
"""

def _ordered(name: str, pythonKeeps: Callable[[str, str], str],
             sqlKeeps: Callable[[str, str], str]) -> Rule:
    """
    A rule keeping the stored value unless the new one is known and the
    stored one is not, or the stored one does not keep its place against
    it (C{pythonKeeps(old, new)}, C{sqlKeeps(old, new)}: expressions true
    when the stored value stays).
    """
    return Rule(
        name,
        lambda c, old, new: (
            f"({old(c)} if {new(c)} is None or ({old(c)} is not None and "
            f"{pythonKeeps(old(c), new(c))}) else {new(c)})"
        ),
        lambda c, old, new: (
            f"CASE WHEN {new(c)} IS NULL OR ({old(c)} IS NOT NULL AND "
            f"{sqlKeeps(old(c), new(c))}) THEN {old(c)} ELSE {new(c)} END"
        ),
    )


EARLIEST = _ordered("earliest", lambda o, n: f"{o} <= {n}", lambda o, n: f"{o} <= {n}")
"""
The smaller of the known values (a first sighting's time).
"""


def _rankSQL(value: str) -> str:
    ranks = " ".join(f"WHEN '{state}' THEN {rank}" for rank, state in enumerate(DEVICE_STATES))
    return f"CASE {value} {ranks} END"


STATE_BY_RANK = _ordered(
    "state by rank",
    lambda o, n: f"_RANK[{o}] >= _RANK[{n}]",
    lambda o, n: f"{_rankSQL(o)} >= {_rankSQL(n)}",
)
"""
The further along of the known states in L{DEVICE_STATES}: a state only
moves forward.
"""


def withColumn(leader: str) -> Rule:
    """
    The rule of a column that goes with another (a port with its host): the
    new value when the C{leader} column's new value is known, else the
    stored one, even when the new one is C{NULL}.
    """
    return Rule(
        f"with {leader}",
        lambda c, old, new: f"({old(c)} if {new(leader)} is None else {new(c)})",
        lambda c, old, new: f"CASE WHEN {new(leader)} IS NULL THEN {old(c)} ELSE {new(c)} END",
    )


@dataclass(frozen=True)
class Column:
    """
    One column of the devices table.

    @ivar name: the SQL column.
    @ivar field: the L{DeviceInfo} field it holds.
    @ivar sqlType: its SQL type, with the migrations' C{{real}} placeholder.
    @ivar rule: how stored and newer values merge.
    @ivar part: for a field held in several columns (C{sipAddress}: host and
        port), the column's index in the field's tuple; the field is
        C{None} when its first column is.
    @ivar operator: an operator sets it (a change moves the device's
        revision).
    @ivar registration: it chooses the device's files (a change moves the
        settings version).
    """

    name: str
    field: str
    sqlType: str
    rule: Rule
    part: int | None = None
    operator: bool = False
    registration: bool = False


DEVICE_COLUMNS: tuple[Column, ...] = (
    Column("mac", "mac", "TEXT", KEY),
    Column("vendor", "vendor", "TEXT", NEWEST_KNOWN, operator=True, registration=True),
    Column("model", "model", "TEXT", NEWEST_KNOWN, operator=True, registration=True),
    Column("firmware", "firmware", "TEXT", NEWEST_KNOWN),
    Column("ip", "ip", "TEXT", NEWEST_KNOWN),
    Column("state", "state", "TEXT", STATE_BY_RANK),
    Column("first_seen", "firstSeen", "{real}", EARLIEST),
    Column("last_seen", "lastSeen", "{real}", NEWEST_KNOWN),
    Column("notes", "notes", "TEXT", NEWEST_KNOWN, operator=True),
    Column("sip_host", "sipAddress", "TEXT", NEWEST_KNOWN, part=0),
    Column("sip_port", "sipAddress", "INTEGER", withColumn("sip_host"), part=1),
    Column("credential", "credential", "TEXT", NEWEST_KNOWN, registration=True),
)
"""
The devices table's columns, in row order (L{deviceToRow}).
"""

COLUMN_NAMES = tuple(column.name for column in DEVICE_COLUMNS)
_POSITION = {name: position for position, name in enumerate(COLUMN_NAMES)}

OPERATOR_COLUMNS = tuple(c.name for c in DEVICE_COLUMNS if c.operator)
"""
The columns an operator sets: a change of one moves the device's revision.
"""

REGISTRATION_COLUMNS = tuple(c.name for c in DEVICE_COLUMNS if c.registration)
"""
The columns that choose a device's files (which settings layers apply).
"""

OPERATOR_POSITIONS = tuple(_POSITION[name] for name in OPERATOR_COLUMNS)
REGISTRATION_POSITIONS = tuple(_POSITION[name] for name in REGISTRATION_COLUMNS)
OPERATOR_FIELDS = tuple(dict.fromkeys(c.field for c in DEVICE_COLUMNS if c.operator))
REGISTRATION_FIELDS = tuple(dict.fromkeys(c.field for c in DEVICE_COLUMNS if c.registration))


def mergeSQL(table: str = "devices") -> dict[str, str]:
    """
    Per updated column, the SQL expression of its merged value in an
    upsert: C{excluded.} names the new row, C{<table>.} the stored one.
    """
    old = lambda name: f"{table}.{name}"  # noqa: E731
    new = lambda name: f"excluded.{name}"  # noqa: E731
    return {c.name: c.rule.sql(c.name, old, new) for c in DEVICE_COLUMNS if c.rule.sql is not None}


def sameColumnsSQL(names: tuple[str, ...], table: str = "devices") -> str:
    """
    The SQL condition, in an upsert, that merging the new row leaves the
    stored C{names} columns as they are (each new value unknown or equal).
    """
    return " AND ".join(
        f"(excluded.{name} IS NULL OR excluded.{name} = {table}.{name})" for name in names
    )


def _compile(name: str, source: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {
        "_RANK": {state: rank for rank, state in enumerate(DEVICE_STATES)},
        "DeviceInfo": DeviceInfo,
    }
    exec(compile(source, f"<snomprov.store.columns {name}>", "exec"), namespace)
    return namespace[name]


def _unpack(prefix: str) -> str:
    return "(" + ", ".join(f"{prefix}{i}" for i in range(len(DEVICE_COLUMNS))) + ",)"


def _mergeSource() -> str:
    old = lambda name: f"o{_POSITION[name]}"  # noqa: E731
    new = lambda name: f"n{_POSITION[name]}"  # noqa: E731
    values = ",\n        ".join(c.rule.python(c.name, old, new) for c in DEVICE_COLUMNS)
    return (
        "def mergeDeviceRows(old, new):\n"
        f"    {_unpack('o')} = old\n"
        f"    {_unpack('n')} = new\n"
        f"    return (\n        {values},\n    )\n"
    )


def _toRowSource() -> str:
    values = []
    for c in DEVICE_COLUMNS:
        values.append(
            f"device.{c.field}" if c.part is None
            else f"(None if device.{c.field} is None else device.{c.field}[{c.part}])"
        )
    return "def deviceToRow(device):\n    return (" + ", ".join(values) + ",)\n"


def _fromRowSource() -> str:
    fields: dict[str, list[int]] = {}
    for position, c in enumerate(DEVICE_COLUMNS):
        fields.setdefault(c.field, []).append(position)
    arguments = []
    for name, positions in fields.items():
        if len(positions) == 1 and DEVICE_COLUMNS[positions[0]].part is None:
            arguments.append(f"{name}=r{positions[0]}")
        else:
            parts = ", ".join(f"r{p}" for p in positions)
            arguments.append(f"{name}=None if r{positions[0]} is None else ({parts},)")
    return (
        "def deviceFromRow(row):\n"
        f"    {_unpack('r')} = row\n"
        f"    return DeviceInfo({', '.join(arguments)})\n"
    )


mergeDeviceRows: Callable[[tuple[Any, ...], tuple[Any, ...]], tuple[Any, ...]] = _compile(
    "mergeDeviceRows", _mergeSource())
mergeDeviceRows.__doc__ = """
A stored device row (C{old}) merged with a newer one, column by column by
the rules of L{DEVICE_COLUMNS}: the newer's known values win, except
C{first_seen} (the earliest) and C{state} (only forward); the SIP port
goes with its host.
"""

deviceToRow: Callable[[DeviceInfo], tuple[Any, ...]] = _compile("deviceToRow", _toRowSource())
deviceToRow.__doc__ = """
A device as a row: its fields in the order of L{DEVICE_COLUMNS}.
"""

deviceFromRow: Callable[[tuple[Any, ...]], DeviceInfo] = _compile("deviceFromRow", _fromRowSource())
deviceFromRow.__doc__ = """
The device of a row (see L{deviceToRow}).
"""


def mergeDevice(old: DeviceInfo, new: DeviceInfo) -> DeviceInfo:
    """
    A stored device updated by a newer one, by the rules of
    L{DEVICE_COLUMNS} (L{mergeDeviceRows} on their rows).
    """
    return deviceFromRow(mergeDeviceRows(deviceToRow(old), deviceToRow(new)))
