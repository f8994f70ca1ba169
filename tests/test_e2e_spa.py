"""
The SPA path end to end against the real daemon: a registered SPA phone's
TFTP client fetches the initial profile, follows its C{Profile_Rule} with
C{$MA} expanded, and gets its own lines; the same files over HTTP.
"""

import re
import shutil
import subprocess
import time
import urllib.request

import pytest
from lxml import etree

from daemon import Daemon
from tftp_clients import CLIENTS

pytestmark = pytest.mark.interop

MAC = "000E08AABBCC"
CSV = (
    "mac,vendor,model,line,user,password,display_name,registrar\n"
    "00:0e:08:aa:bb:cc,linksys,SPA942,1,200,pw&<200>,Carol Zoë,pbx.example.com\n"
    "00:0e:08:aa:bb:cc,linksys,SPA942,2,201,pw201,Dave,pbx.example.com\n"
)


# 34,013,184 octets: more than 65,535 blocks of 512, so block numbers wrap.
FIRMWARE = bytes(i * 31 % 253 for i in range(1 << 16)) * 519


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """
    The daemon with one SPA942 registered through C{snomprov import}.
    """
    directory = tmp_path_factory.mktemp("spa")
    (directory / "spa942-6-1-5a.bin").write_bytes(FIRMWARE)
    daemon = Daemon(directory, sip=False, extraConfig=(
        "[vendors.linksys.firmware]\n"
        f'SPA942 = {{ version = "6.1.5a", file = "{directory / "spa942-6-1-5a.bin"}" }}\n'))
    (directory / "devices.csv").write_text(CSV)
    result = daemon.run("import", str(directory / "devices.csv"))
    assert result.returncode == 0, result.stderr
    with daemon.start():
        yield daemon


def fetch(client, daemon, name, tmp_path) -> bytes:
    """
    Fetch C{name} from the daemon's TFTP port with a real client.
    """
    out = tmp_path / name.replace("/", "_")
    executable, argv = CLIENTS[client](daemon.tftpPort, name, str(out))
    if shutil.which(executable) is None:
        pytest.skip(f"{executable} is not installed")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and out.exists(), (result.stdout, result.stderr, daemon.log()[-2000:])
    return out.read_bytes()


def profileValues(data: bytes) -> dict[str, str]:
    """
    The parameters of a C{<flat-profile>}, by element name.
    """
    root = etree.fromstring(data)
    assert root.tag == "flat-profile"
    return {element.tag: element.text or "" for element in root}


@pytest.mark.parametrize("client", ["tftp-hpa-binary", "tftp-hpa-netascii", "atftp-windowsize-8",
                                    "atftp-blksize-1468", "busybox", "curl"])
def test_initialThenPerMACProfile(daemon, client, tmp_path):
    """
    Each client gets C{spa942.cfg}, whose C{Profile_Rule} names our TFTP
    server (port written, as it is not 69) and C{spa$MA.cfg}; with C{$MA}
    expanded as the phone does, it gets its own profile with its lines.
    """
    initial = profileValues(fetch(client, daemon, "/spa942.cfg", tmp_path))
    rule = initial["Profile_Rule"]
    assert rule == f"tftp://127.0.0.1:{daemon.tftpPort}/spa$MA.cfg"
    name = rule.split("/", 3)[3].replace("$MA", MAC.lower())
    profile = profileValues(fetch(client, daemon, name, tmp_path))
    assert profile["User_ID_1_"] == "200" and profile["Password_1_"] == "pw&<200>"
    assert profile["Display_Name_1_"] == "Carol Zoë" and profile["Proxy_1_"] == "pbx.example.com"
    assert profile["User_ID_2_"] == "201"
    # its own profile's rule carries its credential, which proves its re-syncs
    assert re.fullmatch(re.escape(rule) + r"\?token=c[\w-]{20}", profile["Profile_Rule"]), profile["Profile_Rule"]
    again = profile["Profile_Rule"].split("/", 3)[3].replace("$MA", MAC.lower())
    assert profileValues(fetch(client, daemon, again, tmp_path))["Password_1_"] == "pw&<200>"


def test_otherMACGetsNoLines(daemon, tmp_path):
    """
    Another MAC's per-MAC profile never carries this phone's lines.
    """
    profile = profileValues(fetch("curl", daemon, "spa000e08000001.cfg", tmp_path))
    assert "User_ID_1_" not in profile and "pw201" not in str(profile)


def test_unknownNameNotFound(daemon, tmp_path):
    """
    A name no vendor recognises is "file not found", and paths never reach
    the file system.
    """
    for name in ("../../etc/passwd", "/etc/passwd", "nothing.cfg"):
        out = tmp_path / "x"
        executable, argv = CLIENTS["curl"](daemon.tftpPort, name, str(out))
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert result.returncode != 0


def test_sameFilesOverHTTP(daemon):
    """
    The initial and per-MAC profiles are served over HTTP too.
    """
    with urllib.request.urlopen(f"{daemon.baseURL}/spa942.cfg", timeout=5) as response:
        assert "Profile_Rule" in profileValues(response.read())
    with urllib.request.urlopen(f"{daemon.baseURL}/linksys/spa{MAC.lower()}.cfg", timeout=5) as response:
        assert profileValues(response.read())["User_ID_1_"] == "200"


def test_fetchesRecorded(daemon, tmp_path):
    """
    A TFTP fetch moves the device to C{fetched} with a C{tftp-fetched} event.
    """
    fetch("curl", daemon, f"spa{MAC.lower()}.cfg", tmp_path)
    import json

    for _ in range(50):
        devices = json.loads(daemon.run("devices", "--json").stdout)
        device = [d for d in devices if d["mac"] == MAC][0]
        if device["state"] == "fetched":
            break
        time.sleep(0.1)
    assert device["state"] == "fetched" and device["ip"] == "127.0.0.1"


@pytest.mark.parametrize("client", ["tftp-hpa-binary", "atftp-windowsize-8", "busybox", "curl"])
def test_firmwareImageWrapsByteIdentical(daemon, client, tmp_path):
    """
    The initial profile's C{Upgrade_Rule} names the configured SPA942 image
    on our TFTP server; each client fetches the 34 MB image (block numbers
    wrap at 512-octet blocks) byte for byte from the real daemon.
    """
    rule = profileValues(fetch(client, daemon, "spa942.cfg", tmp_path))["Upgrade_Rule"]
    condition, _, url = rule.rpartition(" ")
    assert condition == "($SWVER ne 6.1.5a)?"
    assert url == f"tftp://127.0.0.1:{daemon.tftpPort}/linksys/firmware/spa942-6-1-5a.bin"
    image = fetch(client, daemon, url.split("/", 3)[3], tmp_path)
    assert len(image) == len(FIRMWARE) and image == FIRMWARE


def test_firmwareOverHTTP(daemon):
    """
    The same image is served over HTTP, with its length.
    """
    with urllib.request.urlopen(f"{daemon.baseURL}/linksys/firmware/spa942-6-1-5a.bin", timeout=30) as response:
        assert response.headers["Content-Length"] == str(len(FIRMWARE))
        assert response.read() == FIRMWARE
