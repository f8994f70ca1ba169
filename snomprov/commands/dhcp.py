"""
C{snomprov dhcp --format isc|kea|dnsmasq [--per-device]}: DHCP server
snippets that point phones at us.
"""

from __future__ import annotations

import sys

from .base import UsageProblem, command
from ..dhcp import FORMATS, InvalidDHCPValue, Reservation, render
from ..safestart import baseURLWarning, dhcpRules
from ._run import runWithStore


def arguments(parser) -> None:
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--per-device", action="store_true",
                        help="add a host reservation for every registered device")


@command("dhcp", "print DHCP server snippets (option 66 and friends)")
def dhcp(args, config, registry, out) -> int:
    """
    Write the snippet; a loopback C{base_url} is warned about on standard
    error (so that the snippet stays one the DHCP server reads) once the
    snippet is written, a refusal staying one line.
    """
    rules = dhcpRules(config, registry)
    reservations = []
    if args.per_device:
        async def work(reactor, store):
            return await store.listDevices()

        for device in runWithStore(config, work):
            if device.vendor in rules:
                reservations.append(Reservation(device.mac, None, rules[device.vendor]))
    try:
        snippet = render(args.format, list(rules.values()), reservations)
    except InvalidDHCPValue as e:
        raise UsageProblem(f"dhcp: {e}")
    warning = baseURLWarning(config)
    if warning:
        print(warning, file=sys.stderr)
    out.write(snippet)
    return 0


dhcp.arguments = arguments
