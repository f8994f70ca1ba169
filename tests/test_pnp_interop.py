"""
Plug-and-play against a real SIP peer: SIPp plays a booting snom phone
(C{tests/sipp/*.xml}) against the real daemon on 127.0.0.1, unicast to its
SIP port (DESIGN.md S{1.1}).

Every check on the wire is SIPp's: C{<ereg check_it="true">} on the
headers and the NOTIFY body, and receive timeouts for the retransmission
schedule.  These tests only assert that SIPp exits 0, and show its error log
when it does not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from daemon import ROOT, Daemon, freePort

pytestmark = pytest.mark.interop

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp")

BENCH = os.path.join(ROOT, "bench")

# Every SIPp call comes from 127.0.0.1: lift the per-source rate limit.
SIP_KEYS = "rate_per_source = 100000\nrate_burst = 100000\n"


def macOf(n: int) -> str:
    """
    The MAC of simulated phone C{n}: snom's OUI, then C{n}.
    """
    return f"000413{n:06X}"


def runSipp(directory, port: int, scenario: str, phones: list[tuple[str, str]], *options: str) -> None:
    """
    Run SIPp (blocking) as the phones C{(MAC, expected URL)} against
    127.0.0.1:C{port}; fail with SIPp's error log unless it exits 0.

    @param options: more SIPp options (C{-m}, C{-r}, C{-nr}, ...).
    """
    directory = str(directory)
    name = os.path.splitext(scenario)[0]
    injection = os.path.join(directory, f"{name}.csv")
    with open(injection, "w", encoding="ascii") as f:
        f.write("SEQUENTIAL\n" + "".join(f"{mac};{url}\n" for mac, url in phones))
    errors = os.path.join(directory, f"{name}.errors.log")
    argv = [
        "sipp", f"127.0.0.1:{port}", "-sf", os.path.join(SCENARIOS, scenario),
        "-inf", injection, "-i", "127.0.0.1", "-p", str(freePort(socket.SOCK_DGRAM)),
        "-m", str(len(phones)), "-nostdin", "-timeout", "60s", "-timeout_error",
        "-default_behaviors", "all,-bye", "-trace_err", "-error_file", errors, *options,
    ]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=directory, timeout=120)
    if result.returncode != 0:
        log = open(errors, encoding="utf-8", errors="replace").read() if os.path.exists(errors) else ""
        pytest.fail(f"sipp exited {result.returncode}: {' '.join(argv)}\n--- error log ---\n{log}"
                    f"\n--- output ---\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """
    The real daemon (SIP, HTTP; no TFTP) on 127.0.0.1, shared by this
    module's tests; each test uses its own MACs.
    """
    if shutil.which("sipp") is None:
        pytest.skip("sipp is not installed (Debian: apt-get install sip-tester)")
    running = Daemon(tmp_path_factory.mktemp("interop"), tftp=False, sipConfig=SIP_KEYS).start()
    yield running
    running.stop()


def urlFor(daemon: Daemon, mac: str) -> str:
    """
    The URL the snom vendor puts into the NOTIFY for C{mac}.
    """
    return f"{daemon.baseURL}/snom/{mac}.xml"


def test_subscribeNotifyAcknowledged(daemon, tmp_path):
    """
    A snom SUBSCRIBE gets a 200 with a To tag and Expires 0, then a NOTIFY
    of type application/url whose body is the phone's settings URL, which
    the phone answers with 200.
    """
    mac = "000413AABBCC"
    runSipp(tmp_path, daemon.sipPort, "pnp_subscribe.xml", [(mac, urlFor(daemon, mac))])


def test_wrongURLFails(daemon, tmp_path):
    """
    The scenario's body check is real: told to expect another URL, SIPp
    fails the call.
    """
    with pytest.raises(pytest.fail.Exception, match="NOTIFY body .* is not http://192.0.2.1/other.xml"):
        runSipp(tmp_path, daemon.sipPort, "pnp_subscribe.xml", [("000413AABBCD", "http://192.0.2.1/other.xml")])


def test_notifyRetransmitted(daemon, tmp_path):
    """
    A NOTIFY left unanswered comes again, unchanged, after 0.5 s and 1 s
    more (and not sooner than 2 s after that); resent SUBSCRIBEs get the
    same 200 and no new NOTIFY; once answered it stops.
    """
    mac = "000413AABBCE"
    runSipp(tmp_path, daemon.sipPort, "pnp_notify_retransmit.xml", [(mac, urlFor(daemon, mac))], "-nr")


def test_retransmitScenarioFailsAgainstBareResponder(tmp_path):
    """
    The retransmission scenario can fail: the bare reference responder of
    C{bench/}, which answers every SUBSCRIBE anew and never retransmits,
    fails it.
    """
    if shutil.which("sipp") is None:
        pytest.skip("sipp is not installed (Debian: apt-get install sip-tester)")
    port = freePort(socket.SOCK_DGRAM)
    bare = subprocess.Popen([sys.executable, os.path.join(BENCH, "bare_responder.py"), "--port", str(port)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert bare.stdout.readline().startswith("bare responder on")
        with pytest.raises(pytest.fail.Exception, match="unexpected message|receive timeout|another To"):
            runSipp(tmp_path, port, "pnp_notify_retransmit.xml", [("000413AABBCF", "-")], "-nr")
    finally:
        bare.terminate()
        bare.wait()


def test_manyPhones(daemon, tmp_path):
    """
    200 phones booting at 100 a second are all answered: SIPp counts no
    failed call.
    """
    phones = [(mac, urlFor(daemon, mac)) for mac in map(macOf, range(1, 201))]
    runSipp(tmp_path, daemon.sipPort, "pnp_subscribe.xml", phones, "-r", "100", "-l", "200")


def _devicesCommand(daemon: Daemon) -> subprocess.CompletedProcess:
    """
    C{snomprov devices --json}.
    """
    return daemon.run("devices", "--json")


def _strings(value) -> list[str]:
    """
    Every string in a JSON value, upper-cased, without C{:}, C{-} or C{.}
    (so that any spelling of a MAC compares equal).
    """
    if isinstance(value, str):
        return [re.sub(r"[:.-]", "", value).upper()]
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_devicesListsThePhone(daemon, tmp_path):
    """
    After its exchange, C{snomprov devices --json} lists the phone's MAC
    (the store is written in batches: polled for up to 20 s).
    """
    mac = "000413ABCDEF"
    runSipp(tmp_path, daemon.sipPort, "pnp_subscribe.xml", [(mac, urlFor(daemon, mac))])
    deadline = time.monotonic() + 20
    while True:
        result = _devicesCommand(daemon)
        assert result.returncode == 0, result.stderr
        listed = set(_strings(json.loads(result.stdout)))
        if mac in listed or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert mac in listed, result.stdout
