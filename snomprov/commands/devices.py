"""
C{snomprov devices [--json]}: the inventory.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from ..audit import CLI
from ..operations import devices as operations
from .base import command
from ._run import runWithStore

_PAGE = 1000
"""
Devices read per page.
"""
from ._table import formatRows, formatTime


def arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON (one object per device)")


@command("devices", "list the devices: registered ones and those PnP, HTTP or TFTP have seen")
def devices(args, config, registry, out) -> int:
    async def work(reactor, store):
        return await listAll(store, registry, reactor.seconds())

    found = runWithStore(config, work)
    if args.json:
        json.dump([_asJSON(d) for d in found], out, indent=2)
        out.write("\n")
    else:
        out.write(formatTable(found))
    return 0


devices.arguments = arguments


async def listAll(store, registry, now: float, filters=operations.DeviceFilter()) -> list:
    """
    Every device, by MAC, read page by page through
    L{snomprov.operations.devices.listDevices} as the actor C{cli}.
    """
    found: list = []
    cursor = None
    while True:
        page = await operations.listDevices(store, registry, CLI, now, filters, cursor, _PAGE)
        found.extend(page.devices)
        cursor = page.next
        if cursor is None:
            return found


def _asJSON(device) -> dict:
    data = asdict(device)
    data.pop("credential")  # what a credential is made from: never shown
    data["sipAddress"] = list(device.sipAddress) if device.sipAddress else None
    return data


def formatTable(devices) -> str:
    """
    Devices as an aligned text table, one per line.
    """
    rows = [("MAC", "VENDOR", "MODEL", "FIRMWARE", "IP", "STATE", "LAST SEEN")]
    for d in devices:
        rows.append((d.mac, d.vendor or "-", d.model or "-", d.firmware or "-", d.ip or "-", d.state or "-",
                     formatTime(d.lastSeen)))
    return formatRows(rows)
