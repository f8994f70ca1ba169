# -*- test-case-name: tests.test_operations_imports -*-
"""
Importing a devices CSV file (DESIGN §4.4): one code path for the command
line, the API and the pages.  All or nothing: a file with any problem is
refused whole, every problem named with its line
(L{snomprov.operations.errors.InputProblem}); a good file is applied and
audited in one transaction.

A row with an empty password keeps the password its line has in the store,
so that importing a file again changes nothing; a new line without one gets
a generated password (L{snomprov.operations.devices.newPassword}), answered
once in L{Imported.generated}.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable

from snomprov.audit import auditEvent
from snomprov.csvimport import CSVImportError, checkDeviceCSV

from .devices import newPassword
from .errors import InputProblem, Refused

__all__ = ["MAX_CSV", "CHUNK", "STAGES", "Imported", "ImportProgress", "importCSV", "decodeCSV"]

MAX_CSV = 16 * 1024 * 1024
"""
The largest CSV file accepted, in bytes (some 100,000 rows).
"""


CHUNK = 500
"""
How many devices have their stored passwords read at once (and rows are
checked) between two pauses.
"""

STAGES = ("checking", "passwords", "writing")
"""
What an import does, in order: check every row, fill the empty passwords
(the stored ones, or generated), write the devices (one transaction).
"""


@dataclass(frozen=True)
class ImportProgress:
    """
    How far an import is: C{done} of C{total} in its C{stage} (one of
    L{STAGES}; rows while checking, devices after).
    """

    stage: str
    done: int
    total: int


@dataclass(frozen=True)
class Imported:
    """
    What an import did.

    @ivar devices: how many devices the file names.
    @ivar lines: how many lines it gives them.
    @ivar changed: whether the store changed (an import repeated changes
        nothing).
    """

    devices: int
    lines: int
    changed: bool
    generated: tuple[tuple[str, int, str], ...] = field(default=(), repr=False)
    """
    C{(mac, line, password)} for each line given a generated password:
    shown this once.
    """


def decodeCSV(data: bytes, filename: str) -> str:
    """
    The text of an uploaded CSV file: UTF-8, a byte-order mark ignored.

    @raise Refused: for a file too large, or not UTF-8.
    """
    if len(data) > MAX_CSV:
        raise Refused(f"{filename}: the file is {len(data)} bytes; the limit is {MAX_CSV} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        message = f"not UTF-8 text ({e.reason} at byte {e.start})"
        raise Refused(f"{filename}: {message}", [InputProblem(message, line=line)]) from None


async def importCSV(store, registry, actor: str, now: float, text: str | bytes,
                    filename: str = "<csv>", progress: Callable[[ImportProgress], Any] | None = None,
                    pause: Callable[[], Awaitable[Any]] | None = None) -> Imported:
    """
    Register the devices and lines of a devices CSV file, all or nothing,
    audited (object C{import:<filename>}) in the same transaction.

    @param text: the file (bytes are decoded by L{decodeCSV}).
    @param progress: called with an L{ImportProgress} after every L{CHUNK}
        rows checked or devices read, and when the writing starts.
    @param pause: awaited at the same places (the daemon yields to its
        reactor there, so that a large file does not hold it).
    @raise Refused: listing every problem of a bad file, each with its
        line; nothing is changed.  No problem names a password.
    """
    if isinstance(text, (bytes, bytearray)):
        text = decodeCSV(bytes(text), filename)
    elif len(text) > MAX_CSV:
        raise Refused(f"{filename}: the file is over {MAX_CSV} characters")

    async def step(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(ImportProgress(stage, done, total))
        if pause is not None:
            await pause()

    steps = checkDeviceCSV(text, registry.names, filename=filename, chunk=CHUNK)
    try:
        while True:
            try:
                done, total = next(steps)
            except StopIteration as finished:
                plan = finished.value
                break
            await step("checking", done, total)
    except CSVImportError as e:
        problems = [InputProblem(message, line=line) for line, message in e.problems]
        count = len(problems)
        raise Refused(f"{filename}: {count} problem{'s' if count != 1 else ''}; nothing was imported",
                      problems) from None
    deviceLines, generated = await _withPasswords(store, plan.lines, step)
    lines = sum(len(v) for v in deviceLines.values())
    summary = f"{len(plan.devices)} devices with {lines} lines"
    if generated:
        summary += f", {len(generated)} passwords generated"
    event = auditEvent(now, actor, f"import:{_word(filename)}", summary)
    if progress is not None:
        progress(ImportProgress("writing", 0, len(plan.devices)))
    changed = await store.applyImport(plan.devices, deviceLines, [event])
    return Imported(len(plan.devices), lines, bool(changed), tuple(generated))


async def _withPasswords(store, lines, step):
    """
    The lines with every empty password filled: the stored line's, else a
    generated one.  The stored lines are read L{CHUNK} devices at a time
    (L{IDeviceStore.readDevices}), C{step} awaited after each.

    @return: the lines by MAC and the C{(mac, index, password)} generated.
    """
    filled, generated = dict(lines), []
    wanting = [mac for mac, deviceLines in lines.items() if not all(line.password for line in deviceLines)]
    for start in range(0, len(wanting), CHUNK):
        if start:
            await step("passwords", start, len(wanting))
        chunk = wanting[start:start + CHUNK]
        read = await store.readDevices(chunk)
        for mac in chunk:
            stored = {line.index: line.password for line in read[mac][1]}
            new = []
            for line in lines[mac]:
                if not line.password:
                    password = stored.get(line.index) or newPassword()
                    if password != stored.get(line.index):
                        generated.append((mac, line.index, password))
                    line = replace(line, password=password)
                new.append(line)
            filled[mac] = tuple(new)
    return filled, generated


def _word(filename: str) -> str:
    word = "".join("_" if c.isspace() else c for c in filename[-200:]).rstrip(":")
    return word or "<csv>"
