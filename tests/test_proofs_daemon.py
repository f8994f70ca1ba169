"""
Proofs against the real daemon with real clients (DESIGN §5): with the
default configuration a snom phone's PnP NOTIFY carries a token, its file
fetched with it carries its passwords and the credential its kept URLs
use; the same file asked from another address without a proof carries
none and is a C{rejected} event; a rotated credential stops proving.  An
SPA (DHCP, TFTP) gets its secrets only from inside C{allowed_networks};
TFTP does not answer outside them; the log says which key to set.

Every address is a loopback one (127.0.0.0/8 is all this host's): curl's
C{--interface} picks the source.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from daemon import Daemon
from test_e2e_snom import CSV, MAC, pnp

SPA = "000E08D1D2D3"
SPA_CSV = ("mac,vendor,model,line,user,password,display_name,registrar\n"
           f"{SPA},linksys,SPA942,1,5501,spaSecret77,Store,pbx.example.org\n")


def curl(url: str, source: str, *options: str) -> subprocess.CompletedProcess:
    path = shutil.which("curl")
    if path is None:
        pytest.skip("curl is not installed (Debian: apt-get install curl)")
    return subprocess.run([path, "-sS", "--max-time", "5", "--interface", source, *options, url],
                          capture_output=True, timeout=30)


def fetched(url: str, source: str) -> bytes:
    result = curl(url, source, "-f")
    assert result.returncode == 0, (url, source, result.stderr)
    return result.stdout


def eventsOf(daemon: Daemon, mac: str, kind: str, attempts: int = 50) -> list[str]:
    for _ in range(attempts):
        result = daemon.run("events", mac)
        found = [line for line in result.stdout.splitlines() if kind in line]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_pnpTokenCredentialAndNoProof(tmp_path):
    with Daemon(tmp_path, tftp=False, proofNetworks=()) as daemon:
        daemon.importCSV(CSV)
        url = pnp(daemon)  # from 127.0.0.1, acknowledged from there
        assert re.search(r"\?token=t[0-9a-z]+\.[A-Za-z0-9_-]{20}$", url), url
        container = fetched(url, "127.0.0.1").decode()
        (settingsURL,) = re.findall(r'url="([^"]+)"', container)
        assert re.search(r"-settings\.xml\?token=c[A-Za-z0-9_-]{20}$", settingsURL), settingsURL
        # the credential proves from anywhere
        full = fetched(settingsURL, "127.0.0.2")
        assert b"secret1" in full and b"secret2" in full
        assert settingsURL.split("token=")[1].encode() in full  # setting_server keeps it
        # the PnP address proves too
        assert b"secret1" in fetched(f"{daemon.baseURL}/snom/{MAC}-settings.xml", "127.0.0.1")
        # no proof: the file without any secret, and a rejected event
        bare = fetched(f"{daemon.baseURL}/snom/{MAC}-settings.xml", "127.0.0.3")
        assert b"4711" in bare and b"secret1" not in bare and b"secret2" not in bare and b"token=c" not in bare
        # the NOTIFY's token from another address proves nothing
        stolen = fetched(url.replace(".xml?", "-settings.xml?"), "127.0.0.4")
        assert b"secret1" not in stolen
        rejected = eventsOf(daemon, MAC, "served without its secrets")
        assert any("127.0.0.3" not in line and "not from the address of its PnP" in line for line in rejected)
        assert "the token is for another device or address" in "\n".join(eventsOf(daemon, MAC, "token is for"))
        # the NOTIFY's token is not in the history
        assert url.split("token=")[1] not in daemon.run("events", MAC).stdout
        # rotated: the old credential stops proving (within the change feed's delay)
        result = daemon.run("credential", "rotate", MAC)
        assert result.returncode == 0, result.stderr
        for _ in range(50):
            if b"secret1" not in fetched(settingsURL, "127.0.0.2"):
                break
            time.sleep(0.1)
        else:
            pytest.fail("a rotated credential still proves")
        assert "provisioning credential rotated" in daemon.run("events", MAC).stdout
    assert "secret1" not in daemon.log()


def test_spaSecretsOnlyInsideItsNetwork(tmp_path):
    with Daemon(tmp_path, sip=False, proofNetworks=("127.0.0.2/32",)) as daemon:
        daemon.importCSV(SPA_CSV)
        tftp = f"tftp://127.0.0.1:{daemon.tftpPort}/spa{SPA.lower()}.cfg"
        inside = fetched(tftp, "127.0.0.2")
        assert b"spaSecret77" in inside and b"5501" in inside
        assert re.search(rb"spa\$MA\.cfg\?token=c[A-Za-z0-9_-]{20}</Profile_Rule>", inside), inside
        # TFTP answers only its allowed networks: silence, then curl gives up
        outside = curl(tftp, "127.0.0.3")
        assert outside.returncode != 0 and b"spaSecret77" not in outside.stdout
        # over HTTP from outside: the profile without the password
        bare = fetched(f"{daemon.baseURL}/linksys/spa{SPA.lower()}.cfg", "127.0.0.3")
        assert b"5501" in bare and b"spaSecret77" not in bare and b"Password_1_" not in bare
        for _ in range(50):
            if "list its network in [http] allowed_networks" in daemon.log():
                break
            time.sleep(0.1)
        log = daemon.log()
    assert "list its network in [http] allowed_networks to let it have its secrets" in log
    assert log.count("Logged once.") == 1
    assert "spaSecret77" not in log
