# -*- test-case-name: tests.test_snomxml -*-
"""
snom settings XML: parse an uploaded file into a L{SettingsLayer}, and write
the documents snom phones read (C{<settings>}, C{<setting-files>},
C{<firmware-settings>}) with lxml.

Uploads are parsed with entity resolution, DTD loading and network access off,
no huge-tree mode, and a size limit checked before the parser sees a byte; a
file with a C{DOCTYPE} is refused whole, so neither an entity expansion
("billion laughs") nor an external entity (C{file:///etc/passwd}) can reach a
layer.  Any error refuses the whole file with the line and the reason.

Writing: values go through lxml, so C{&}, C{<}, quotes and any Unicode are
escaped correctly.  Characters XML 1.0 cannot carry at all (C{U+0000} to
C{U+001F} but tab, LF and CR; lone surrogates; C{U+FFFE}, C{U+FFFF}) are
B{stripped} on output: a phone could not read them, and the parser never
produces them.  A setting whose name is not an XML name cannot be written and
is left out (see L{renderSettings}).

Pure: no I/O, no Twisted.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from lxml import etree

from snomprov.device import Setting, SettingsLayer
from snomprov.xmltext import isXMLName, xmlSafe

__all__ = [
    "SNOM_PERMS",
    "DOCUMENT_SECTIONS",
    "SettingsXMLError",
    "parseSettingsXML",
    "renderSettings",
    "renderContainer",
    "renderFirmware",
    "unwritableSettings",
    "xmlSafe",
]

SNOM_PERMS = ("", " ", "R", "RW", "!", "&", "$", "V")
"""
The C{perm} values accepted on upload (formats §1.5): none given, C{""} and
C{" "} (which differ), C{R} (read-only), C{RW} (read-write), C{!} (not
shown), the legacy spellings C{&} (read-only) and C{$} (read-write), and
C{V} (volatile, 10.1.79+).  They are stored and written back exactly; the
combined forms of C{V} are not documented and are refused.  (The snom
vendor's L{snomprov.interfaces.ISettingsVendor.settingPerms}.)
"""

DOCUMENT_SECTIONS = {
    "functionKeys": "functionKeys",
    "function-keys": "functionKeys",
    "tbook": "tbook",
    "phone-book": "tbook",
    "dialplan": "dialplan",
    "dial-plan": "dialplan",
}
"""
Section element names (with snom's aliases) kept as whole documents, to the
L{SettingsLayer.documents} key they are stored under.
"""

_SETTING_ATTRIBUTES = frozenset({"idx", "perm"})
_CONTAINERS = frozenset({"setting-files", "settings-files"})
_IDX = re.compile(r"[0-9]{1,6}")
_NO_DOCTYPE = "a DOCTYPE is not allowed (no DTDs, no entities)"


class SettingsXMLError(ValueError):
    """
    An uploaded settings file is refused.

    @ivar line: the line of the problem, or C{None} when it is not in one
        place (size, empty file).
    @ivar reason: what is wrong.
    """

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(line, reason)
        self.line = line
        self.reason = reason

    def __str__(self) -> str:
        if self.line is None:
            return self.reason
        return f"line {self.line}: {self.reason}"


def _parser() -> etree.XMLParser:
    """
    A parser that resolves nothing and fetches nothing.
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parseTree(data: bytes) -> etree._Element:
    """
    Parse bytes into a root element, refusing a DOCTYPE.

    @raise SettingsXMLError: if the bytes are not well-formed or carry a DTD.
    """
    doctype = data.find(b"<!DOCTYPE")
    if doctype >= 0:
        # Refused before libxml2 reads the internal subset; the check on the
        # parsed tree below catches encodings this byte search cannot see.
        raise SettingsXMLError(data.count(b"\n", 0, doctype) + 1, _NO_DOCTYPE)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        line = e.lineno if e.lineno else None
        raise SettingsXMLError(line, f"not well-formed XML: {e.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SettingsXMLError(1, _NO_DOCTYPE)
    return root


def parseSettingsXML(data: bytes, scope: str, maxSize: int = 1_048_576) -> SettingsLayer:
    """
    Read an uploaded snom settings file into a settings layer.

    Accepted roots: C{<settings>} (sections C{<phone-settings>}, any number,
    and at most one each of C{<functionKeys>}, C{<tbook>}, C{<dialplan>} or
    their aliases), or one of those sections alone.  C{<phone-settings>}
    children are settings with optional C{idx} (a non-negative integer) and
    C{perm} (one of L{SNOM_PERMS}); a repeated name and index is refused.
    Other sections are stored as serialized XML in C{documents}.

    A C{<setting-files>} (or C{<settings-files>}) container is refused: it
    lists files to fetch and holds no settings.  C{<firmware-settings>} is
    refused: firmware is configured per model in C{[vendors.snom] firmware}.

    @param scope: the layer's scope (not checked here).
    @param maxSize: the largest accepted file, in bytes.
    @raise SettingsXMLError: on any problem; nothing is kept.
    """
    if len(data) > maxSize:
        raise SettingsXMLError(
            None, f"file is {len(data)} bytes; the limit is {maxSize} bytes"
        )
    if not data.strip():
        raise SettingsXMLError(None, "file is empty")
    root = _parseTree(data)
    tag = _tagOf(root)
    settings: list[Setting] = []
    documents: dict[str, bytes] = {}
    if tag == "settings":
        sections = list(root)
        _refuseText(root)
    elif tag == "phone-settings" or tag in DOCUMENT_SECTIONS:
        sections = [root]
    elif tag in _CONTAINERS:
        raise SettingsXMLError(
            root.sourceline,
            f"<{tag}> is a container listing files to fetch, not settings; "
            "upload the settings files it lists instead",
        )
    elif tag == "firmware-settings":
        raise SettingsXMLError(
            root.sourceline,
            "<firmware-settings> is not a settings layer; set the wanted firmware "
            "per model in [vendors.snom] firmware",
        )
    else:
        raise SettingsXMLError(
            root.sourceline,
            f"root element <{tag}> is not <settings> or <phone-settings>",
        )
    seen: dict[tuple[str, int | None], int] = {}
    for section in sections:
        name = _tagOf(section)
        if name == "phone-settings":
            _refuseText(section)
            for element in section:
                setting = _readSetting(element)
                if setting.key in seen:
                    raise SettingsXMLError(
                        element.sourceline,
                        f"<{setting.name}> with idx {setting.idx} is repeated "
                        f"(first on line {seen[setting.key]})",
                    )
                seen[setting.key] = element.sourceline
                settings.append(setting)
        elif name in DOCUMENT_SECTIONS:
            key = DOCUMENT_SECTIONS[name]
            if key in documents:
                raise SettingsXMLError(section.sourceline, f"a second <{name}> section")
            documents[key] = _serialize(section)
        else:
            raise SettingsXMLError(
                section.sourceline,
                f"section <{name}> is not supported (known: phone-settings, "
                + ", ".join(sorted(DOCUMENT_SECTIONS))
                + ")",
            )
    return SettingsLayer(scope=scope, settings=tuple(settings), documents=documents)


def _tagOf(element: etree._Element) -> str:
    """
    The tag of an element, refusing entity references and namespaces.
    """
    if not isinstance(element.tag, str):
        raise SettingsXMLError(element.sourceline, "entity references are not allowed")
    if element.tag.startswith("{"):
        raise SettingsXMLError(element.sourceline, f"namespaced element {element.tag}")
    return element.tag


def _refuseText(section: etree._Element) -> None:
    """
    Refuse text between the children of a container element.
    """
    texts = [section.text] + [child.tail for child in section]
    if any(t and t.strip() for t in texts):
        raise SettingsXMLError(
            section.sourceline, f"text directly inside <{section.tag}>"
        )


def _readSetting(element: etree._Element) -> Setting:
    """
    One C{<phone-settings>} child as a L{Setting}.
    """
    name = _tagOf(element)
    line = element.sourceline
    if len(element):
        child = element[0]
        if not isinstance(child.tag, str):
            raise SettingsXMLError(child.sourceline, "entity references are not allowed")
        raise SettingsXMLError(line, f"setting <{name}> has child elements")
    unknown = set(element.attrib) - _SETTING_ATTRIBUTES
    if unknown:
        raise SettingsXMLError(
            line,
            f"setting <{name}> has unsupported attribute(s) "
            + ", ".join(sorted(unknown))
            + " (only idx and perm)",
        )
    idx = None
    if "idx" in element.attrib:
        text = element.attrib["idx"]
        if not _IDX.fullmatch(text):
            raise SettingsXMLError(
                line, f"setting <{name}> idx={text!r} is not a non-negative integer"
            )
        idx = int(text)
    perm = element.attrib.get("perm")
    if perm is not None and perm not in SNOM_PERMS:
        raise SettingsXMLError(
            line,
            f"setting <{name}> perm={perm!r} is not one of "
            + ", ".join(repr(p) for p in SNOM_PERMS),
        )
    return Setting(name=name, value=element.text or "", idx=idx, perm=perm)


def _serialize(element: etree._Element) -> bytes:
    """
    An element as UTF-8 XML, without its tail.
    """
    return etree.tostring(element, encoding="utf-8", with_tail=False)


def _document(root: etree._Element) -> bytes:
    """
    A whole document, with the XML declaration snom's examples carry (double
    quotes: lxml's own declaration uses single ones).

    One element per line: the tails are set where the elements are made, not
    by C{pretty_print}, which would reindent the stored documents.
    """
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(
        root, encoding="utf-8"
    ) + b"\n"


def _newline(element: etree._Element, indent: str = "\n") -> etree._Element:
    """
    Put C{element} on a line of its own: set its tail and return it.
    """
    element.tail = indent
    return element


def renderSettings(
    settings: Iterable[Setting], documents: Mapping[str, bytes] | None = None
) -> bytes:
    """
    Write a C{<settings>} document: C{<phone-settings e="2">} with one element
    per setting (C{idx} when set, C{perm} exactly as stored and absent when
    C{None}), then the C{documents} in the order C{functionKeys}, C{tbook},
    C{dialplan}.

    Settings whose name is not an XML name are left out; a document that is
    not well-formed XML is left out.  Callers that need to know use
    L{unwritableSettings}.

    @return: UTF-8 XML.
    """
    root = etree.Element("settings")
    root.text = "\n"
    section = _newline(etree.SubElement(root, "phone-settings", e="2"))
    section.text = "\n"
    for setting in settings:
        if not isXMLName(setting.name):
            continue
        element = _newline(etree.SubElement(section, setting.name))
        if setting.idx is not None:
            element.set("idx", str(setting.idx))
        if setting.perm is not None:
            element.set("perm", xmlSafe(setting.perm))
        element.text = xmlSafe(setting.value)
    for key in ("functionKeys", "tbook", "dialplan"):
        data = (documents or {}).get(key)
        if data is None:
            continue
        try:
            root.append(_newline(_parseTree(data)))
        except SettingsXMLError:
            continue
    return _document(root)


def unwritableSettings(settings: Iterable[Setting]) -> list[Setting]:
    """
    The settings L{renderSettings} leaves out because their name is not an
    XML element name.
    """
    return [s for s in settings if not isXMLName(s.name)]


def renderContainer(urls: Iterable[str]) -> bytes:
    """
    Write a C{<setting-files>} container with one C{<file url="..."/>} per URL.
    """
    root = etree.Element("setting-files")
    root.text = "\n"
    for url in urls:
        _newline(etree.SubElement(root, "file", url=xmlSafe(url)))
    return _document(root)


def renderFirmware(url: str | None) -> bytes:
    """
    Write a C{<firmware-settings>} file naming the firmware image at C{url},
    or an empty one (nothing to install) when C{url} is C{None}.
    """
    root = etree.Element("firmware-settings")
    if url is not None:
        root.text = "\n"
        _newline(etree.SubElement(root, "firmware", perm="")).text = xmlSafe(url)
    return _document(root)
