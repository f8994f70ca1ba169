"""
C{snomprov check}: validate the configuration and print it as in effect.
"""

from __future__ import annotations

from dataclasses import fields

from ..cli import command
from ..config import Config


@command("check", "validate the configuration and print the effective configuration")
def check(args, config: Config, registry, out) -> int:
    out.write(renderEffectiveConfig(config, registry))
    return 0


def renderEffectiveConfig(config: Config, registry) -> str:
    """
    The configuration in effect, as TOML (defaults filled in).
    """
    lines = [f"# effective configuration from {config.source}", f"# vendors: {', '.join(registry.names)}"]
    for section in ("server", "store", "sip", "http", "tftp", "provisioning"):
        value = getattr(config, section)
        lines.append(f"\n[{section}]")
        for f in fields(value):
            lines.append(f"{_snake(f.name)} = {_toml(getattr(value, f.name))}")
    for name, vendor in sorted(config.vendors.items()):
        lines.append(f"\n[vendors.{name}]")
        if vendor.url is not None:
            lines.append(f"url = {_toml(vendor.url)}")
        for key, item in vendor.options.items():
            lines.append(f"{key} = {_toml(item)}")
    return "\n".join(lines) + "\n"


_SNAKE = {"baseURL": "base_url", "dataDir": "data_dir", "allowedNetworks": "allowed_networks",
          "ratePerSource": "rate_per_source", "rateBurst": "rate_burst",
          "maxTransactions": "max_transactions", "maxTransfers": "max_transfers",
          "unknownDevices": "unknown_devices",
          "ratePerClient": "rate_per_client", "clientCA": "client_ca"}


def _snake(name: str) -> str:
    return _SNAKE.get(name, name)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    import json

    return json.dumps(str(value))
