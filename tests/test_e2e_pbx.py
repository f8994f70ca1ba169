"""
End to end (issue 14): the real daemon with a C{[[pbx]]} kamailio table on
a test PostgreSQL of its own, a real Kamailio authenticating REGISTERs
against that database, and SIPp as the phone.  A line registered, changed
or deleted in snomprov is what Kamailio lets register; with the database
down, registering phones still succeeds and every line reaches Kamailio's
database once it is back, without operator action, across a restart of
snomprov too.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request

import pytest

from daemon import Daemon
from kamailio import Kamailio, registers
from snomprov.pbx.account import ha1
from test_pbx_kamailio import kamailioSchema

pytestmark = pytest.mark.interop

DOMAIN = "pbx.example.org"
ADMIN = ("alice", "alice-secret")
# The sync retries a sink with a back-off doubling to 60 s: a database back
# after a few seconds is seen within a few more; this leaves room for a slow
# machine.
DEADLINE = 120.0
DB_PASSWORD = "kamailio-db-secret"


def mac(n: int) -> str:
    return f"000413E1{n:04X}"


def api(daemon: Daemon, method: str, path: str, body: dict | None = None,
        headers: dict | None = None) -> tuple[int, dict | None]:
    token = base64.b64encode(":".join(ADMIN).encode()).decode()
    request = urllib.request.Request(
        daemon.baseURL + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            data = answer.read()
            return answer.status, json.loads(data) if data else None
    except urllib.error.HTTPError as e:
        data = e.read()
        return e.code, json.loads(data) if data else None


def subscribers(server) -> dict[str, str]:
    """
    C{subscriber}'s rows of the domain: {username: ha1}; {} while the
    database is down.
    """
    import psycopg

    try:
        with server.connect("kamailio") as connection:
            return dict(connection.execute("SELECT username, ha1 FROM subscriber WHERE domain = %s",
                                           (DOMAIN,)).fetchall())
    except psycopg.OperationalError:
        return {}


def waitFor(check, what: str, daemon: Daemon, seconds: float = DEADLINE) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}\n--- snomprov ---\n{daemon.log()[-4000:]}")
        time.sleep(0.2)


def pbxState(daemon: Daemon, phone: str) -> list[dict]:
    """
    C{GET /api/devices/{mac}/pbx}'s lines (one per line and sink).
    """
    code, body = api(daemon, "GET", f"/api/devices/{phone}/pbx")
    assert code == 200, body
    assert body["sinks"] == ["kam"]
    return body["lines"]


def applied(server, lines: dict[str, str]) -> bool:
    """
    Whether Kamailio's database holds exactly these {user: password} (of
    the lines' users) as snomprov's sink writes them.
    """
    held = subscribers(server)
    return all(held.get(user) == ha1(user, DOMAIN, password) for user, password in lines.items())


@pytest.fixture
def pbx(postgresServer, tmp_path):
    """
    The Kamailio database (its own server, which the tests stop), Kamailio
    on it, and the daemon with a [[pbx]] table for it: (server, kamailio,
    daemon).
    """
    server = postgresServer
    server.createDatabase("kamailio", kamailioSchema())
    # The test server trusts its user; the URL's password is there to be
    # kept out of logs and answers.
    url = server.dsn("kamailio").replace(f"//{server.user}@", f"//{server.user}:{DB_PASSWORD}@")
    kamailio = Kamailio(tmp_path, url, DOMAIN, "ha1").start()
    daemon = Daemon(tmp_path, sip=False, tftp=False, extraConfig=(
        "[[pbx]]\n"
        'kind = "kamailio"\nname = "kam"\n'
        f'url = "{url}"\n'
        f'domain = "{DOMAIN}"\npasswords = "ha1"\n'))
    assert daemon.run("user", "add", ADMIN[0], input=ADMIN[1] + "\n").returncode == 0
    daemon.start()
    try:
        yield server, kamailio, daemon
    finally:
        daemon.stop()
        kamailio.stop()


def test_aLineRegisteredChangedAndDeletedInSnomprovIsWhatKamailioAccepts(pbx, tmp_path):
    server, kamailio, daemon = pbx
    phone = mac(1)
    code, body = api(daemon, "POST", "/api/devices", {
        "mac": phone, "vendor": "snom", "model": "snomD785",
        "lines": [{"index": 1, "user": "201", "password": "first-secret", "displayName": "Reception"}]})
    assert code == 201, body
    waitFor(lambda: applied(server, {"201": "first-secret"}), "line 201 in subscriber", daemon)
    assert registers(tmp_path, kamailio, "201", "first-secret")

    code, body = api(daemon, "PATCH", f"/api/devices/{phone}", {
        "lines": [{"index": 1, "user": "201", "password": "second-secret", "displayName": "Reception"}]})
    assert code == 200, body
    waitFor(lambda: applied(server, {"201": "second-secret"}), "line 201's new password", daemon)
    assert not registers(tmp_path, kamailio, "201", "first-secret")
    assert registers(tmp_path, kamailio, "201", "second-secret")

    code, body = api(daemon, "DELETE", f"/api/devices/{phone}")
    assert code == 204, body
    waitFor(lambda: "201" not in subscribers(server), "line 201 removed", daemon)
    assert not registers(tmp_path, kamailio, "201", "second-secret")
    for secret in ("first-secret", "second-secret", DB_PASSWORD):
        assert secret not in daemon.log()


def _importPhones(daemon: Daemon, first: int, count: int) -> dict[str, str]:
    lines = {f"{500 + n}": f"pw-{500 + n}-secret" for n in range(first, first + count)}
    daemon.importCSV("mac,vendor,model,line,user,password,display_name,registrar\n" + "".join(
        f"{mac(100 + n)},snom,snomD785,1,{500 + n},pw-{500 + n}-secret,Phone {n},{DOMAIN}\n"
        for n in range(first, first + count)))
    return lines


def test_aDatabaseDownNeverBlocksRegistrationAndCatchesUp(pbx, tmp_path):
    """
    With Kamailio's database stopped, 10 phones register in snomprov; when
    it is back all 10 reach it.  Then the same with snomprov restarted while
    the database is still down: the backlog is in snomprov's store.
    """
    server, kamailio, daemon = pbx
    server.stop()
    lines = _importPhones(daemon, 0, 10)
    code, body = api(daemon, "GET", f"/api/devices/{mac(100)}")
    assert code == 200 and body["lines"][0]["user"] == "500"
    waitFor(lambda: pbxState(daemon, mac(100))[0]["lastError"], "the sink's failure shown by the API", daemon)
    state = pbxState(daemon, mac(100))[0]
    assert (state["inSync"], state["applied"]) == (False, 0)
    assert "pbx kam: postgresql://" in state["lastError"] and DB_PASSWORD not in state["lastError"]
    server.start()
    waitFor(lambda: applied(server, lines), "the 10 phones registered while the database was down", daemon)
    waitFor(lambda: all(s["inSync"] for n in range(10) for s in pbxState(daemon, mac(100 + n))),
            "the API showing the 10 phones in sync", daemon)
    assert registers(tmp_path, kamailio, "509", "pw-509-secret")

    server.stop()
    more = _importPhones(daemon, 10, 10)
    daemon.stop()
    daemon.start()
    server.start()
    waitFor(lambda: applied(server, {**lines, **more}),
            "the 10 phones registered before snomprov restarted, with the database down", daemon)
    assert len(subscribers(server)) == 20
    assert registers(tmp_path, kamailio, "519", "pw-519-secret")
    assert "pw-519-secret" not in daemon.log()
    assert DB_PASSWORD not in daemon.log()


def test_pbxSyncDryRunReportsExactlyTheHandEdits(pbx, tmp_path):
    """
    C{snomprov pbx sync --dry-run} on a subscriber table edited by hand (a
    password hash changed, a row deleted, a row added) reports exactly
    those three and changes nothing; C{pbx sync} puts the lines back, and
    Kamailio lets them register again.
    """
    server, kamailio, daemon = pbx
    lines = _importPhones(daemon, 0, 3)
    waitFor(lambda: applied(server, lines), "the 3 phones in subscriber", daemon)
    in_sync = daemon.run("pbx", "sync", "--dry-run")
    assert (in_sync.returncode, in_sync.stdout) == (0, "every sink is in sync\n"), in_sync.stderr

    connection = server.connect("kamailio")
    try:
        connection.execute("UPDATE subscriber SET ha1 = md5('by hand') WHERE username = '500'")
        connection.execute("DELETE FROM subscriber WHERE username = '501'")
        connection.execute("INSERT INTO subscriber (username, domain, ha1) VALUES ('999', %s, md5('x'))", (DOMAIN,))
    finally:
        connection.close()
    before = subscribers(server)
    dry = daemon.run("pbx", "sync", "--dry-run")
    assert dry.returncode == 1, dry.stdout + dry.stderr
    assert sorted(dry.stdout.splitlines()) == [
        f"kam: 500@{DOMAIN}: different", f"kam: 501@{DOMAIN}: missing", f"kam: 999@{DOMAIN}: extra"]
    assert subscribers(server) == before
    assert not registers(tmp_path, kamailio, "501", lines["501"])

    done = daemon.run("pbx", "sync")
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(subscribers(server)) == {"500", "501", "502"}
    assert applied(server, lines)
    assert registers(tmp_path, kamailio, "500", lines["500"])
    assert registers(tmp_path, kamailio, "501", lines["501"])
    again = daemon.run("pbx", "sync", "--dry-run")
    assert (again.returncode, again.stdout) == (0, "every sink is in sync\n")
    for password in [*lines.values(), DB_PASSWORD]:
        assert password not in dry.stdout + dry.stderr + done.stdout + done.stderr + daemon.log()
