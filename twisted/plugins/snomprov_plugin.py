"""
The twistd dropin: C{twistd snomprov}.  It imports nothing from snomprov, so
plugin scans stay cheap and free of side effects.
"""

from twisted.application.service import ServiceMaker

snomprov = ServiceMaker(
    "snomprov",
    "snomprov.tap",
    "Zero-touch provisioning server for SIP desk phones",
    "snomprov",
)
