# -*- test-case-name: tests.test_ldap -*-
"""
Looking a user up in a directory to pre-fill a registration (DESIGN §7,
C{[ldap]}), with ldaptor, behind one small interface: L{IDirectory}.

A look-up connects, binds (anonymously or as C{[ldap] bind_dn} with the
password read from C{bind_password_file}), searches C{base_dn}'s subtree
with C{[ldap] filter} (the login escaped, RFC 4515) for the configured
attributes, and disconnects.  The whole of it is bounded by C{[ldap]
timeout}: a directory that is down answers L{DirectoryUnavailable} at
once, one that is slow when the timeout ends; the form says so, never
hangs.  No password is logged or put in an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.internet.endpoints import clientFromString, connectProtocol
from twisted.internet.error import ConnectError, ConnectionLost, TimeoutError
from zope.interface import Interface, implementer

__all__ = ["IDirectory", "DirectoryEntry", "DirectoryUnavailable", "LDAPDirectory", "directoryFor",
           "searchFilter", "endpointFor"]


class DirectoryUnavailable(Exception):
    """
    The directory could not be asked (down, slow, refused the bind); the
    message says which, for the operator.
    """


@dataclass(frozen=True)
class DirectoryEntry:
    """
    What the directory knows of a user; a field it has not is C{""}.
    """

    login: str
    displayName: str = ""
    extension: str = ""
    email: str = ""


class IDirectory(Interface):
    def lookUp(login):
        """
        @return: Deferred firing with the L{DirectoryEntry} of C{login}, or
            C{None} when the directory has no such user (or several), or
            failing with L{DirectoryUnavailable}.
        """


def searchFilter(template: str, login: str) -> str:
    """
    C{template} with C{{login}} replaced by C{login} escaped as an LDAP
    filter value (RFC 4515: C{\\\\}, C{*}, C{(}, C{)}, and every control
    character, NUL included, as C{\\XX}).  Pure.
    """
    escaped = "".join(f"\\{ord(c):02x}" if c in "\\*()" or ord(c) < 0x20 or ord(c) == 0x7f else c
                      for c in login)
    return template.replace("{login}", escaped)


def endpointFor(url: str) -> str:
    """
    The Twisted client endpoint description of an C{ldap://} or
    C{ldaps://} URL.  Pure.
    """
    parts = urlsplit(url)
    host = parts.hostname.replace(":", "\\:")
    if parts.scheme == "ldaps":
        return f"tls:{host}:{parts.port or 636}"
    return f"tcp:{host}:{parts.port or 389}"


def _first(entry, attribute: str | None) -> str:
    if not attribute:
        return ""
    for name in entry.keys():
        text = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        if text.lower() == attribute.lower():
            for value in entry[name]:
                return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return ""


@implementer(IDirectory)
class LDAPDirectory:
    """
    @param config: the C{[ldap]} table (L{snomprov.config.LDAPConfig}).
    @param reactor: the reactor to connect with and time out on.
    """

    def __init__(self, config, reactor) -> None:
        self._config = config
        self._reactor = reactor

    def _password(self) -> str:
        if not self._config.bindPasswordFile:
            return ""
        try:
            with open(self._config.bindPasswordFile, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except OSError as e:
            raise DirectoryUnavailable(f"the directory's bind password file cannot be read: "
                                       f"{e.strerror or e}") from None

    def lookUp(self, login: str):
        if not login:
            return defer.succeed(None)
        d = defer.ensureDeferred(self._lookUp(login))
        timeout = self._config.timeout
        d.addTimeout(timeout, self._reactor)

        def failed(failure):
            if failure.check(defer.CancelledError, defer.TimeoutError, TimeoutError):
                raise DirectoryUnavailable(f"the directory did not answer within {timeout:g} s")
            if failure.check(DirectoryUnavailable):
                return failure
            if failure.check(ConnectError):
                raise DirectoryUnavailable(f"the directory cannot be reached: "
                                           f"{failure.value.__class__.__name__}")
            if failure.check(ConnectionLost):
                raise DirectoryUnavailable("the directory closed the connection")
            raise DirectoryUnavailable(f"the directory refused the look-up: {_reason(failure.value)}")

        return d.addErrback(failed)

    async def _lookUp(self, login: str) -> DirectoryEntry | None:
        from ldaptor.protocols.ldap.ldapclient import LDAPClient
        from ldaptor.protocols.ldap.ldapsyntax import LDAPEntry

        config = self._config
        password = self._password()
        endpoint = clientFromString(self._reactor, endpointFor(config.url))
        client = await connectProtocol(endpoint, LDAPClient())
        try:
            if config.bindDN:
                await client.bind(config.bindDN, password)
            wanted = [a for a in config.attributes.values() if a]
            found = await LDAPEntry(client, config.baseDN).search(
                filterText=searchFilter(config.filter, login), attributes=wanted, sizeLimit=2,
                sizeLimitIsNonFatal=True)
        finally:
            if client.transport is not None:
                client.transport.loseConnection()
        if len(found) != 1:
            return None
        entry = found[0]
        attributes = config.attributes
        return DirectoryEntry(login, _first(entry, attributes.get("display_name")),
                              _first(entry, attributes.get("extension")), _first(entry, attributes.get("email")))


def _reason(error: Exception) -> str:
    text = str(error) or error.__class__.__name__
    return text.splitlines()[0][:200]


def directoryFor(config, reactor) -> IDirectory | None:
    """
    The directory of C{[ldap]}, or C{None} when it is not set.
    """
    return LDAPDirectory(config.ldap, reactor) if config is not None and config.ldap.enabled else None
