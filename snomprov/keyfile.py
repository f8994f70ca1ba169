# -*- test-case-name: tests.test_proofcheck -*-
"""
The daemon's provisioning key (L{snomprov.proofs}): one file, created
C{0600} with a random key the first time, read at every start.  Two
daemons starting together on one key file end with the same key (the
file is created exclusively; the loser reads the winner's).
"""

from __future__ import annotations

import os
import secrets

from .privatefiles import makePrivateDirectory
from .proofs import KEY_BYTES

__all__ = ["readOrCreateKey", "KeyFileError"]


class KeyFileError(Exception):
    """
    The key file cannot be read or made, or does not hold a key.
    """


def readOrCreateKey(path: str) -> bytes:
    """
    The key in C{path} (hexadecimal text), made first if missing.

    @raise KeyFileError: naming the file and the reason.
    """
    try:
        makePrivateDirectory(os.path.dirname(os.path.abspath(path)))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(KEY_BYTES) + "\n")
        with open(path) as f:
            text = f.read().strip()
    except OSError as e:
        raise KeyFileError(f"{path}: {e.strerror or e}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise KeyFileError(f"{path}: not a key (expected at least 32 hexadecimal digits)")
    return key
