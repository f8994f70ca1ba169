"""
snomprov-grandstream: Grandstream GXP/GRP desk phones for snomprov, as a
separate distribution found through the C{snomprov.vendors} entry point.
"""

from .vendor import ACCOUNT_PVALUES, GRANDSTREAM_OUIS, GrandstreamVendor, grandstreamVendor, writeProvision

__all__ = ["GrandstreamVendor", "grandstreamVendor", "GRANDSTREAM_OUIS", "ACCOUNT_PVALUES", "writeProvision"]
__version__ = "0.1.0"
