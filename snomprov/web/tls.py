# -*- test-case-name: tests.test_https -*-
"""
HTTPS listeners that ask phones for a client certificate, and the MAC such a
certificate names.

With C{[http] client_ca} set, every C{ssl:} description of C{[http] listen}
becomes a TLS endpoint that requires a client certificate signed by one of
the CAs of that PEM bundle (L{mutualTLSEndpoint}).  The phone-facing resource
reads the MAC out of the verified certificate (L{clientMACOf}) and the
provisioner serves per-device files only to the device they name.

snom phones (all but the old 3xx series) ship with a factory device
certificate usable as a client certificate (snom wiki "TLS Support"); the
device is named by its MAC in the subject.  We look for it in the subject's
C{commonName}, then its C{serialNumber}, then DNS names of the
C{subjectAltName}; each may be the bare MAC in any form L{parseMAC} accepts, or
contain it as a 12-hex-digit token (C{snomD785-000413922D24}).
"""

from __future__ import annotations

import re
import weakref

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID
from twisted.application.internet import StreamServerEndpointService
from twisted.internet import ssl
from twisted.internet.endpoints import SSL4ServerEndpoint, _parseServer
from twisted.internet.interfaces import ISSLTransport
from twisted.python.filepath import FilePath

from ..device import InvalidMAC, parseMAC

__all__ = [
    "loadCertificateAuthorities",
    "mutualTLSEndpoint",
    "mutualTLSProblem",
    "mutualTLSService",
    "clientMACOf",
    "requestClientMAC",
]

_MAC_TOKEN = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{12}(?![0-9A-Fa-f])")


def loadCertificateAuthorities(path: str) -> list[ssl.Certificate]:
    """
    Read a PEM bundle of CA certificates.

    @raise ValueError: if the file holds no PEM certificate (or one that
        does not parse).
    @raise OSError: if it cannot be read.
    """
    data = FilePath(path).getContent()
    try:
        found = x509.load_pem_x509_certificates(data)
    except ValueError as e:
        raise ValueError(f"{path}: not a PEM certificate bundle ({e})") from None
    from cryptography.hazmat.primitives.serialization import Encoding

    return [ssl.Certificate.loadPEM(cert.public_bytes(Encoding.PEM)) for cert in found]


def isTLSDescription(description: str) -> bool:
    """
    Whether an endpoint description is an C{ssl:} one (the listeners a
    client CA applies to).
    """
    return description.partition(":")[0].strip().lower() == "ssl"


def mutualTLSProblem(description: str) -> str | None:
    """
    Why an C{ssl:} description cannot require client certificates, or
    C{None}: it sets C{sslmethod}, which C{CertificateOptions} with a trust
    root cannot take (the configuration refuses it, so that the start does
    not fail).
    """
    if re.search(r"(?:^|:)sslmethod=", description):
        return (f"{description!r}: sslmethod cannot be used with [http] client_ca "
                "(remove it: TLS 1.2 and newer are negotiated)")
    return None


def mutualTLSEndpoint(reactor, description: str, authorities: list[ssl.Certificate]) -> SSL4ServerEndpoint:
    """
    The C{ssl:} endpoint of C{description} (C{port}, C{privateKey},
    C{certKey}, C{extraCertChain}, C{dhParameters}, C{interface},
    C{backlog}, as for C{serverFromString}) that requires a client
    certificate signed by one of C{authorities}.

    @raise ValueError: for a description that is not C{ssl:}, or that sets
        C{sslmethod} (not combinable with a trust root).
    """
    if not isTLSDescription(description):
        raise ValueError(f"{description!r} is not an ssl: endpoint description")
    _, args, kwargs = _parseServer(description, None)
    port, _, parsed = args
    problem = mutualTLSProblem(description)
    if problem is not None:
        raise ValueError(problem)
    options = ssl.CertificateOptions(
        privateKey=parsed.privateKey,
        certificate=parsed.certificate,
        extraCertChain=parsed.extraCertChain or None,
        dhParameters=parsed.dhParameters,
        trustRoot=ssl.trustRootFromCertificates(authorities),
    )
    return SSL4ServerEndpoint(reactor, port, options, **kwargs)


def mutualTLSService(reactor, description: str, authorities: list[ssl.Certificate], factory):
    """
    A service listening on L{mutualTLSEndpoint} with C{factory}; as
    C{strports.service}'s, it raises when its port cannot be bound.
    """
    service = StreamServerEndpointService(mutualTLSEndpoint(reactor, description, authorities), factory)
    service._raiseSynchronously = True
    return service


def clientMACOf(certificate: x509.Certificate) -> str | None:
    """
    The MAC a client certificate names (see the module docstring), or
    C{None}.
    """
    candidates = [
        attribute.value
        for oid in (NameOID.COMMON_NAME, NameOID.SERIAL_NUMBER)
        for attribute in certificate.subject.get_attributes_for_oid(oid)
    ]
    try:
        names = certificate.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        candidates += names.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        pass
    for value in candidates:
        if not isinstance(value, str):
            continue
        try:
            return parseMAC(value)
        except InvalidMAC:
            pass
        token = _MAC_TOKEN.search(value)
        if token:
            return token.group(0).upper()
    return None


_macByConnection: "weakref.WeakKeyDictionary[object, str | None]" = weakref.WeakKeyDictionary()


def requestClientMAC(request) -> str | None:
    """
    The MAC of the verified client certificate of a request's connection,
    or C{None} (plain HTTP, no certificate, no MAC in it).  Read once per
    connection.
    """
    transport = getattr(request, "transport", None)
    if transport is None or not ISSLTransport.providedBy(transport):
        return None
    try:
        return _macByConnection[transport]
    except (KeyError, TypeError):
        pass
    peer = transport.getPeerCertificate()
    mac = clientMACOf(peer.to_cryptography()) if peer is not None else None
    try:
        _macByConnection[transport] = mac
    except TypeError:
        pass
    return mac
