import os
import sys

# Test helpers (daemon.py, netns.py, ...) import as top-level modules.
sys.path.insert(0, os.path.dirname(__file__))


import pytest  # noqa: E402


def needPostgres() -> None:
    """
    Skip the calling test when no test PostgreSQL can run here, with the
    reason; under C{CI=true} that is a failure.
    """
    import pgserver

    reason = pgserver.missingReason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres():
    """
    The session's test PostgreSQL (L{pgserver.PostgresServer}): C{host},
    C{port}, C{user}, C{dsn(database)}, C{createDatabase(name, schema)}.
    Do not stop it: a test that needs a database going down takes its own
    with the C{postgresServer} fixture.
    """
    import pgserver

    needPostgres()
    server = pgserver.PostgresServer().start()
    yield server
    server.destroy()


@pytest.fixture
def postgresServer():
    """
    A test PostgreSQL of this test's own, which it may stop and start.
    """
    import pgserver

    needPostgres()
    server = pgserver.PostgresServer().start()
    yield server
    server.destroy()


def needMySQL() -> None:
    """
    Skip the calling test when no test MariaDB can run here, with the
    reason; under C{CI=true} that is a failure.
    """
    import mysqlserver

    reason = mysqlserver.missingReason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def mysql():
    """
    The session's test MariaDB (L{mysqlserver.MySQLServer}): C{host},
    C{port}, C{createDatabase(name, schema)} (answers a C{mysql://} URL
    with a user and password).  Do not stop it: see C{mysqlServer}.
    """
    import mysqlserver

    needMySQL()
    server = mysqlserver.MySQLServer().start()
    yield server
    server.destroy()


@pytest.fixture
def mysqlServer():
    """
    A test MariaDB of this test's own, which it may stop and start.
    """
    import mysqlserver

    needMySQL()
    server = mysqlserver.MySQLServer().start()
    yield server
    server.destroy()
