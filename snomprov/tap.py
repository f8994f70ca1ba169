# -*- test-case-name: tests.test_tap -*-
"""
C{twistd snomprov}: options and the composition of the services.  Nothing
else lives here.
"""

from __future__ import annotations

import os
import sys

from twisted.application import internet, strports
from twisted.application.service import MultiService
from twisted.logger import Logger
from twisted.python import usage

from .config import Config, maskURL
from .gctuning import GarbageCollectorTuning
from .listeners import Listeners
from .milestones import MilestoneLog
from .metrics import Metrics
from .provisioning import Provisioner
from .privatefiles import makePrivateDirectory
from .recorder import Recorder
from .safestart import baseURLWarning, dhcpValueLines, phoneURLLines
from .startup import StartupProblem, loadEverything
from .store.retention import EventRetention
from .store.service import StoreService
from .web.api import apiResource
from .web.bounds import HTTPLimits
from .web.backlog import withBacklog
from .web.provisioning import ProvisioningResource
from .web.sites import makeSite, siteRoots

__all__ = ["Options", "adminChildren", "makeService"]

_log = Logger()


class Options(usage.Options):
    """
    Command line of C{twistd snomprov}: a config file and overrides.
    """

    synopsis = "[-c FILE] [--http DESC ...] [--no-sip] [--no-tftp]"
    optParameters = [
        ["config", "c", None, "The TOML configuration file (default: $SNOMPROV_CONFIG, else "
         "/etc/snomprov/snomprov.toml if it exists, else built-in defaults)."],
        ["base-url", None, None, "Override [server] base_url."],
        ["data-dir", None, None, "Override [server] data_dir."],
        ["sip-port", None, None, "Override [sip] port.", usage.portCoerce],
        ["tftp-port", None, None, "Override [tftp] port.", usage.portCoerce],
    ]
    optFlags = [
        ["no-sip", None, "Do not run the SIP plug-and-play responder."],
        ["no-tftp", None, "Do not run the TFTP server."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["http"] = []

    def opt_http(self, description: str) -> None:
        """
        A Twisted endpoint description to serve HTTP on (repeatable);
        replaces [http] listen.
        """
        self["http"].append(description)

    def postOptions(self) -> None:
        try:
            self.config, self.registry = loadEverything(
                self["config"], lambda config: _applyOverrides(config, self)
            )
        except StartupProblem as e:
            # twistd would print usage and exit 1; a refused config exits 2
            # with one line per problem and nothing started.
            for problem in e.problems:
                print(problem, file=sys.stderr)
            raise SystemExit(2)


def _applyOverrides(config: Config, options: Options) -> Config:
    if options["base-url"]:
        config = config.replaceIn("server", baseURL=options["base-url"].rstrip("/"))
    if options["data-dir"]:
        config = config.withDataDir(os.path.abspath(options["data-dir"]))
    if options["sip-port"] is not None:
        config = config.replaceIn("sip", port=options["sip-port"])
    if options["tftp-port"] is not None:
        config = config.replaceIn("tftp", port=options["tftp-port"])
    if options["no-sip"]:
        config = config.replaceIn("sip", enabled=False)
    if options["no-tftp"]:
        config = config.replaceIn("tftp", enabled=False)
    if options["http"]:
        config = config.replaceIn("http", listen=tuple(options["http"]))
    return config


def makeService(options: Options, reactor=None) -> MultiService:
    """
    One L{Listeners} of named children: C{store}, C{recorder}, C{retention},
    C{pbx} (with
    C{[[pbx]]} tables), C{http-N},
    C{admin-N} (C{[admin] listen}), C{sip} and C{tftp} when enabled, and
    C{gc} (L{GarbageCollectorTuning}).
    A loopback C{base_url} is warned about now; once bound, the start log
    names the URLs phones get, the DHCP values to set and each listener.
    """
    if reactor is None:
        from twisted.internet import reactor
    config: Config = options.config
    registry = options.registry
    makePrivateDirectory(config.server.dataDir)

    warning = baseURLWarning(config)
    if warning:
        _log.warn("{warning}", warning=warning)
    # Under twistd, options.parent is twistd's own options.
    parent = getattr(options, "parent", None)
    top = Listeners(_listenerDescriptions(config, registry),
                    [*phoneURLLines(config, registry), *dhcpValueLines(config, registry)],
                    daemonized=parent is not None and not parent.get("nodaemon", True))
    stores = StoreService(config.storeURL, config.server.dataDir, reactor=reactor)
    stores.setName("store")
    stores.setServiceParent(top)

    recorder = Recorder(stores.whenOpen, reactor, milestones=MilestoneLog(reactor, fieldLength=config.server.logFieldLength),
                        newDevicesPerMinute=config.provisioning.newDevicesPerMinute)
    recorder.setName("recorder")
    recorder.setServiceParent(top)
    stores.closeAfter(recorder.flush)
    retention = EventRetention(stores.whenOpen, reactor, config.store.keepEventsDays)
    retention.setName("retention")
    retention.setServiceParent(top)
    stores.closeAfter(retention.whenIdle)

    if config.pbx:
        _buildAccountSync(config, stores.whenOpen, reactor).setServiceParent(top)

    proofs = _proofChecker(config, reactor)
    provisioner = Provisioner(registry, stores.whenOpen, config, recorder, reactor, proofs=proofs)
    metrics = Metrics(stores.whenOpen, reactor, recorder, provisioner,
                      pbxSinks=[table.name for table in config.pbx])
    operatorPaths = adminChildren(metrics, stores.whenOpen, reactor, registry, config)
    phones, operators = siteRoots(ProvisioningResource(provisioner), operatorPaths,
                                  separate=bool(config.admin.listen))
    phoneSite = makeSite(phones, HTTPLimits.fromConfig(config),
                         adminNames=() if operators is not None else operatorPaths, reactor=reactor)
    for index, http in enumerate(_httpServices(config, phoneSite, reactor)):
        http.setName(f"http-{index}")
        http.setServiceParent(top)
    if operators is not None:
        site = makeSite(operators, HTTPLimits.fromConfig(config, phones=False), adminNames=None,
                        reactor=reactor)
        for index, description in enumerate(config.admin.listen):
            admin = strports.service(withBacklog(description, config.http.backlog), site, reactor=reactor)
            admin.setName(f"admin-{index}")
            admin.setServiceParent(top)

    if config.sip.enabled:
        for service in _buildSIP(config, registry, recorder, reactor, metrics, proofs):
            service.setServiceParent(top)
    if config.tftp.enabled:
        _buildTFTP(config, provisioner, recorder, reactor, metrics).setServiceParent(top)
    collector = GarbageCollectorTuning(reactor)
    collector.setName("gc")
    collector.setServiceParent(top)
    _log.info(
        "snomprov: vendors {vendors}; SIP {sip}; TFTP {tftp}; store {store}",
        vendors=", ".join(registry.names),
        sip="on" if config.sip.enabled else "off",
        tftp="on" if config.tftp.enabled else "off",
        store=maskURL(config.storeURL),
    )
    return top


def adminChildren(metrics: Metrics, whenStore, reactor, registry=None, config=None) -> dict:
    """
    The operators' paths: first segment to resource, served on C{[admin]
    listen} (or beside the phones' paths when it is empty).
    """
    from .web.api.auth import Authenticator
    from .web.metrics import metricsResource
    from .web.pages import PATHS, pagesResource
    from .web.sessions import Sessions

    authenticator = Authenticator(reactor, reactor=reactor)
    sessions = Sessions(reactor, config.admin.sessionIdle if config is not None else 3600.0)
    api = apiResource(whenStore, reactor, registry=registry, config=config, authenticator=authenticator,
                      sessions=sessions)
    pages = pagesResource(whenStore, reactor, authenticator, registry=registry, config=config,
                          sessions=sessions)
    return {**{path: pages for path in PATHS}, b"metrics": metricsResource(metrics), b"api": api}


def _listenerDescriptions(config: Config, registry=None) -> dict[str, str]:
    """
    Each listening child's name and what it listens for, as configured.
    """
    from .pnp import sipPortsFor

    described = {f"http-{index}": f"HTTP {description}" for index, description in enumerate(config.http.listen)}
    described.update({f"admin-{index}": f"operators' HTTP {description}"
                      for index, description in enumerate(config.admin.listen)})
    if config.sip.enabled:
        shared = "shared" if config.sip.sharePort else "not shared"
        described["sip"] = f"SIP UDP {config.sip.port} (group {config.sip.group}, port {shared})"
        if registry is not None:
            for port in sipPortsFor(config, registry)[1:]:
                described[f"sip-{port}"] = (f"SIP UDP {port} for the vendors that ask for it "
                                            f"(group {config.sip.group}, port {shared})")
    if config.tftp.enabled:
        described["tftp"] = f"TFTP UDP {config.tftp.port}"
    return described


def _httpServices(config, site, reactor):
    """
    One service per C{[http] listen} description, with C{[http] backlog}
    unless it sets its own; with C{[http] client_ca}, C{ssl:} ones require
    a client certificate signed by that CA.
    """
    from .web.tls import isTLSDescription, loadCertificateAuthorities, mutualTLSService

    authorities = loadCertificateAuthorities(config.http.clientCA) if config.http.clientCA else None
    if authorities and not any(isTLSDescription(d) for d in config.http.listen):
        _log.warn("[http] client_ca is set but no listener is ssl:; per-device files will be refused")
    for description in config.http.listen:
        description = withBacklog(description, config.http.backlog)
        if authorities and isTLSDescription(description):
            yield mutualTLSService(reactor, description, authorities, site)
        else:
            yield strports.service(description, site, reactor=reactor)


def _buildAccountSync(config, whenStore, reactor):
    """
    The C{pbx} child: L{snomprov.pbx.sync.AccountSync} over one sink per
    C{[[pbx]]} table.  A sink that cannot be made stops the start with one
    line.
    """
    from .pbx.sync import AccountSync, SinkUnavailable, makeSink

    try:
        sinks = [makeSink(table, reactor) for table in config.pbx]
    except SinkUnavailable as e:
        print(str(e), file=sys.stderr)
        raise SystemExit(2)
    service = AccountSync(whenStore, sinks, reactor)
    service.setName("pbx")
    return service


def _proofChecker(config, reactor):
    """
    The L{snomprov.proofcheck.ProofChecker} of the daemon, with the key of
    C{[provisioning] key_file}; a key file that cannot be read or made
    stops the start with one line.  Logs which proofs unlock secrets, and
    how phones that find us through DHCP get theirs.
    """
    from .keyfile import KeyFileError, readOrCreateKey
    from .proofcheck import ProofChecker

    try:
        key = readOrCreateKey(config.keyPath)
    except KeyFileError as e:
        print(f"provisioning.key_file: {e}", file=sys.stderr)
        raise SystemExit(2)
    proofs = ProofChecker(key, config, reactor)
    networks = [f"{t}: {', '.join(str(n) for n in getattr(config, t).allowedNetworks)}"
                for t in ("http", "tftp") if getattr(config, t).allowedNetworks]
    _log.info("A phone's own file carries its credentials only with a proof that it asks: {proofs}; "
              "without one it is {without}{networks}",
              proofs=", ".join(config.provisioning.proofs) or "none accepted",
              without="served stripped" if config.provisioning.withoutProof == "strip" else "refused",
              networks=f" (allowed networks {'; '.join(networks)})" if networks else
              " (phones that find us through DHCP, such as SPAs, need their network in "
              "[tftp] / [http] allowed_networks)")
    return proofs


def _buildSIP(config, registry, recorder, reactor, metrics, proofs=None):
    """
    One SIP service per port of L{snomprov.pnp.sipPortsFor}: C{sip} on
    C{[sip] port}, C{sip-<port>} on each port a vendor asks for.
    """
    from .pnp import PnPController, PnPControllers, sipPortsFor
    from .sip.port import SIPServer
    from .sip.protocol import SIPProtocol

    services, controllers = [], []
    for index, port in enumerate(sipPortsFor(config, registry)):
        controller = PnPController(registry, config.replaceIn("sip", port=port), recorder, reactor, proofs)
        controllers.append(controller)
        protocol = SIPProtocol(controller, config.sip.group, config.sip.interfaces, reactor)
        service = SIPServer(port, protocol, pollInterval=config.sip.pollInterval, reactor=reactor,
                            sharePort=config.sip.sharePort)
        service.setName("sip" if index == 0 else f"sip-{port}")
        services.append(service)
    metrics.watchPnP(controllers[0] if len(controllers) == 1 else PnPControllers(controllers))
    return services


def _buildTFTP(config, provisioner, recorder, reactor, metrics):
    from .tftp.service import tftpProtocolFor

    service = internet.UDPServer(
        config.tftp.port,
        tftpProtocolFor(config, provisioner, recorder, reactor, metrics.watchTFTP()),
        interface=config.tftp.interface,
        reactor=reactor,
    )
    service.setName("tftp")
    return service
