"""
The C{snomprov} command line, run as users run it (a child process).
"""

import json

import pytest

from daemon import Daemon


@pytest.fixture
def cli(tmp_path):
    """
    A config (no daemon running) to run commands against.
    """
    return Daemon(tmp_path, sip=False, tftp=False)


GOOD = (
    "mac,vendor,model,line,user,password,display_name,registrar\n"
    "0004.1392.2d24,snom,snomD785,1,100,secret1,Alice,pbx.example.com\n"
    "00:04:13:92:2D:24,snom,snomD785,2,101,secret2,Alice 2,pbx.example.com\n"
)


def test_checkPrintsEffectiveConfig(cli):
    """
    C{check} exits 0 and prints every section with defaults filled in.
    """
    result = cli.run("check")
    assert result.returncode == 0, result.stderr
    for line in ("[server]", "[sip]", "[tftp]", "unknown_devices = \"defaults\"", f"port = {cli.tftpPort}"):
        assert line in result.stdout


def test_checkRefusesBadConfig(tmp_path):
    """
    C{check} on a bad file exits 2 with one line per problem.
    """
    bad = tmp_path / "bad.toml"
    bad.write_text('[sip]\nport = "x"\n[tftp]\nbogus = 1\n[vendors.nobody]\nx = 1\n')
    import subprocess
    import sys

    from daemon import ROOT

    result = subprocess.run([sys.executable, "-m", "snomprov", "--config", str(bad), "check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert "sip.port" in lines[0] and "tftp.bogus" in lines[1] and "vendors.nobody" in lines[2]


def test_importThenDevices(cli, tmp_path):
    """
    C{import} registers the devices; importing again changes nothing;
    C{devices --json} lists them.
    """
    (tmp_path / "d.csv").write_text(GOOD)
    first = cli.run("import", str(tmp_path / "d.csv"))
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"imported 1 devices with 2 lines from {tmp_path / 'd.csv'}\n"
    assert cli.run("import", str(tmp_path / "d.csv")).returncode == 0
    devices = json.loads(cli.run("devices", "--json").stdout)
    assert [(d["mac"], d["vendor"], d["model"], d["state"]) for d in devices] == [
        ("000413922D24", "snom", "snomD785", "registered")]
    table = cli.run("devices").stdout
    assert "000413922D24" in table and "registered" in table


def test_importRefusedWholeWithLines(cli, tmp_path):
    """
    A CSV with problems is refused whole: exit 2, each problem naming its
    line, nothing stored.
    """
    bad = GOOD + "zz:zz,snom,,1,1,p,x,r\n000413922D25,acme,,1,1,p,x,r\n"
    (tmp_path / "bad.csv").write_text(bad)
    result = cli.run("import", str(tmp_path / "bad.csv"))
    assert result.returncode == 2
    assert "line 4:" in result.stderr and "line 5:" in result.stderr
    assert "secret" not in result.stderr
    assert json.loads(cli.run("devices", "--json").stdout) == []


def test_renderShowsWhatThePhoneGets(cli, tmp_path):
    """
    C{render MAC} prints the device's settings with its lines; an unknown
    name is exit 2.
    """
    (tmp_path / "d.csv").write_text(GOOD)
    cli.run("import", str(tmp_path / "d.csv"))
    result = cli.run("render", "00:04:13:92:2d:24")
    assert result.returncode == 0, result.stderr
    assert '<user_name idx="1">100</user_name>' in result.stdout
    assert '<user_name idx="2">101</user_name>' in result.stdout
    container = cli.run("render", "000413922D24", "snom/000413922D24.xml")
    assert "<setting-files>" in container.stdout
    missing = cli.run("render", "000413922D24", "nothing.txt")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert cli.run("render", "not-a-mac").returncode == 2


def test_settingsUpload(cli, tmp_path):
    """
    An uploaded settings file becomes the scope's layer and shows in what
    the phone gets; a bad file is refused with its line, changing nothing.
    """
    (tmp_path / "d.csv").write_text(GOOD)
    cli.run("import", str(tmp_path / "d.csv"))
    (tmp_path / "s.xml").write_text(
        '<settings>\n<phone-settings>\n<language perm="">Deutsch</language>\n'
        '<web_language perm=" ">English</web_language>\n</phone-settings>\n</settings>\n')
    result = cli.run("settings", "upload", "--scope", "model:snomD785", str(tmp_path / "s.xml"))
    assert result.returncode == 0, result.stderr
    rendered = cli.run("render", "000413922D24").stdout
    assert '<language perm="">Deutsch</language>' in rendered
    assert '<web_language perm=" ">English</web_language>' in rendered
    (tmp_path / "bad.xml").write_text('<settings>\n<phone-settings>\n<language perm="Q">x</language>\n'
                                      '</phone-settings>\n</settings>\n')
    refused = cli.run("settings", "upload", "--scope", "model:snomD785", str(tmp_path / "bad.xml"))
    assert refused.returncode == 2 and "line 3" in refused.stderr
    assert "Deutsch" in cli.run("render", "000413922D24").stdout
    assert cli.run("settings", "upload", "--scope", "planet:x", str(tmp_path / "s.xml")).returncode == 2


def test_dhcpSnippets(cli, tmp_path):
    """
    C{dhcp} prints a snippet per format; C{--per-device} adds reservations
    for registered devices.
    """
    (tmp_path / "d.csv").write_text(GOOD)
    cli.run("import", str(tmp_path / "d.csv"))
    plain = cli.run("dhcp", "--format", "dnsmasq")
    assert plain.returncode == 0 and "LINKSYS SPA" in plain.stdout and "00:04:13:92:2d:24" not in plain.stdout
    perDevice = cli.run("dhcp", "--format", "isc", "--per-device")
    assert "00:04:13:92:2d:24" in perDevice.stdout.lower()
    kea = json.loads(cli.run("dhcp", "--format", "kea", "--per-device").stdout)
    assert "client-classes" in kea and "reservations" in kea


def test_resyncWithoutAddress(cli, tmp_path):
    """
    C{resync} of a phone that never contacted us says so and exits 2.
    """
    (tmp_path / "d.csv").write_text(GOOD)
    cli.run("import", str(tmp_path / "d.csv"))
    result = cli.run("resync", "000413922D24")
    assert result.returncode == 2 and "no known address" in result.stderr
    assert cli.run("resync", "000413999999").returncode == 2
