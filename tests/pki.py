"""
A throwaway PKI for tests: a CA, a server certificate for 127.0.0.1 and
client certificates naming a MAC, made with C{cryptography} at test time.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_EPOCH = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
_END = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass
class Issued:
    """
    A certificate and its key.
    """

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def certPEM(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def keyPEM(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )

    def write(self, directory, stem: str) -> tuple[str, str]:
        """
        Write C{<stem>.crt} and C{<stem>.key}; return their paths.
        """
        cert, key = os.path.join(str(directory), stem + ".crt"), os.path.join(str(directory), stem + ".key")
        with open(cert, "wb") as f:
            f.write(self.certPEM)
        with open(key, "wb") as f:
            f.write(self.keyPEM)
        return cert, key


def _name(**attributes: str) -> x509.Name:
    oids = {"cn": NameOID.COMMON_NAME, "serial": NameOID.SERIAL_NUMBER, "o": NameOID.ORGANIZATION_NAME}
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attributes.items()])


def _build(subject: x509.Name, issuer: "Issued | None", ca: bool, extensions=()) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_EPOCH)
        .not_valid_after(_END)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def makeCA(name: str = "snomprov test CA") -> Issued:
    """
    A self-signed CA.
    """
    return _build(_name(cn=name, o="snomprov tests"), None, ca=True)


def makeServer(ca: Issued, host: str = "127.0.0.1") -> Issued:
    """
    A server certificate for C{host} (an IP address) signed by C{ca}.
    """
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))])
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    return _build(_name(cn=host), ca, ca=False, extensions=(san, usage))


def makeClient(ca: Issued, **subject: str) -> Issued:
    """
    A client certificate signed by C{ca} with the given subject
    (C{cn=MAC}, C{serial=...}).
    """
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    return _build(_name(**subject), ca, ca=False, extensions=(usage,))


def makeClientWithDNSName(ca: Issued, dnsName: str) -> Issued:
    """
    A client certificate whose only name is a C{subjectAltName} DNS name.
    """
    san = x509.SubjectAlternativeName([x509.DNSName(dnsName)])
    return _build(_name(o="phones"), ca, ca=False, extensions=(san,))
