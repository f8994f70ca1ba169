"""
C{snomprov check}: validate the configuration and print it as in effect.
"""

from __future__ import annotations

import sys

from .base import command
from ..config import Config, formatConfig
from ..interfaces import IOptionsVendor, IUAProfileVendor
from ..safestart import baseURLWarning


@command("check", "validate the configuration and print the effective configuration")
def check(args, config: Config, registry, out) -> int:
    """
    Print the configuration; a loopback C{base_url} is warned about on
    standard error (the configuration is still valid).
    """
    warning = baseURLWarning(config)
    if warning:
        print(warning, file=sys.stderr)
    out.write(renderEffectiveConfig(config, registry))
    return 0


def renderEffectiveConfig(config: Config, registry) -> str:
    """
    The configuration in effect, as TOML (defaults filled in) that C{check}
    accepts again and that means the same configuration; a vendor without a
    C{[vendors.<name>]} table is shown as a commented-out table of its
    defaults.
    """
    source = config.source.replace("\n", " ")
    return (f"# effective configuration from {source}\n"
            f"# vendors: {', '.join(registry.names)}\n\n"
            + formatConfig(config, {vendor.name: _defaults(vendor) for vendor in registry.vendors}))


def _defaults(vendor) -> dict:
    defaults = {}
    if IUAProfileVendor.providedBy(vendor) and vendor.defaultURLTemplate:
        defaults["url"] = vendor.defaultURLTemplate
    if IOptionsVendor.providedBy(vendor):
        defaults.update(vendor.defaultOptions)
    return defaults
