"""
Tests for L{snomprov.pbx.kamailio}: the URL, the SQL plan, and the sink
against a real PostgreSQL and a real MariaDB holding Kamailio 5.6's
C{subscriber} table (C{tests/fixtures/pbx/kamailio-subscriber.sql},
C{kamailio-subscriber-mysql.sql}).
"""

from __future__ import annotations

import itertools
import os

import pytest
import pytest_twisted
from zope.interface.verify import verifyObject

from snomprov.interfaces import IAccountSink
from snomprov.pbx.account import AccountChange, SIPAccount, ha1, ha1b
from snomprov.pbx.kamailio import (
    KamailioAccount, KamailioError, KamailioSink, parseDatabaseURL, statements,
)

DOMAIN = "pbx.example.org"
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "pbx")
SCHEMAS = {"postgresql": "kamailio-subscriber.sql", "mysql": "kamailio-subscriber-mysql.sql"}
_names = itertools.count()


def kamailioSchema(dialect: str = "postgresql") -> str:
    with open(os.path.join(FIXTURES, SCHEMAS[dialect]), encoding="utf-8") as f:
        return f.read()


def account(username: str, password: str, mac: str = "000413922D24", index: int = 1) -> SIPAccount:
    return SIPAccount(mac=mac, index=index, username=username, domain=DOMAIN, password=password, user=username)


def change(username: str | None, password: str = "", version: int = 1, previous: str | None = None,
           index: int = 1) -> AccountChange:
    return AccountChange(mac="000413922D24", index=index, version=version,
                         account=account(username, password, index=index) if username else None,
                         previous=previous)


def execute(server, database: str, statement: str) -> list[tuple]:
    """
    Run one statement (autocommit) in C{database} as the server's
    administrator; its rows.
    """
    connection = server.connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    finally:
        connection.close()


def rows(server, database: str) -> list[tuple]:
    return execute(server, database,
                   "SELECT username, domain, password, ha1, ha1b FROM subscriber ORDER BY username, domain")


@pytest.fixture(params=["postgresql", "mysql"])
def database(request):
    """
    A fresh database with Kamailio's schema, on PostgreSQL and on MariaDB:
    (server, name, url).
    """
    server = request.getfixturevalue("postgres" if request.param == "postgresql" else "mysql")
    name = f"kamailio{next(_names)}"
    url = server.createDatabase(name, kamailioSchema(request.param))
    return server, name, url


@pytest.fixture
def sink(database):
    _, _, url = database
    made = KamailioSink("kam", url, DOMAIN, "ha1")
    yield made
    pytest_twisted.blockon(made.close())


# The URL and the plan: pure.

def test_parseDatabaseURL():
    url = parseDatabaseURL("postgresql://kamailio:s%40cret@db.example.org:5433/kam")
    assert (url.scheme, url.user, url.password, url.host, url.port, url.database) == (
        "postgresql", "kamailio", "s@cret", "db.example.org", 5433, "kam")
    assert url.safe() == "postgresql://kamailio@db.example.org:5433/kam"
    assert "s@cret" not in repr(url)
    assert parseDatabaseURL("postgres://k@h/db").port == 5432
    assert parseDatabaseURL("mysql://k:pw@h/db").port == 3306


@pytest.mark.parametrize("url, words", [
    ("http://h/db", "scheme"),
    ("postgresql:///db", "no host"),
    ("postgresql://u:pw@h/", "no database"),
    ("postgresql://u:pw@h:99999/db", "not a database URL"),
    ("postgresql://u:pw@h/db?sslmode=disable", "query"),
])
def test_badURLsAreRefusedWithoutThePassword(url, words):
    with pytest.raises(KamailioError) as caught:
        KamailioSink("kam", url, DOMAIN)
    assert words in str(caught.value)
    assert str(caught.value).startswith("pbx kam: url ")
    assert "pw@" not in str(caught.value) and ":pw" not in str(caught.value)


def test_mysqlURL():
    made = KamailioSink("kam", "mysql://kamailio:topsecret@127.0.0.1/kamailio", DOMAIN)
    assert made.url.safe() == "mysql://kamailio@127.0.0.1:3306/kamailio"
    assert "topsecret" not in repr(made)


def test_badPasswordsModeAndDomain():
    with pytest.raises(KamailioError, match="passwords must be"):
        KamailioSink("kam", "postgresql://k@127.0.0.1/k", DOMAIN, "md5")
    with pytest.raises(KamailioError, match="domain is empty"):
        KamailioSink("kam", "postgresql://k@127.0.0.1/k", "", "ha1")


def test_providesIAccountSinkAndHidesPasswords():
    made = KamailioSink("kam", "postgresql://kamailio:topsecret@127.0.0.1/kamailio", DOMAIN, "plain")
    assert verifyObject(IAccountSink, made)
    assert (made.name, made.kind, made.domain, made.passwords) == ("kam", "kamailio", DOMAIN, "plain")
    assert "topsecret" not in repr(made)
    held = KamailioAccount(mac="", index=0, username="201", domain=DOMAIN, password="pw1",
                           ha1="a" * 32, ha1b="b" * 32)
    assert "pw1" not in repr(held) and "a" * 32 not in repr(held)


