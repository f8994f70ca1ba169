"""
The vendor plugin package.

Third parties drop vendor modules in here, as C{snomprov/plugins/<name>.py} in
any directory on C{sys.path} that has no C{__init__.py} of its own in
C{snomprov/} or C{snomprov/plugins/} (Twisted's "alternate plugin packages").
"""

from twisted.plugin import pluginPackagePaths

__path__.extend(pluginPackagePaths(__name__))  # type: ignore[name-defined]
__all__: list[str] = []
