"""
Tests for L{snomprov.dburl}: the one parser of store URLs, and of the
database URLs it shares with the PBX sinks.  Pure: property tests.
"""

from __future__ import annotations

import os
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snomprov.config import maskURL
from snomprov.dburl import parseDatabaseURL, parseStoreURL

_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)
_hosts = st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z][a-z0-9-]{0,10}){0,2}", fullmatch=True)


@given(user=_names, password=_names, host=_hosts, port=st.integers(1, 65535) | st.none(),
       database=_names.filter(lambda d: "/" not in d), scheme=st.sampled_from(["postgresql", "postgres"]))
def test_postgresqlStoreURLRoundTrip(user, password, host, port, database, scheme):
    """
    A C{postgresql://} (or C{postgres://}) store URL gives back its parts,
    percent-decoded, the port defaulting to 5432; its safe form has no
    password.
    """
    authority = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{port}" if port else "")
    url = f"{scheme}://{authority}/{quote(database, safe='')}"
    location = parseStoreURL(url, "/base")
    assert location.kind == "postgresql" and location.path is None
    parsed = location.database
    assert (parsed.scheme, parsed.user, parsed.password, parsed.host, parsed.port, parsed.database) == (
        "postgresql", user, password, host, port or 5432, database)
    # Made of the other parts only: no password.
    assert location.safe() == parsed.safe() == f"postgresql://{user}@{host}:{port or 5432}/{database}"
    assert repr(parsed) == f"DatabaseURL({parsed.safe()!r})"


@given(path=st.from_regex(r"[a-z0-9_./-]{1,30}", fullmatch=True).filter(lambda p: not p.startswith("//")))
def test_sqlitePathResolved(path):
    """
    C{sqlite:PATH} is an absolute, normalised path: relative ones against
    the base directory, absolute ones as they are.
    """
    location = parseStoreURL(f"sqlite:{path}", "/base/dir")
    assert location.kind == "sqlite" and location.database is None
    assert location.path.startswith("/")
    if not path.startswith("/"):
        assert location.path == os.path.normpath("/base/dir/" + path)


@given(password=st.from_regex(r"[A-Za-z0-9]{6,20}", fullmatch=True),
       rest=st.sampled_from(["", "/", "/a/b", "/db?sslmode=require", ":notaport/db", "/db#x"]))
def test_badURLsNeverShowThePassword(password, rest):
    """
    A URL refused says why without its password.
    """
    url = f"postgresql://u:{password}@host{rest}"
    try:
        parseStoreURL(url, "/")
    except ValueError as e:
        assert password not in str(e)


@pytest.mark.parametrize("url, message", [
    ("memory:", None), ("sqlite::memory:", None),
    ("memory:x", "takes nothing"), ("sqlite:", "expected sqlite:PATH"), ("sqlite://h/x", "expected sqlite:PATH"),
    ("mysql://u@h/db", "unknown scheme 'mysql'"), ("x", "is not a store URL"), (":x", "is not a store URL"),
    ("postgresql://h", "names no database"), ("postgresql:///db", "names no host"),
])
def test_storeURLForms(url, message):
    if message is None:
        assert parseStoreURL(url, "/").kind in ("memory", "sqlite")
    else:
        with pytest.raises(ValueError, match=message):
            parseStoreURL(url, "/")


def test_databaseURLSchemes():
    """
    The PBX sinks' URLs may be MySQL too; a store's only PostgreSQL.
    """
    assert parseDatabaseURL("mysql://k:pw@h/db").port == 3306
    with pytest.raises(ValueError, match="it must be postgresql://$"):
        parseDatabaseURL("mysql://k@h/db", ("postgresql",))


def test_configNamesTheKeyAndMasks(tmp_path):
    """
    The configuration checks C{[store] url} with the same parser: the error
    names the key and shows the URL masked.
    """
    from snomprov.config import ConfigError, loadConfig

    path = tmp_path / "c.toml"
    path.write_text('[store]\nurl = "postgresql://u:hunter2@db/"\n')
    with pytest.raises(ConfigError) as e:
        loadConfig(str(path))
    assert "store.url" in str(e.value) and "names no database" in str(e.value)
    assert "hunter2" not in str(e.value) and maskURL("postgresql://u:hunter2@db/") in str(e.value)
