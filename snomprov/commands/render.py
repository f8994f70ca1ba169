"""
C{snomprov render MAC [NAME]}: what the phone would receive.  A NAME the
device does not have is exit 2, the line naming the files it has.
"""

from __future__ import annotations

import os

from .base import UsageProblem, command
from ..interfaces import IFileListingVendor, IFileVendor
from ..provisioning import Fetch, Provisioner
from ._run import macArgument, runWithStore


class _NoRecorder:
    """
    Rendering for an operator is not a phone's fetch: nothing is recorded.
    """

    def sighting(self, device) -> None:
        pass

    def event(self, event) -> None:
        pass


def arguments(parser) -> None:
    parser.add_argument("mac")
    parser.add_argument("name", nargs="?", help="the file name as the phone asks for it "
                                               "(default: the device's main file)")
    parser.add_argument("--user-agent", help="render as for this User-Agent (firmware checks)")


@command("render", "print the file a phone would receive")
def render(args, config, registry, out) -> int:
    mac = macArgument(args.mac)

    async def work(reactor, store):
        device = await store.getDevice(mac)
        vendor = registry.byName(device.vendor if device else None) or registry.byMAC(mac)
        name = args.name
        if name is None:
            if not IFileVendor.providedBy(vendor):
                raise UsageProblem(f"{mac}: no vendor serves files for this device; name the file")
            name = vendor.deviceFileName(mac)
        provisioner = Provisioner(registry, lambda: _succeed(store), config, _NoRecorder(), reactor)
        rendered = await provisioner.fetch(
            Fetch(name=name.lstrip("/"), clientIP="127.0.0.1", transport="http", userAgent=args.user_agent))
        if rendered is None:
            raise UsageProblem(f"{name}: no such file for {mac}; {_namesOf(vendor, mac, device)}")
        return name, rendered

    name, rendered = runWithStore(config, work)
    if rendered.path:
        out.write(f"{name}: the file {rendered.path} ({os.path.getsize(rendered.path)} bytes)\n")
        return 0
    out.write(rendered.content.decode("utf-8", errors="replace"))
    return 0


def _namesOf(vendor, mac: str, device) -> str:
    """
    What to say of the names a device has, after a name it does not.
    """
    if IFileListingVendor.providedBy(vendor):
        return "its files are " + ", ".join(vendor.deviceFileNames(mac, device.model if device else None))
    if IFileVendor.providedBy(vendor):
        return f"its main file is {vendor.deviceFileName(mac)}"
    return "no vendor serves files for this device"


def _succeed(value):
    from twisted.internet import defer

    return defer.succeed(value)


render.arguments = arguments
