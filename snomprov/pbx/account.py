# -*- test-case-name: tests.test_pbx_account -*-
"""
What an account sink receives: a line of a device as a PBX account
(L{SIPAccount}), and one change of it (L{AccountChange}).  Pure.

A line's PBX user name is its auth user, or its user when it has none; its
realm is the sink's C{domain}.  The Kamailio digest hashes are those of
Kamailio's C{auth_db} with C{calculate_ha1} off: C{ha1} =
MD5(C{username:domain:password}), C{ha1b} = MD5(C{username@domain:domain:password}).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from snomprov.device import Line

__all__ = ["SIPAccount", "AccountChange", "accountFor", "ha1", "ha1b"]


@dataclass(frozen=True)
class SIPAccount:
    """
    One line as a PBX account.

    @ivar mac: the device's MAC (12 upper-case hex digits).
    @ivar index: the line's index on the device, from 1.
    @ivar username: the name the phone authenticates with.
    @ivar domain: the realm (the sink's C{domain}).
    @ivar user: the line's SIP user (the AOR's user part).
    """

    mac: str
    index: int
    username: str
    domain: str
    password: str
    user: str = ""
    displayName: str = ""

    def __repr__(self) -> str:
        # Passwords never reach a log through repr().
        return (f"SIPAccount(mac={self.mac!r}, index={self.index!r}, username={self.username!r}, "
                f"domain={self.domain!r}, password='***', user={self.user!r}, "
                f"displayName={self.displayName!r})")


@dataclass(frozen=True)
class AccountChange:
    """
    One line's change, for one sink: the account as it now is, or C{None}
    when the line (or its device) is gone.

    @ivar version: the store's version of the line at this change; a sink
        applies the changes of one line in the order of their versions.
    @ivar previous: the user name this sink last applied for the line
        (C{None}: none), so that a rename or a deletion removes the old
        account.
    """

    mac: str
    index: int
    version: int
    account: SIPAccount | None
    previous: str | None = None


def accountFor(mac: str, line: Line, domain: str) -> SIPAccount:
    """
    The PBX account of a device's line, in the realm C{domain}.
    """
    return SIPAccount(mac=mac, index=line.index, username=line.authUser or line.user, domain=domain,
                      password=line.password, user=line.user, displayName=line.displayName)


def ha1(username: str, domain: str, password: str) -> str:
    """
    Kamailio's C{subscriber.ha1}.
    """
    return hashlib.md5(f"{username}:{domain}:{password}".encode("utf-8")).hexdigest()


def ha1b(username: str, domain: str, password: str) -> str:
    """
    Kamailio's C{subscriber.ha1b}.
    """
    return hashlib.md5(f"{username}@{domain}:{domain}:{password}".encode("utf-8")).hexdigest()
