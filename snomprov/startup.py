# -*- test-case-name: tests.test_startup -*-
"""
What the daemon and the command line both do first: read the config, find
the vendors, and check the two together.  Every problem is collected.
"""

from __future__ import annotations

from typing import Callable

from .config import Config, ConfigError, checkVendorOptions
from .configpath import discoverConfig
from .registry import VendorRegistry, VendorRegistryError, discoverVendors
from .vendors.generic import genericVendorsFor

__all__ = ["StartupProblem", "loadEverything"]


class StartupProblem(Exception):
    """
    The configuration or the vendors are refused.

    @ivar problems: one line per problem.
    """

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def loadEverything(
    path: str | None, adjust: Callable[[Config], Config] | None = None, package=None
) -> tuple[Config, VendorRegistry]:
    """
    The config (with C{adjust} applied: command-line overrides) and the
    registry of plugin vendors plus the generic ones the config defines.

    @param path: the C{--config} given, or C{None}: then the file is found
        as L{snomprov.configpath} says.

    @raise StartupProblem: with every problem found.
    """
    problems: list[str] = []
    config = plugins = None
    try:
        config = discoverConfig(path)
        if adjust is not None:
            config = adjust(config)
    except ConfigError as e:
        problems.extend(e.problems)
        config = e.partial
    try:
        plugins = discoverVendors(package)
    except VendorRegistryError as e:
        problems.append(f"vendors: {e}")
    if config is None or plugins is None:
        raise StartupProblem(*problems)
    generic, genericProblems = genericVendorsFor(config, set(plugins.names))
    problems.extend(genericProblems)
    registry = VendorRegistry([*plugins.vendors, *generic])
    reported = {p.partition(": ")[2].partition(":")[0] for p in genericProblems}
    problems.extend(p for p in checkVendorOptions(config, {v.name: v for v in registry.vendors})
                    if p.partition(": ")[2].partition(":")[0] not in reported)
    if problems:
        raise StartupProblem(*problems)
    return config, registry
