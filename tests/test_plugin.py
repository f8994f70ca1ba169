"""
Tests for the twistd dropin and the packaging rules around it.
"""

import os
import subprocess
import sys
import venv

import pytest
from zope.interface.verify import verifyObject

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin, getPlugins

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("path", ["twisted/__init__.py", "twisted/plugins/__init__.py"])
def test_noInitInTwistedDirs(path):
    """
    C{twisted/__init__.py} would shadow Twisted and
    C{twisted/plugins/__init__.py} would hide the dropin (and overwrite
    Twisted's own on install): neither may exist.
    """
    assert not os.path.exists(os.path.join(ROOT, path)), f"{path} must not exist"


def test_dropinFound():
    """
    C{getPlugins(IServiceMaker)} finds C{snomprov}, and it provides
    C{IPlugin} and C{IServiceMaker}.
    """
    makers = {m.tapname: m for m in getPlugins(IServiceMaker)}
    assert "snomprov" in makers
    verifyObject(IServiceMaker, makers["snomprov"])
    verifyObject(IPlugin, makers["snomprov"])


def test_dropinIsLazy():
    """
    Scanning the dropins imports nothing of snomprov's application modules.
    """
    code = (
        "import sys; from twisted.plugin import getPlugins; "
        "from twisted.application.service import IServiceMaker; "
        "list(getPlugins(IServiceMaker)); "
        "print(sorted(m for m in sys.modules if m.startswith('snomprov')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_installedWheelListsPlugin(tmp_path):
    """
    C{pip install .} into a fresh venv places the dropin in site-packages
    without any C{twisted/__init__.py} of ours, and C{twistd --help} lists
    C{snomprov}.
    """
    env = tmp_path / "venv"
    venv.create(env, with_pip=True, system_site_packages=False)
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--no-input"]
    result = subprocess.run([*pip, ROOT], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    site = subprocess.run(
        [str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert os.path.exists(os.path.join(site, "twisted", "plugins", "snomprov_plugin.py"))
    record = [
        open(os.path.join(site, d, "RECORD")).read()
        for d in os.listdir(site) if d.startswith("snomprov-") and d.endswith(".dist-info")
    ][0]
    assert "twisted/__init__.py" not in record and "twisted/plugins/__init__.py" not in record
    helpText = subprocess.run(
        [str(env / "bin" / "twistd"), "--help"], capture_output=True, text=True, cwd=tmp_path
    ).stdout
    assert "snomprov" in helpText
