"""
The C{snomprov} command line, run as users run it (a child process).
"""

import json
import os
import subprocess
import sys

import pytest

from daemon import ROOT, Daemon

from snomprov.operations.resync import NO_PROVEN_ADDRESS


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
    name is exit 2, naming the device's files, each of which renders.
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
    assert missing.returncode == 2
    assert missing.stderr == (
        "nothing.txt: no such file for 000413922D24; its files are snom/000413922D24-settings.xml, "
        "snom/000413922D24.xml, snom/000413922D24-firmware.xml, snomD785-000413922D24.htm\n")
    for name in missing.stderr.strip().split("its files are ")[1].split(", "):
        listed = cli.run("render", "000413922D24", name)
        assert listed.returncode == 0 and listed.stdout.startswith("<"), (name, listed.stderr)
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
    C{resync} of a phone that never proved an address says so and exits 2.
    """
    (tmp_path / "d.csv").write_text(GOOD)
    cli.run("import", str(tmp_path / "d.csv"))
    result = cli.run("resync", "000413922D24")
    assert result.returncode == 2 and NO_PROVEN_ADDRESS in result.stderr
    assert cli.run("resync", "000413999999").returncode == 2


def snomprov(*args: str, cwd: str, environ: dict | None = None) -> subprocess.CompletedProcess:
    """
    Run C{snomprov ARGS} in C{cwd}, with C{environ} added to the environment
    (C{SNOMPROV_CONFIG} removed unless given).
    """
    env = {k: v for k, v in os.environ.items() if k != "SNOMPROV_CONFIG"}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(environ or {})
    return subprocess.run([sys.executable, "-m", "snomprov", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=60)


@pytest.fixture
def storeless(tmp_path):
    """
    A config file whose store has not been created.
    """
    path = tmp_path / "conf" / "snomprov.toml"
    path.parent.mkdir()
    path.write_text('[server]\ndata_dir = "state"\n[sip]\nenabled = false\n[tftp]\nenabled = false\n')
    return path


@pytest.mark.parametrize("command", [
    ["devices"], ["import", "d.csv"], ["render", "000413922D24"], ["resync", "000413922D24"],
    ["settings", "upload", "--scope", "site", "s.xml"], ["dhcp", "--format", "isc", "--per-device"],
    ["events"], ["events", "--follow"],
])
def test_noStoreIsNotCreated(storeless, tmp_path, command):
    """
    A command needing the store, when there is none, prints one line naming
    the store it looked for and how to name another, and exits 2; it
    creates neither the store nor its directory.
    """
    (tmp_path / "d.csv").write_text(GOOD)
    (tmp_path / "s.xml").write_text("<settings>\n<phone-settings>\n</phone-settings>\n</settings>\n")
    result = snomprov("--config", str(storeless), *command, cwd=str(tmp_path))
    assert result.returncode == 2, result.stderr
    store = tmp_path / "conf" / "state" / "snomprov.sqlite"
    assert result.stderr == (
        f"no store at {store} (configuration: {storeless}); start the daemon once to create it, "
        "or name the daemon's configuration with --config FILE or SNOMPROV_CONFIG=FILE\n")
    assert result.stdout == ""
    assert not (tmp_path / "conf" / "state").exists()


def test_commandsWithoutStore(storeless, tmp_path):
    """
    C{check} and C{dhcp} (without C{--per-device}) need no store and work
    without one.
    """
    assert snomprov("--config", str(storeless), "check", cwd=str(tmp_path)).returncode == 0
    dhcp = snomprov("--config", str(storeless), "dhcp", "--format", "dnsmasq", cwd=str(tmp_path))
    assert dhcp.returncode == 0 and "LINKSYS SPA" in dhcp.stdout
    assert not (tmp_path / "conf" / "state").exists()


def test_configBeforeOrAfterCommand(cli, tmp_path):
    """
    C{--config} (or C{-c}) is accepted before or after the command, and
    after a sub-command; given after, it replaces one given before.
    """
    (tmp_path / "d.csv").write_text(GOOD)
    assert cli.run("import", str(tmp_path / "d.csv")).returncode == 0
    here = str(tmp_path)
    for args in (["--config", cli.configPath, "devices"], ["devices", "--config", cli.configPath],
                 ["devices", "-c", cli.configPath, "--json"],
                 ["--config", str(tmp_path / "nope.toml"), "devices", "--config", cli.configPath]):
        result = snomprov(*args, cwd=here)
        assert result.returncode == 0, (args, result.stderr)
        assert "000413922D24" in result.stdout
    (tmp_path / "s.xml").write_text('<settings>\n<phone-settings>\n<language perm="">Deutsch</language>\n'
                                    '</phone-settings>\n</settings>\n')
    upload = snomprov("settings", "upload", "--scope", "site", str(tmp_path / "s.xml"), "--config", cli.configPath,
                      cwd=here)
    assert upload.returncode == 0, upload.stderr


def test_configFromEnvironment(cli, tmp_path):
    """
    Without C{--config}, C{SNOMPROV_CONFIG} names the configuration, from
    whatever directory the command runs in.
    """
    (tmp_path / "d.csv").write_text(GOOD)
    assert cli.run("import", str(tmp_path / "d.csv")).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = snomprov("devices", cwd=str(elsewhere), environ={"SNOMPROV_CONFIG": cli.configPath})
    assert result.returncode == 0, result.stderr
    assert "000413922D24" in result.stdout
    assert os.listdir(elsewhere) == []


def test_defaultsNeverUseCurrentDirectory(tmp_path):
    """
    With no configuration named, a command does not make a store (nor
    C{./var}) in the directory it runs in.
    """
    result = snomprov("devices", cwd=str(tmp_path), environ={"HOME": str(tmp_path / "home")})
    assert os.listdir(tmp_path) == []
    if result.returncode != 0:
        assert result.returncode == 2 and "no store at " in result.stderr and str(tmp_path) not in result.stderr


VENDOR_TABLES = """
[sip]
enabled = false
poll_interval = 0.01
[tftp]
enabled = false
[vendors.linksys]
profile_rule = "http"
resync_periodic = 600
[vendors.acme]
url = "{base_url}/acme/{mac}.cfg"
ouis = ["AC:AC:AC", "ACAC01"]
"""


@pytest.mark.parametrize("text", ["", VENDOR_TABLES], ids=["defaults", "vendors"])
def test_checkRoundTrip(tmp_path, text):
    """
    What C{check} prints is a configuration C{check} accepts again and that
    means the same: printed again, it is the same text (but for the file it
    came from).
    """
    first = tmp_path / "first.toml"
    first.write_text(text)
    printed = snomprov("--config", str(first), "check", cwd=str(tmp_path))
    assert printed.returncode == 0, printed.stderr
    assert "pollInterval" not in printed.stdout and 'url = ""' not in printed.stdout
    again = tmp_path / "printed" / "snomprov.toml"
    again.parent.mkdir()
    again.write_text(printed.stdout)
    second = snomprov("check", "--config", str(again), cwd=str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[1:] == printed.stdout.splitlines()[1:]
    assert second.stdout.splitlines()[0] == f"# effective configuration from {again}"
    if text:
        assert "[vendors.acme]" in second.stdout and "[vendors.linksys]" in second.stdout
        assert "# [vendors.snom]" in second.stdout
        assert "poll_interval = 0.01" in second.stdout


def test_settingsPlanAndDelete(cli, tmp_path):
    """
    C{settings plan} prints the count and the diffs and changes nothing;
    C{settings delete} removes the layer (a second time is exit 2); the
    JSON form uploads too.
    """
    (tmp_path / "d.csv").write_text(GOOD)
    cli.run("import", str(tmp_path / "d.csv"))
    (tmp_path / "s.xml").write_text('<phone-settings>\n<language>Deutsch</language>\n</phone-settings>\n')
    plan = cli.run("settings", "plan", "--scope", "site", str(tmp_path / "s.xml"))
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.startswith(f"replacing site with {tmp_path / 's.xml'}: files of 1 of 1 devices change\n")
    assert "+++ b/snom/000413922D24-settings.xml\n" in plan.stdout
    assert "\n+<language>Deutsch</language>\n" in plan.stdout
    assert "Deutsch" not in cli.run("render", "000413922D24").stdout
    upload = cli.run("settings", "upload", "--scope", "site", str(tmp_path / "s.xml"))
    assert upload.stdout.endswith("; files of 1 devices change\n"), upload.stderr
    deleting = cli.run("settings", "plan", "--scope", "site")
    assert deleting.stdout.startswith("deleting site: files of 1 of 1 devices change\n")
    assert "\n-<language>Deutsch</language>\n" in deleting.stdout
    assert cli.run("settings", "delete", "--scope", "site").stdout == "site: deleted; files of 1 devices change\n"
    again = cli.run("settings", "delete", "--scope", "site")
    assert again.returncode == 2 and "no layer site" in again.stderr
    (tmp_path / "s.json").write_text('{"settings": [{"name": "language", "value": "Dansk"}]}')
    assert cli.run("settings", "upload", "--scope", "model:snomD785", str(tmp_path / "s.json")).returncode == 0
    assert "<language>Dansk</language>" in cli.run("render", "000413922D24").stdout
    (tmp_path / "bad.json").write_text('{"settings": [{"name": "a b", "value": "x"}]}')
    bad = cli.run("settings", "upload", "--scope", "site", str(tmp_path / "bad.json"))
    assert bad.returncode == 2 and "/settings/0/name: is not an XML element name" in bad.stderr


def test_settingsMarkAndUnmark(cli, tmp_path):
    """
    C{settings mark --scope SCOPE NAME [--idx N]} marks one setting of a layer
    secret and C{unmark} clears it, each audited without the value; no
    such layer or setting, or a bad scope, is one line and exit 2.
    """
    (tmp_path / "s.xml").write_text('<phone-settings>\n<ntp_server>10.6.6.6</ntp_server>\n'
                                    '<fkey idx="3">line</fkey>\n</phone-settings>\n')
    assert cli.run("settings", "upload", "--scope", "site", str(tmp_path / "s.xml")).returncode == 0
    marked = cli.run("settings", "mark", "--scope", "site", "ntp_server")
    assert (marked.returncode, marked.stdout) == (0, "site: marked ntp_server secret\n"), marked.stderr
    indexed = cli.run("settings", "mark", "--scope", "site", "fkey", "--idx", "3")
    assert (indexed.returncode, indexed.stdout) == (0, "site: marked fkey[3] secret\n"), indexed.stderr
    unmarked = cli.run("settings", "unmark", "--scope", "site", "fkey", "--idx", "3")
    assert (unmarked.returncode, unmarked.stdout) == (0, "site: unmarked fkey[3] secret\n"), unmarked.stderr
    events = cli.run("events", "--limit", "10").stdout
    assert "marked ntp_server secret" in events and "unmarked fkey[3] secret" in events
    assert "10.6.6.6" not in events + marked.stdout
    for argv, message in ((("mark", "--scope", "site", "fkey"), "no setting fkey in the layer site\n"),
                          (("unmark", "--scope", "model:snomD785", "fkey"), "no layer model:snomD785\n"),
                          (("mark", "--scope", "planet:x", "fkey"), "--scope: bad scope")):
        refused = cli.run("settings", *argv)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr
        assert len(refused.stderr.splitlines()) == 1
    assert cli.run("settings", "mark", "--scope", "site", "fkey", "--idx", "x").returncode == 2
