"""
Tests for the C{[[pbx]]} tables of L{snomprov.config} (DESIGN §4.2, §8).
"""

import pytest

from snomprov.config import ConfigError, PBXConfig, formatConfig, maskURL, parseConfig

KAMAILIO = '''
[[pbx]]
kind = "kamailio"
url = "postgresql://kamailio@127.0.0.1/kamailio"
domain = "pbx.example.org"
'''

ASTERISK = '''
[[pbx]]
kind = "asterisk-pjsip"
path = "pjsip_snomprov.conf"
reload = ["asterisk", "-rx", "pjsip reload"]
'''


def test_none(tmp_path):
    assert parseConfig("", baseDir=str(tmp_path)).pbx == ()


def test_bothKinds(tmp_path):
    config = parseConfig(KAMAILIO + ASTERISK, baseDir=str(tmp_path))
    assert config.pbx == (
        PBXConfig(kind="kamailio", name="kamailio", url="postgresql://kamailio@127.0.0.1/kamailio",
                  domain="pbx.example.org", passwords="ha1"),
        PBXConfig(kind="asterisk-pjsip", name="asterisk-pjsip", path=str(tmp_path / "pjsip_snomprov.conf"),
                  reload=("asterisk", "-rx", "pjsip reload")),
    )


def test_defaultNamesUnique(tmp_path):
    text = KAMAILIO + KAMAILIO + KAMAILIO.replace('kind = "kamailio"', 'kind = "kamailio"\nname = "b"')
    names = [table.name for table in parseConfig(text, baseDir=str(tmp_path)).pbx]
    assert names == ["kamailio", "kamailio-2", "b"]


def test_duplicateName(tmp_path):
    text = (KAMAILIO + ASTERISK).replace('kind = "asterisk-pjsip"', 'kind = "asterisk-pjsip"\nname = "kamailio"')
    with pytest.raises(ConfigError) as e:
        parseConfig(text, "f.toml", baseDir=str(tmp_path))
    assert e.value.problems == ["f.toml: [[pbx]] 2: name: 'kamailio' is the name of another [[pbx]] table"]


@pytest.mark.parametrize("text, fragment", [
    (KAMAILIO + KAMAILIO.replace("url =", "urll ="), "f.toml: [[pbx]] 2: unknown key 'urll'"),
    (KAMAILIO.replace('"kamailio"\n', '"opensips"\n'), "[[pbx]] 1: kind: expected one of kamailio, asterisk-pjsip"),
    (KAMAILIO.replace("postgresql://", "http://"), "[[pbx]] 1: url: 'http://kamailio@127.0.0.1/kamailio'"),
    (KAMAILIO + 'passwords = "md5"\n', "[[pbx]] 1: passwords: 'md5' is not one of ha1, plain"),
    (KAMAILIO.replace('domain = "pbx.example.org"', ""), "[[pbx]] 1: domain: required"),
    (ASTERISK.replace('path = "pjsip_snomprov.conf"', ""), "[[pbx]] 1: path: required"),
    (ASTERISK.replace('["asterisk", "-rx", "pjsip reload"]', '"asterisk -rx reload"'), "[[pbx]] 1: reload: expected a list"),
    (ASTERISK + "domain = 5\n", "[[pbx]] 1: domain: expected a string"),
    (ASTERISK + 'url = "mysql://x/y"\n', "[[pbx]] 1: unknown key 'url'"),
    ("[pbx]\nkind = 'kamailio'\n", "pbx: expected an array of tables"),
])
def test_problemsNamed(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as e:
        parseConfig(text, "f.toml", baseDir=str(tmp_path))
    assert any(fragment in problem for problem in e.value.problems), e.value.problems


def test_passwordNeverPrinted(tmp_path):
    text = KAMAILIO.replace("kamailio@", "kamailio:s3cret@").replace("postgresql", "mysql")
    config = parseConfig(text, baseDir=str(tmp_path))
    assert config.pbx[0].url == "mysql://kamailio:s3cret@127.0.0.1/kamailio"
    assert "s3cret" not in formatConfig(config)
    assert "url = \"mysql://kamailio:***@127.0.0.1/kamailio\"" in formatConfig(config)
    assert "s3cret" not in repr(config)
    with pytest.raises(ConfigError) as e:
        parseConfig(text.replace("mysql://", "mysqlx://"), baseDir=str(tmp_path))
    assert "s3cret" not in str(e.value)


def test_maskURL():
    assert maskURL("postgresql://u:p@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert maskURL("postgresql://u@h/db") == "postgresql://u@h/db"
    assert maskURL("mysql://h/db") == "mysql://h/db"


def test_roundTrip(tmp_path):
    config = parseConfig(KAMAILIO + ASTERISK + KAMAILIO.replace("ha1", "x") + 'passwords = "plain"\n',
                         baseDir=str(tmp_path))
    again = parseConfig(formatConfig(config), baseDir=str(tmp_path))
    assert again.pbx == config.pbx
    assert len(again.pbx) == 3 and again.pbx[2].passwords == "plain" and again.pbx[2].name == "kamailio-2"
