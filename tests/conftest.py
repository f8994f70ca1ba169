import os
import sys

# Test helpers (daemon.py, netns.py, ...) import as top-level modules.
sys.path.insert(0, os.path.dirname(__file__))


import pytest  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """
    Under C{CI=true} a test whose real peer or privilege is missing fails:
    every skip becomes a failure there, with its reason.  Elsewhere a skip
    stays a skip, naming its reason.
    """
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where a missing peer is a failure: {reason}"


def _testServer(module: str, className: str):
    """
    Start a test server of C{module} (L{pgserver}, L{mysqlserver},
    L{slapdserver}), or
    skip the calling test with the reason none can run here.
    """
    import importlib

    servers = importlib.import_module(module)
    reason = servers.missingReason()
    if reason is not None:
        pytest.skip(reason)
    return getattr(servers, className)().start()


@pytest.fixture(scope="session")
def postgres():
    """
    The session's test PostgreSQL (L{pgserver.PostgresServer}): C{host},
    C{port}, C{user}, C{dsn(database)}, C{createDatabase(name, schema)}.
    Do not stop it: a test that needs a database going down takes its own
    with the C{postgresServer} fixture.
    """
    server = _testServer("pgserver", "PostgresServer")
    yield server
    server.destroy()


@pytest.fixture
def postgresServer():
    """
    A test PostgreSQL of this test's own, which it may stop and start.
    """
    server = _testServer("pgserver", "PostgresServer")
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def mysql():
    """
    The session's test MariaDB (L{mysqlserver.MySQLServer}): C{host},
    C{port}, C{createDatabase(name, schema)} (answers a C{mysql://} URL
    with a user and password).  Do not stop it: see C{mysqlServer}.
    """
    server = _testServer("mysqlserver", "MySQLServer")
    yield server
    server.destroy()


@pytest.fixture
def mysqlServer():
    """
    A test MariaDB of this test's own, which it may stop and start.
    """
    server = _testServer("mysqlserver", "MySQLServer")
    yield server
    server.destroy()


@pytest.fixture
def slapd():
    """
    A test slapd of this test's own (L{slapdserver.SlapdServer}) with a
    tiny directory: C{url}, C{pause()}, C{resume()}, C{stop()}.
    """
    server = _testServer("slapdserver", "SlapdServer")
    yield server
    server.destroy()
