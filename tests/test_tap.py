"""
Tests for L{snomprov.tap}: options and composition, inspected without
binding anything.
"""

import pytest

from twisted.application.internet import MulticastServer, UDPServer
from twisted.internet.testing import MemoryReactorClock

from snomprov.tap import Options, makeService


def options(tmp_path, *argv):
    """
    Parsed options with the data directory under C{tmp_path}.
    """
    o = Options()
    o.parseOptions(["--data-dir", str(tmp_path / "var"), *argv])
    return o


def test_namedChildren(tmp_path):
    """
    The service is one MultiService of named children: store, recorder,
    one http-N per listen description, sip, tftp and gc (no vendor SIP
    port with C{[sip] vendor_ports = false}, whatever vendors are
    installed).
    """
    o = options(tmp_path, "--http", "tcp:0", "--http", "tcp:0:interface=127.0.0.1")
    o.config = o.config.replaceIn("sip", vendorPorts=False)
    service = makeService(o, reactor=MemoryReactorClock())
    names = [child.name for child in service]
    assert names == ["store", "recorder", "retention", "http-0", "http-1", "sip", "tftp", "gc"]
    assert isinstance(service.getServiceNamed("sip"), MulticastServer)
    assert isinstance(service.getServiceNamed("tftp"), UDPServer)


def test_overrides(tmp_path):
    """
    Command-line overrides replace the config's values.
    """
    o = options(tmp_path, "--sip-port", "5070", "--tftp-port", "69", "--base-url", "http://192.0.2.1:8080/")
    assert (o.config.sip.port, o.config.tftp.port) == (5070, 69)
    assert o.config.server.baseURL == "http://192.0.2.1:8080"
    assert o.config.tftpServer == "192.0.2.1"


def test_disable(tmp_path):
    """
    C{--no-sip} and C{--no-tftp} leave those services out.
    """
    service = makeService(options(tmp_path, "--no-sip", "--no-tftp"), reactor=MemoryReactorClock())
    assert [child.name for child in service] == ["store", "recorder", "retention", "http-0", "gc"]


def test_badConfigExits2(tmp_path, capsys):
    """
    A refused configuration prints its problems and exits 2.
    """
    bad = tmp_path / "bad.toml"
    bad.write_text("[sip]\nport = -1\n")
    with pytest.raises(SystemExit) as e:
        options(tmp_path, "--config", str(bad))
    assert e.value.code == 2
    assert "sip.port: -1 is not a port number" in capsys.readouterr().err


def test_badPortOption(tmp_path):
    """
    A port option that is not a port is a usage error.
    """
    from twisted.python.usage import UsageError

    with pytest.raises(UsageError):
        options(tmp_path, "--sip-port", "x")


def test_configFromEnvironment(tmp_path, monkeypatch):
    """
    Without C{--config}, the daemon reads the file C{SNOMPROV_CONFIG} names,
    as the command line does; C{--config} wins over it.
    """
    (tmp_path / "env.toml").write_text('[server]\ndata_dir = "envstate"\n[sip]\nport = 5071\n')
    (tmp_path / "flag.toml").write_text("[sip]\nport = 5072\n")
    monkeypatch.setenv("SNOMPROV_CONFIG", str(tmp_path / "env.toml"))
    o = Options()
    o.parseOptions([])
    assert o.config.source == str(tmp_path / "env.toml") and o.config.sip.port == 5071
    assert o.config.storeURL == "sqlite:" + str(tmp_path / "envstate" / "snomprov.sqlite")
    o = Options()
    o.parseOptions(["--config", str(tmp_path / "flag.toml")])
    assert o.config.sip.port == 5072


def test_dataDirMovesDefaultStore(tmp_path):
    """
    C{--data-dir} moves the store that was the default one with it.
    """
    o = options(tmp_path)
    assert o.config.storeURL == "sqlite:" + str(tmp_path / "var" / "snomprov.sqlite")


def test_vendorSIPPorts(tmp_path):
    """
    Each SIP port a vendor asks for, besides C{[sip] port}, gets its own
    C{sip-<port>} service; a vendor port equal to C{[sip] port} is the
    same service.
    """
    from snomprov.registry import VendorRegistry
    from snomprov.vendors.snom import snomVendor
    from tests.test_pnp import PortsVendor

    o = options(tmp_path, "--sip-port", "5070")
    o.registry = VendorRegistry([snomVendor, PortsVendor("alpha", {5059, 5070})])
    service = makeService(o, reactor=MemoryReactorClock())
    names = [child.name for child in service]
    assert names == ["store", "recorder", "retention", "http-0", "sip", "sip-5059", "tftp", "gc"]
    assert [service.getServiceNamed(n).args[0] for n in ("sip", "sip-5059")] == [5070, 5059]
    assert "sip-5059" in service.describe
    o.config = o.config.replaceIn("sip", vendorPorts=False)
    service = makeService(o, reactor=MemoryReactorClock())
    assert [child.name for child in service] == ["store", "recorder", "retention", "http-0", "sip", "tftp", "gc"]
    assert "sip-5059" not in service.describe
