# -*- test-case-name: tests.test_store -*-
"""
Devices as plain rows (tuples in the devices table's column order): what
the recorder buffers and the SQL store writes, without building objects.
"""

from __future__ import annotations

from typing import Any

from snomprov.device import (
    DEVICE_STATES,
    DeviceInfo,
)


def deviceToRow(device: DeviceInfo) -> tuple[Any, ...]:
    """
    C{(mac, vendor, model, firmware, ip, state, firstSeen, lastSeen, notes,
    sipHost, sipPort)} of a device.
    """
    host, port = device.sipAddress or (None, None)
    return (
        device.mac, device.vendor, device.model, device.firmware, device.ip, device.state,
        device.firstSeen, device.lastSeen, device.notes, host, port,
    )  # fmt: skip


def deviceFromRow(row: tuple[Any, ...]) -> DeviceInfo:
    """
    The device of a row (see L{deviceToRow}).
    """
    (mac, vendor, model, firmware, ip, state, firstSeen, lastSeen, notes, sipHost, sipPort) = row
    return DeviceInfo(
        mac=mac,
        vendor=vendor,
        model=model,
        firmware=firmware,
        ip=ip,
        state=state,
        firstSeen=firstSeen,
        lastSeen=lastSeen,
        notes=notes,
        sipAddress=None if sipHost is None else (sipHost, sipPort),
    )


_STATE_RANK = {state: rank for rank, state in enumerate(DEVICE_STATES)}


def mergeDeviceRows(old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[Any, ...]:
    """
    L{DeviceInfo.mergedWith} on rows: C{new}'s known fields win, except
    C{firstSeen} (the earliest) and C{state} (only forward); the SIP host and
    port go together.
    """
    (_, vendor, model, firmware, ip, state, firstSeen, lastSeen, notes, sipHost, sipPort) = new
    oldFirst = old[6]
    if firstSeen is None or (oldFirst is not None and oldFirst <= firstSeen):
        firstSeen = oldFirst
    oldState = old[5]
    if state is None or (oldState is not None and _STATE_RANK[oldState] >= _STATE_RANK[state]):
        state = oldState
    if sipHost is None:
        sipHost, sipPort = old[9], old[10]
    return (
        old[0],
        old[1] if vendor is None else vendor,
        old[2] if model is None else model,
        old[3] if firmware is None else firmware,
        old[4] if ip is None else ip,
        state,
        firstSeen,
        old[7] if lastSeen is None else lastSeen,
        old[8] if notes is None else notes,
        sipHost,
        sipPort,
    )
