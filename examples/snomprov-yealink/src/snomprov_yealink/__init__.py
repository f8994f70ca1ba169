"""
snomprov-yealink: Yealink desk phones for snomprov, as a separate
distribution found through the C{snomprov.vendors} entry point.
"""

from .vendor import YEALINK_OUIS, YealinkVendor, writeConfigFile, yealinkVendor

__all__ = ["YealinkVendor", "yealinkVendor", "YEALINK_OUIS", "writeConfigFile"]
__version__ = "0.1.0"
