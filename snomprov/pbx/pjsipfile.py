# -*- test-case-name: tests.test_pbx_asterisk -*-
"""
The text of the Asterisk PJSIP include file the C{asterisk-pjsip} sink
writes, and reading it back.  Pure.

Per line, three sections (Asterisk's C{res_pjsip} objects, C{pjsip.conf}
syntax)::

    ; Alice Example, line 1 of 000413922D24
    [alice]
    type=endpoint
    auth=snomprov-000413922D24-1
    aors=alice
    callerid="Alice Example" <alice>

    [snomprov-000413922D24-1]
    type=auth
    auth_type=userpass
    username=alice
    password=...
    realm=pbx.example.org

    [alice]
    type=aor
    max_contacts=1

The endpoint and the AOR are named by the line's SIP user: Asterisk finds
the endpoint of a request by its From user (C{identify_by=username}) and
the AOR of a REGISTER by its To user, so those names are not free.  The
auth section carries the device and line (C{snomprov-<MAC>-<line>}), which
is how the file is read back.  C{;} starts a comment in Asterisk's
configuration files and is written C{\\;} in values.  The file ends with
L{TRAILER}, so that a partial file can be told from a whole one.
"""

from __future__ import annotations

import re
from typing import Iterable

from snomprov.pbx.account import SIPAccount

__all__ = ["formatAccounts", "parseAccounts", "TRAILER", "safeName"]

TRAILER = "; end of the snomprov accounts"
_AUTH_NAME = re.compile(r"^snomprov-([0-9A-F]{12})-([0-9]+)$")
_SAFE = re.compile(r"^[A-Za-z0-9._+*#@-]+$")


def safeName(name: str) -> bool:
    """
    Whether C{name} can be a section name and a value without quoting.
    """
    return bool(_SAFE.match(name))


def _value(text: str) -> str:
    return " ".join(text.splitlines()).replace("\\", "\\\\").replace(";", "\\;")


def _unvalue(text: str) -> str:
    out, escaped = [], False
    for c in text:
        if escaped:
            out.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        else:
            out.append(c)
    return "".join(out)


def _display(text: str) -> str:
    return " ".join(text.splitlines()).replace('"', "'")


def formatAccounts(name: str, accounts: Iterable[SIPAccount]) -> str:
    """
    The whole file for C{accounts} (ordered by device and line), written by
    the sink C{name}.  Accounts whose user or user name cannot be a section
    name (L{safeName}) are left out with a comment.
    """
    out = [
        f"; Written by snomprov (sink {_value(name)}): replaced whole on every change, do not edit.",
        "; Include it from pjsip.conf with: #include <this file>",
        "",
    ]
    for account in sorted(accounts, key=lambda a: (a.mac, a.index, a.username)):
        user = account.user or account.username
        where = f"line {account.index} of {account.mac}"
        if not (safeName(user) and safeName(account.username)):
            out += [f"; left out: {where}, its user cannot be a section name", ""]
            continue
        auth = f"snomprov-{account.mac}-{account.index}"
        label = f"{_value(account.displayName)}, {where}" if account.displayName else where
        out += [f"; {label}", f"[{user}]", "type=endpoint", f"auth={auth}", f"aors={user}"]
        if account.displayName:
            out.append(f'callerid="{_value(_display(account.displayName))}" <{user}>')
        out += ["", f"[{auth}]", "type=auth", "auth_type=userpass", f"username={account.username}",
                f"password={_value(account.password)}"]
        if account.domain:
            out.append(f"realm={_value(account.domain)}")
        out += ["", f"[{user}]", "type=aor", "max_contacts=1", ""]
    out.append(TRAILER)
    return "\n".join(out) + "\n"


def _sections(text: str) -> list[tuple[str, dict[str, str]]]:
    sections: list[tuple[str, dict[str, str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        # A comment starts at an unescaped ';'.
        cut = re.search(r"(?<!\\);", line)
        if cut:
            line = line[: cut.start()].strip()
        if not line:
            continue
        if line.startswith("[") and "]" in line:
            sections.append((line[1 : line.index("]")].strip(), {}))
        elif "=" in line and sections:
            key, _, value = line.partition("=")
            sections[-1][1][key.strip().lstrip(">").strip()] = _unvalue(value.strip())
    return sections


def parseAccounts(text: str) -> dict[str, SIPAccount]:
    """
    The accounts of a file L{formatAccounts} wrote (perhaps edited by
    hand): user name to L{SIPAccount}.  Only auth sections named
    C{snomprov-<MAC>-<line>} are ours; an endpoint naming one gives the
    account's user and display name.
    """
    sections = _sections(text)
    endpoints = {options.get("auth"): (name, options) for name, options in sections
                 if options.get("type") == "endpoint"}
    found: dict[str, SIPAccount] = {}
    for name, options in sections:
        match = _AUTH_NAME.match(name)
        if options.get("type") != "auth" or not match:
            continue
        username = options.get("username", "")
        user, endpoint = endpoints.get(name, (username, {}))
        callerid = endpoint.get("callerid", "")
        displayName = callerid[1 : callerid.index('"', 1)] if callerid.startswith('"') and '"' in callerid[1:] else ""
        found[username] = SIPAccount(
            mac=match.group(1), index=int(match.group(2)), username=username,
            domain=options.get("realm", ""), password=options.get("password", ""),
            user=user, displayName=displayName,
        )
    return found
