"""
End to end with a real Kamailio: what L{snomprov.pbx.kamailio.KamailioSink}
writes to C{subscriber} (on the test PostgreSQL) is what Kamailio's
C{auth_db} authenticates a phone's REGISTER with, on PostgreSQL and on
MariaDB, proven by SIPp
(C{tests/sipp/register_auth.xml}, C{register_refused.xml}).
"""

from __future__ import annotations

import pytest
import pytest_twisted

from kamailio import Kamailio, registers
from snomprov.pbx.account import AccountChange, SIPAccount
from snomprov.pbx.kamailio import KamailioSink
from test_pbx_kamailio import kamailioSchema

pytestmark = pytest.mark.interop

DOMAIN = "pbx.example.org"


def change(username: str | None, password: str = "", version: int = 1,
           previous: str | None = None) -> AccountChange:
    account = SIPAccount(mac="000413922D24", index=1, username=username, domain=DOMAIN, password=password,
                         user=username) if username else None
    return AccountChange(mac="000413922D24", index=1, version=version, account=account, previous=previous)


@pytest.mark.parametrize("dialect, passwords", [("postgresql", "ha1"), ("postgresql", "plain"),
                                               ("mysql", "ha1"), ("mysql", "plain")])
@pytest_twisted.inlineCallbacks
def test_whatTheSinkWritesIsWhatKamailioAuthenticates(request, tmp_path, dialect, passwords):
    """
    A new account registers (200 after the challenge); after a password
    change the old password is refused and the new one registers; after a
    rename the old user is refused; once deleted, refused.
    """
    server = request.getfixturevalue("postgres" if dialect == "postgresql" else "mysql")
    url = server.createDatabase(f"kamregister{passwords}", kamailioSchema(dialect))
    sink = KamailioSink("kam", url, DOMAIN, passwords)
    kamailio = Kamailio(tmp_path, url, DOMAIN, passwords).start()
    try:
        assert not registers(tmp_path, kamailio, "201", "first-secret")
        yield sink.apply([change("201", "first-secret", version=1)])
        assert registers(tmp_path, kamailio, "201", "first-secret")
        assert not registers(tmp_path, kamailio, "201", "wrong")

        yield sink.apply([change("201", "second-secret", version=2, previous="201")])
        assert not registers(tmp_path, kamailio, "201", "first-secret")
        assert registers(tmp_path, kamailio, "201", "second-secret")

        yield sink.apply([change("301", "second-secret", version=3, previous="201")])
        assert not registers(tmp_path, kamailio, "201", "second-secret")
        assert registers(tmp_path, kamailio, "301", "second-secret")

        yield sink.apply([change(None, version=4, previous="301")])
        assert not registers(tmp_path, kamailio, "301", "second-secret")
    finally:
        kamailio.stop()
        yield sink.close()
