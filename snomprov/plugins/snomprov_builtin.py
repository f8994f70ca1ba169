"""
The built-in vendors, found through the plugin package like any third
party's: importing this module has no side effects.
"""

from snomprov.vendors.linksys import linksysVendor
from snomprov.vendors.snom import snomVendor

__all__ = ["snomVendor", "linksysVendor"]
