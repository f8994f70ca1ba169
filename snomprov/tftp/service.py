# -*- test-case-name: tests.test_tftp_service -*-
"""
The TFTP server wired to the provisioner: names are resolved by the vendor
registry, never by the file system.
"""

from __future__ import annotations

from ..networks import NetworkSet
from ..provisioning import Fetch
from .protocol import BytesSource, FileSource, TFTPServerProtocol

__all__ = ["tftpProtocolFor", "provisionerReader"]

def provisionerReader(provisioner):
    """
    A TFTP reader answering through a L{snomprov.provisioning.Provisioner}.
    """

    def read(name: str, clientAddress):
        d = provisioner.fetch(Fetch(name=name, clientIP=clientAddress[0], transport="tftp"))
        d.addCallback(sourceOf)
        return d

    return read


def sourceOf(rendered):
    """
    What a TFTP transfer reads: the rendered bytes, or the configured file.
    """
    if rendered is None:
        return None
    return FileSource(rendered.path) if rendered.path else BytesSource(rendered.content)


def tftpProtocolFor(config, provisioner, recorder, reactor, onTransferDone=None) -> TFTPServerProtocol:
    """
    The TFTP protocol of the daemon.

    @param onTransferDone: see L{TFTPServerProtocol} (C{/metrics} counts
        the transfers).
    """
    return TFTPServerProtocol(
        provisionerReader(provisioner),
        reactor,
        maxTransfers=config.tftp.maxTransfers,
        maxWaiting=config.tftp.maxWaiting,
        perClientRate=config.tftp.ratePerClient,
        transfersPerClient=config.tftp.transfersPerClient,
        logFieldLength=config.server.logFieldLength,
        listenInterface=config.tftp.interface,
        onTransferDone=onTransferDone,
        allowedSources=NetworkSet(config.tftp.allowedNetworks),
    )
