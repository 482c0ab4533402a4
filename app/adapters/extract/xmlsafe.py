"""A hardened lxml parser for XML from untrusted office files: no network, no entities, no DTDs, no huge trees."""

from __future__ import annotations

import threading

from lxml import etree

from app.adapters.extract.limits import fail
from app.core.documents import FileStatus

_local = threading.local()


def _parser() -> etree.XMLParser:
    """One parser per thread (lxml parsers are not thread-safe; building one per part is slow)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _new_parser()
    return parser


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, recover=False)


def parse_xml(data: bytes, what: str) -> etree._Element:
    """Parse bytes (a UTF-8 BOM is fine) or fail with ERROR naming the part."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        fail(FileStatus.ERROR, f"Die Datei ist beschädigt ({what} ist kein gültiges XML)", str(exc))
    if root is None:
        fail(FileStatus.ERROR, f"Die Datei ist beschädigt ({what} ist leer)")
    return root


def local(el: etree._Element) -> str:
    """Local name of an element ('' for comments and processing instructions)."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def attr(el: etree._Element, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (Transitional and Strict OOXML differ)."""
    for key, value in el.attrib.items():
        if key.rsplit("}", 1)[-1] == name:
            return value
    return None
