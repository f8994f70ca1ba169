"""
snomprov: a zero-touch provisioning server for SIP desk phones.
"""

__version__ = "0.1.0"