def test_errorsNeverCarryPasswords():
    """
    A database's error message is cut to its first line, and the URL's
    password and the accounts' passwords in it are masked.
    """
    made = KamailioSink("kam", "postgresql://kamailio:dbsecret@127.0.0.1/kamailio", DOMAIN)
    error = made._error(Exception("bad value 'hunter2' for dbsecret\nDETAIL: hunter2 again"), "applying",
                        ["hunter2", ""])
    assert str(error) == "pbx kam: postgresql://kamailio@127.0.0.1:5432/kamailio: applying: bad value '***' for ***"


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
@pytest_twisted.inlineCallbacks
def test_aPasswordTooLongForTheColumnIsNotInTheError(request, dialect):
    """
    In plain mode a password longer than C{subscriber.password} (64) fails
    the apply; the message does not carry it.
    """
    server = request.getfixturevalue("postgres" if dialect == "postgresql" else "mysql")
    name = f"kamailio{next(_names)}"
    url = server.createDatabase(name, kamailioSchema(dialect))
    plain = KamailioSink("kam", url, DOMAIN, "plain")
    try:
        with pytest.raises(KamailioError) as caught:
            yield plain.apply([change("201", "long-secret-" * 10)])
        assert "long-secret-" not in str(caught.value)
        assert rows(server, name) == []
    finally:
        yield plain.close()


def test_statementsPlan():
    """
    A rename deletes the previous row then upserts; a removal deletes the
    previous row; a removal of a line never applied does nothing.
    """
    plan = statements([change("201", "pw", previous="200"), change(None, previous="202", index=2),
                       change(None, index=3), change("204", "pw", previous="204", index=4)], DOMAIN, "ha1")
    kinds = [(sql.split()[0], parameters[0]) for sql, parameters in plan]
    assert kinds == [("DELETE", "200"), ("INSERT", "201"), ("DELETE", "202"), ("INSERT", "204")]
    assert plan[1][1] == ("201", DOMAIN, "", ha1("201", DOMAIN, "pw"), ha1b("201", DOMAIN, "pw"))
    plain = statements([change("201", "pw")], DOMAIN, "plain")
    assert plain[0][1][2] == "pw"
    assert "ON CONFLICT" in plain[0][0]
    assert "ON DUPLICATE KEY UPDATE" in statements([change("201", "pw")], DOMAIN, "plain", "mysql")[0][0]


# Against the real PostgreSQL.

@pytest_twisted.inlineCallbacks
def test_createUpdateRenameDelete(database, sink):
    server, name, _ = database
    yield sink.apply([change("201", "pw1", version=1), change("202", "pw2", version=1, index=2)])
    assert rows(server, name) == [
        ("201", DOMAIN, "", ha1("201", DOMAIN, "pw1"), ha1b("201", DOMAIN, "pw1")),
        ("202", DOMAIN, "", ha1("202", DOMAIN, "pw2"), ha1b("202", DOMAIN, "pw2")),
    ]
    yield sink.apply([change("201", "new", version=2, previous="201")])
    assert rows(server, name)[0] == ("201", DOMAIN, "", ha1("201", DOMAIN, "new"), ha1b("201", DOMAIN, "new"))
    yield sink.apply([change("301", "new", version=3, previous="201")])
    assert [row[0] for row in rows(server, name)] == ["202", "301"]
    yield sink.apply([change(None, version=4, previous="301")])
    assert [row[0] for row in rows(server, name)] == ["202"]


@pytest_twisted.inlineCallbacks
def test_reapplyingIsIdempotent(database, sink):
    server, name, _ = database
    changes = [change("201", "pw1", version=1), change("201", "pw2", version=2, previous="201"),
               change("202", "x", version=1, index=2), change(None, version=2, previous="202", index=2)]
    yield sink.apply(changes)
    first = rows(server, name)
    yield sink.apply(changes)
    yield sink.apply(changes)
    assert rows(server, name) == first
    assert [row[0] for row in first] == ["201"]
    assert first[0][3] == ha1("201", DOMAIN, "pw2")


@pytest_twisted.inlineCallbacks
def test_otherDomainsAreLeftAlone(database, sink):
    server, name, _ = database
    execute(server, name, "INSERT INTO subscriber (username, domain, password) VALUES ('201', 'other.org', 'x')")
    yield sink.apply([change("201", "pw1")])
    yield sink.apply([change(None, version=2, previous="201")])
    assert rows(server, name) == [("201", "other.org", "x", "", "")]
    held = yield sink.accounts()
    assert held == {}


@pytest_twisted.inlineCallbacks
def test_plainKeepsThePasswordAndHashes(database):
    server, name, url = database
    plain = KamailioSink("kam", url, DOMAIN, "plain")
    try:
        yield plain.apply([change("201", "pw1")])
        assert rows(server, name) == [("201", DOMAIN, "pw1", ha1("201", DOMAIN, "pw1"),
                                       ha1b("201", DOMAIN, "pw1"))]
        held = yield plain.accounts()
        assert list(held) == [("201", DOMAIN)]
        assert held["201", DOMAIN].password == "pw1"
        assert not plain.differs(account("201", "pw1"), held["201", DOMAIN])
        assert plain.differs(account("201", "pw2"), held["201", DOMAIN])
    finally:
        yield plain.close()


