"""
Tests for the test database servers (C{tests/pgserver.py},
C{tests/mysqlserver.py}): loopback only, their sockets in their own
directory, databases made on demand, and a stop and start that keeps the
data.
"""

from __future__ import annotations


def test_postgresIsLoopbackOnlyAndRestarts(postgresServer):
    server = postgresServer
    connection = server.connect()
    try:
        assert connection.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        assert connection.execute("SHOW unix_socket_directories").fetchone()[0] == server.socketDir
        assert connection.execute("SHOW port").fetchone()[0] == str(server.port)
    finally:
        connection.close()
    dsn = server.createDatabase("kept", "CREATE TABLE t (a int); INSERT INTO t VALUES (7)")
    assert dsn == f"postgresql://{server.user}@127.0.0.1:{server.port}/kept"
    server.stop()
    server.start()
    connection = server.connect("kept")
    try:
        assert connection.execute("SELECT a FROM t").fetchall() == [(7,)]
    finally:
        connection.close()


def test_mysqlIsLoopbackOnlyAndRestarts(mysqlServer):
    import pymysql

    server = mysqlServer
    url = server.createDatabase("kept", "CREATE TABLE t (a int); INSERT INTO t VALUES (7)")
    assert url == f"mysql://kamailio:kamailio-secret@127.0.0.1:{server.port}/kept"
    connection = pymysql.connect(host="127.0.0.1", port=server.port, user="kamailio", password="kamailio-secret",
                                 database="kept")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT @@bind_address, @@socket")
            assert cursor.fetchone() == ("127.0.0.1", server.socketPath)
    finally:
        connection.close()
    server.stop()
    server.start()
    connection = server.connect("kept")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT a FROM t")
            assert cursor.fetchall() == ((7,),)
    finally:
        connection.close()
