"""XML parts inside ODT/DOCX zips: optional parts, the metadata title, and de-duplicated header/footer blocks."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable

from lxml import etree

from app.adapters.extract.limits import Limits
from app.adapters.extract.safezip import has, read_member
from app.adapters.extract.textutil import one_line
from app.adapters.extract.xmlsafe import local, parse_xml
from app.core.documents import Block, FileStatus


def parse_optional(zf: zipfile.ZipFile, name: str, limits: Limits, *, keep_refusal: bool = True) -> etree._Element | None:
    """The parsed part, or None when it is missing or broken. A refusal (zip-bomb limits) is re-raised unless
    `keep_refusal` is False: a document must not be read around its own bomb."""
    if not has(zf, name):
        return None
    try:
        return parse_xml(read_member(zf, name, limits), name)
    except Exception as exc:  # noqa: BLE001 - an optional part never stops the document
        if keep_refusal and getattr(exc, "status", "") == FileStatus.REFUSED.value:
            raise
        return None


def metadata_title(zf: zipfile.ZipFile, name: str, limits: Limits) -> str:
    """The first non-empty `title` element of a metadata part (meta.xml, docProps/core.xml), one line."""
    root = parse_optional(zf, name, limits, keep_refusal=False)
    if root is None:
        return ""
    for el in root.iter():
        if local(el) == "title" and el.text:
            return one_line(el.text)
    return ""


def add_unique(blocks: Iterable[Block], seen: set[str], into: list[Block]) -> None:
    """Append blocks whose one-line text was not seen yet (headers repeat on every page style)."""
    for block in blocks:
        key = one_line(block.text)
        if key not in seen:
            seen.add(key)
            into.append(block)