@pytest_twisted.inlineCallbacks
def test_accountsAndDiffersWithHashes(database, sink):
    """
    In ha1 mode the password column is empty and the hashes tell a
    different password, and a hand edit of a hash or the password column.
    """
    server, name, _ = database
    yield sink.apply([change("201", "pw1"), change("202", "pw2", index=2), change("203", "pw3", index=3)])
    execute(server, name, "UPDATE subscriber SET ha1 = 'edited' WHERE username = '202'")
    execute(server, name, "UPDATE subscriber SET password = 'typed' WHERE username = '203'")
    held = yield sink.accounts()
    assert sorted(held) == [("201", DOMAIN), ("202", DOMAIN), ("203", DOMAIN)]
    first = held["201", DOMAIN]
    assert (first.mac, first.index, first.password) == ("", 0, "")
    assert not sink.differs(account("201", "pw1"), first)
    assert sink.differs(account("201", "other"), first)
    assert sink.differs(account("202", "pw2"), held["202", DOMAIN])
    assert sink.differs(account("203", "pw3"), held["203", DOMAIN])


@pytest_twisted.inlineCallbacks
def test_aFailingChangeAppliesNothing(database, sink):
    """
    One transaction: a change the database refuses (a user name too long
    for the column) leaves the others of the batch unapplied.
    """
    server, name, _ = database
    with pytest.raises(KamailioError) as caught:
        yield sink.apply([change("201", "pw1"), change("x" * 100, "pw2", index=2)])
    assert str(caught.value).startswith("pbx kam: postgresql://") or \
        str(caught.value).startswith("pbx kam: mysql://kamailio@")
    assert "kamailio-secret" not in str(caught.value)
    assert rows(server, name) == []
    yield sink.apply([change("201", "pw1")])
    assert [row[0] for row in rows(server, name)] == ["201"]


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
@pytest_twisted.inlineCallbacks
def test_aDownDatabaseFailsApplyThenWorksAfterItsRestart(request, dialect):
    """
    With the database stopped, C{apply} and C{accounts} fail (the message
    without the URL's password); once it runs again, the same sink applies,
    on a new connection.
    """
    server = request.getfixturevalue("postgresServer" if dialect == "postgresql" else "mysqlServer")
    url = server.createDatabase("kamailio", kamailioSchema(dialect))
    password = "kamailio-secret"
    if dialect == "postgresql":
        execute(server, "postgres", f"ALTER USER {server.user} PASSWORD '{password}'")
        url = url.replace(f"//{server.user}@", f"//{server.user}:{password}@")
    assert f":{password}@" in url
    sink = KamailioSink("kam", url, DOMAIN, "ha1")
    try:
        yield sink.apply([change("201", "pw1")])
        server.stop()
        with pytest.raises(KamailioError) as caught:
            yield sink.apply([change("201", "pw2", version=2, previous="201")])
        assert password not in str(caught.value)
        assert str(caught.value).startswith("pbx kam: ")
        with pytest.raises(KamailioError):
            yield sink.accounts()
        server.start()
        yield sink.apply([change("201", "pw2", version=2, previous="201")])
        assert rows(server, "kamailio")[0][3] == ha1("201", DOMAIN, "pw2")
    finally:
        yield sink.close()


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
@pytest_twisted.inlineCallbacks
def test_aRestartBetweenAppliesIsNotAFailure(request, dialect):
    """
    A database restarted between two applies (the kept connection is dead)
    costs the sink a reconnection, not a failed apply.
    """
    server = request.getfixturevalue("postgresServer" if dialect == "postgresql" else "mysqlServer")
    url = server.createDatabase("kamailio", kamailioSchema(dialect))
    sink = KamailioSink("kam", url, DOMAIN, "ha1")
    try:
        yield sink.apply([change("201", "pw1")])
        server.stop()
        server.start()
        yield sink.apply([change("201", "pw2", version=2, previous="201")])
        assert rows(server, "kamailio")[0][3] == ha1("201", DOMAIN, "pw2")
    finally:
        yield sink.close()


@pytest_twisted.inlineCallbacks
def test_theSinksStatementsAreTimeBounded(postgres):
    """
    The sink's PostgreSQL session bounds statements (60 s) and lock waits
    (30 s), well below the sync's apply timeout: a table locked by an
    operator's open transaction fails an apply instead of holding the
    sink's one thread.
    """
    name = f"kamailio{next(_names)}"
    url = postgres.createDatabase(name, kamailioSchema())
    sink = KamailioSink("kam", url, DOMAIN, "ha1")

    def settings(cursor):
        cursor.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
        return cursor.fetchone()

    try:
        assert (yield sink._run(sink._inTransaction, settings, "reading")) == ("1min", "30s")
    finally:
        yield sink.close()
