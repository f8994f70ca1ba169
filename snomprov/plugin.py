# -*- test-case-name: tests.test_plugin_kit -*-
"""
The plugin kit: everything a vendor plugin needs from snomprov, in one
module whose C{__all__} is the public, stable surface.

A vendor plugin imports from here (and from L{snomprov.testing} in its
tests) and from nowhere else in snomprov.  What is re-exported:

    - the vendor interfaces: L{IVendor} and the capabilities
      L{IUAProfileVendor} (SIP plug-and-play), L{IFileVendor} and
      L{ISubscribeReadingVendor} (reading SUBSCRIBEs its phones write their
      own way) and L{ISIPPortsVendor} (more SIP ports), L{IFileVendor} and
      L{IFileListingVendor} (files over HTTP and TFTP), L{IResyncVendor}
      (push), L{IDHCPVendor} (DHCP snippets), L{IOptionsVendor} (checks and
      defaults of its C{[vendors.<name>]} table), L{ISettingsVendor}
      (settings files uploaded as layers, its C{perm} values and
      documents), L{ISecretSettingsVendor} (the settings whose values are
      secrets), and C{implementer} to declare them;
    - the values a vendor is given and returns: L{ProfileRequest},
      L{UserAgentInfo}, L{FileRequest}, L{RenderContext},
      L{RenderedFile}, L{DHCPRule}, and what a render context holds:
      L{DeviceInfo}, L{Line}, L{Setting}, L{SettingsLayer};
    - MAC and OUI helpers: L{parseMAC}, L{formatMAC}, L{parseOUI},
      L{ouiOf}, L{InvalidMAC};
    - URL templates: L{expandURLTemplate}, L{checkURLTemplate},
      L{SERVER_VARIABLES}, and L{TOKEN_MARK}, what C{{token}} is written as
      in a device's file (the server puts the device's credential there when
      the request had a proof);
    - SUBSCRIBEs, for L{ISubscribeReadingVendor.claimSubscribe}: the
      L{DecodedMessage} it is shown (C{uri}, C{header(name)}), and
      L{userPart} (of a SIP URI) and L{eventParameter} (of an C{Event}
      value);
    - L{ENTRY_POINT_GROUP}, the entry-point group a distribution names its
      vendor in.

A vendor is an object (usually a module-level instance) providing
L{IVendor} and its capabilities, named in its distribution's metadata::

    [project.entry-points."snomprov.vendors"]
    acme = "snomprov_acme:acmeVendor"
"""

from __future__ import annotations

from zope.interface import implementer

from .device import (
    DeviceInfo,
    DHCPRule,
    FileRequest,
    InvalidMAC,
    Line,
    ProfileRequest,
    RenderContext,
    RenderedFile,
    Setting,
    SettingsLayer,
    UserAgentInfo,
    formatMAC,
    ouiOf,
    parseMAC,
    parseOUI,
)
from .interfaces import (
    IDHCPVendor,
    IFileListingVendor,
    IFileVendor,
    IOptionsVendor,
    IResyncVendor,
    ISecretSettingsVendor,
    ISettingsVendor,
    ISIPPortsVendor,
    ISubscribeReadingVendor,
    IUAProfileVendor,
    IVendor,
)
from .sip.decoded import DecodedMessage
from .sip.uaprofile import eventParameter, userPart
from .urltemplate import SERVER_VARIABLES, TOKEN_MARK, checkURLTemplate, expandURLTemplate

__all__ = [
    # interfaces
    "IVendor",
    "IUAProfileVendor",
    "IFileVendor",
    "IFileListingVendor",
    "IResyncVendor",
    "IDHCPVendor",
    "ISubscribeReadingVendor",
    "ISIPPortsVendor",
    "IOptionsVendor",
    "ISettingsVendor",
    "ISecretSettingsVendor",
    "implementer",
    # values
    "ProfileRequest",
    "UserAgentInfo",
    "FileRequest",
    "RenderContext",
    "RenderedFile",
    "DHCPRule",
    "DeviceInfo",
    "Line",
    "Setting",
    "SettingsLayer",
    # MACs and OUIs
    "InvalidMAC",
    "parseMAC",
    "formatMAC",
    "parseOUI",
    "ouiOf",
    # URL templates
    "SERVER_VARIABLES",
    "TOKEN_MARK",
    "expandURLTemplate",
    "checkURLTemplate",
    # SUBSCRIBEs
    "DecodedMessage",
    "userPart",
    "eventParameter",
    # packaging
    "ENTRY_POINT_GROUP",
]

ENTRY_POINT_GROUP = "snomprov.vendors"
"""
The entry-point group of vendor plugins: each entry point names one object
providing L{IVendor}.
"""
