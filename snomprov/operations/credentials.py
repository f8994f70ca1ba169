# -*- test-case-name: tests.test_operations_credentials -*-
"""
Rotating a device's provisioning credential (L{snomprov.proofs}): a new
seed, so that every URL carrying the old credential (a phone's
C{setting_server}, an SPA's C{Profile_Rule}, a copy somebody kept) stops
proving anything.  The phone gets the new one with its next file fetched
with a proof (a PnP token after a reboot, its network, its certificate).

The change moves the device's settings version (its files change), so
every daemon drops what it cached of the device within the change feed's
delay.
"""

from __future__ import annotations

import secrets

from snomprov.audit import auditEvent
from snomprov.device import DeviceInfo, InvalidMAC, parseMAC
from snomprov.operations.errors import Invalid, NotFound

__all__ = ["rotateCredential"]

_SEED_BYTES = 16


async def rotateCredential(store, actor: str, now: float, mac: str) -> None:
    """
    Give device C{mac} a new credential seed, audited (never the seed).

    @raise Invalid: for a bad MAC.
    @raise NotFound: for a device not stored.
    """
    try:
        mac = parseMAC(mac)
    except InvalidMAC as e:
        raise Invalid([("/mac", str(e))]) from None
    if await store.getDevice(mac) is None:
        raise NotFound(f"no device {mac}")
    await store.mergeDevices([DeviceInfo(mac, credential=secrets.token_urlsafe(_SEED_BYTES))])
    await store.addEvents([auditEvent(now, actor, f"device:{mac}", "provisioning credential rotated", mac=mac)])
