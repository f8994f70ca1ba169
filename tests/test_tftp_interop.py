"""
Interoperability of the TFTP server with the real clients Debian ships
(tftp-hpa, atftp, busybox, curl), over 127.0.0.1 with the real reactor.

The clients run as child processes while the reactor keeps serving; each
test skips with the reason when its client binary is missing.
"""

import hashlib
import shutil

import pytest
import pytest_twisted
from twisted.internet.defer import inlineCallbacks, succeed
from twisted.internet.task import deferLater
from twisted.internet.utils import getProcessOutputAndValue

from snomprov.tftp.protocol import BytesSource, TFTPServerProtocol
from tftp_clients import CLIENTS, HOST

pytestmark = pytest.mark.interop

SMALL = b"<flat-profile>\n<Proxy_1_>pbx.example</Proxy_1_>\n</flat-profile>\n" * 20
EXACT = bytes(range(256)) * 2  # exactly one 512-octet block: empty final block
BIG = bytes(i * 31 % 253 for i in range(1 << 16)) * 519  # 34 013 184 octets
FILES = {"spa942.cfg": SMALL, "exact.bin": EXACT, "firmware.bin": BIG}


@inlineCallbacks
def _fetch(client, name, tmp_path):
    """
    Serve L{FILES} on an ephemeral port, run C{client} to fetch C{name}, and
    return the client's exit code and output, the octets it wrote and the
    server's C{onTransferDone} calls.
    """
    from twisted.internet import reactor

    done = []
    files = {key: BytesSource(value) for key, value in FILES.items()}

    def reader(requested, address):
        return succeed(files.get(requested))

    server = TFTPServerProtocol(
        reader,
        reactor,
        perClientRate=None,
        listenInterface=HOST,
        onTransferDone=lambda *args: done.append(args),
    )
    port = reactor.listenUDP(0, server, interface=HOST)
    out = tmp_path / "received"
    try:
        executable, argv = CLIENTS[client](port.getHost().port, name, str(out))
        path = shutil.which(executable)
        if path is None:
            pytest.skip(f"{executable} is not installed (apt-get install it)")
        stdout, stderr, code = yield getProcessOutputAndValue(path, argv[1:])
        for _ in range(100):  # the final ACK may still be in the socket buffer
            if done:
                break
            yield deferLater(reactor, 0.02, lambda: None)
    finally:
        yield port.stopListening()
    received = out.read_bytes() if out.exists() else None
    return code, stdout + stderr, received, done


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("name", ["spa942.cfg", "exact.bin"])
@pytest_twisted.inlineCallbacks
def test_smallFilesByteIdentical(client, name, tmp_path):
    """
    Every client receives a small profile and an exactly-512-octet file (which
    ends with an empty DATA block) byte for byte, and the server reports the
    transfer complete.
    """
    code, output, received, done = yield _fetch(client, name, tmp_path)
    assert code == 0, output
    assert received == FILES[name]
    assert [d[3] for d in done] == ["complete"]


@pytest.mark.parametrize("client", ["curl", "tftp-hpa-binary"])
@pytest_twisted.inlineCallbacks
def test_fileNotFound(client, tmp_path):
    """
    Real clients report failure for a name the reader does not know (ERROR 1
    sent from the listening port).
    """
    code, output, received, done = yield _fetch(client, "spa000.cfg", tmp_path)
    assert code != 0 or b"not found" in output.lower()
    assert [d[3] for d in done] == ["error:File not found"]


@pytest.mark.parametrize("client", ["tftp-hpa-binary", "atftp-windowsize-8"])
@pytest_twisted.inlineCallbacks
def test_blockNumberWrap(client, tmp_path):
    """
    A 34 MB file at 512-octet blocks (66 433 blocks, so the block number wraps
    past 65535 to 0) arrives byte-identical with lock-step and windowed
    clients.
    """
    code, output, received, done = yield _fetch(client, "firmware.bin", tmp_path)
    assert code == 0, output
    assert received is not None and len(received) == len(BIG)
    assert hashlib.sha256(received).digest() == hashlib.sha256(BIG).digest()
    assert done == [(
        "firmware.bin", done[0][1], len(BIG), "complete"
    )]
