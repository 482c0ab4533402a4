"""ODT reader: content.xml (headings with outline level, paragraphs, lists, tables, frames) and page headers/footers."""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from app.adapters.extract.limits import Limits, fail
from app.adapters.extract.safezip import has, read_member
from app.adapters.extract.textutil import clean, one_line
from app.adapters.extract.xmlsafe import attr, local, parse_xml
from app.adapters.extract.zipxml import add_unique, metadata_title, parse_optional
from app.core.documents import Block, ExtractedDocument, FileStatus

_SKIP = {"annotation", "annotation-end", "tracked-changes", "sequence-decls", "variable-decls", "user-field-decls",
         "forms", "bookmark", "bookmark-start", "bookmark-end", "soft-page-break", "note-citation"}


def read_odt(path: Path, zf: zipfile.ZipFile, limits: Limits) -> ExtractedDocument:
    if not has(zf, "content.xml"):
        fail(FileStatus.ERROR, "Die ODT-Datei ist beschädigt (content.xml fehlt)")
    root = parse_xml(read_member(zf, "content.xml", limits), "content.xml")
    if any(local(el) == "encryption-data" for el in _manifest(zf, limits)):
        fail(FileStatus.ENCRYPTED, "verschlüsselt (Kennwortschutz)")
    body = next((el for el in root.iter() if local(el) == "text" and local(el.getparent()) == "body"), None)
    if body is None:
        fail(FileStatus.ERROR, "Die ODT-Datei enthält keinen Textkörper")
    walker = _Walker()
    walker.container(body)
    headers, footers = _headers_footers(zf, limits)
    blocks = headers + walker.blocks + footers
    if not any(b.text.strip() for b in blocks):
        fail(FileStatus.EMPTY, "enthält keinen Text")
    title = _meta_title(zf, limits) or next((b.text for b in walker.blocks if b.heading_level == 1), "")
    return ExtractedDocument(path=str(path), format="odt", blocks=tuple(blocks), title=title)


def _manifest(zf: zipfile.ZipFile, limits: Limits) -> list[etree._Element]:
    if not has(zf, "META-INF/manifest.xml"):
        return []
    try:
        return list(parse_xml(read_member(zf, "META-INF/manifest.xml", limits), "manifest.xml").iter())
    except Exception:  # noqa: BLE001
        return []


class _Walker:
    def __init__(self, kind: str = "text") -> None:
        self.kind = kind
        self.blocks: list[Block] = []

    def container(self, el: etree._Element) -> None:
        for child in el:
            ln = local(child)
            if ln in _SKIP:
                continue
            if ln in ("p", "h"):
                self.paragraph(child, ln == "h")
            elif ln == "table":
                self.table(child)
            elif ln in ("list", "list-item", "list-header", "section", "index-body", "table-of-content",
                        "alphabetical-index", "illustration-index", "table-index", "object-index",
                        "user-index", "bibliography", "change", "deletion"):
                if ln != "deletion":
                    self.container(child)
            elif ln in ("frame", "text-box", "g", "custom-shape"):
                self.container(child)

    def paragraph(self, p: etree._Element, heading: bool) -> None:
        parts: list[str] = []
        boxes: list[etree._Element] = []
        _inline(p, parts, boxes)
        text = clean("".join(parts)).strip()
        if text:
            level = 0
            if heading and self.kind == "text":
                try:
                    level = max(1, min(9, int(attr(p, "outline-level") or "1")))
                except ValueError:
                    level = 1
            self.blocks.append(Block(one_line(text) if level else text, heading_level=level,
                                     kind="heading" if level else self.kind))
        for box in boxes:
            sub = _Walker("textbox" if self.kind == "text" else self.kind)
            sub.container(box)
            self.blocks.extend(sub.blocks)

    def table(self, tbl: etree._Element) -> None:
        for row in tbl.iter():
            if local(row) != "table-row":
                continue
            if any(local(a) == "table-row" for a in row.iterancestors()):
                continue  # rows of nested tables are part of the outer cell text
            cells = []
            for cell in row:
                if local(cell) not in ("table-cell",):
                    continue
                parts: list[str] = []
                _inline(cell, parts, [], block_sep=" ")
                cells.append(one_line("".join(parts)))
            text = " | ".join(c for c in cells if c)
            if text:
                self.blocks.append(Block(text, kind="table" if self.kind == "text" else self.kind))


def _inline(el: etree._Element, parts: list[str], boxes: list[etree._Element], block_sep: str = "") -> None:
    if el.text and local(el) not in _SKIP:
        parts.append(el.text)
    for child in el:
        ln = local(child)
        if ln in _SKIP:
            pass
        elif ln == "s":
            try:
                parts.append(" " * min(int(attr(child, "c") or "1"), 100))
            except ValueError:
                parts.append(" ")
        elif ln == "tab":
            parts.append("\t")
        elif ln == "line-break":
            parts.append("\n")
        elif ln in ("frame", "text-box") and not block_sep:
            boxes.append(child)
        elif ln == "note":
            pass  # footnote text would break the sentence; notes are rare in admin letters
        else:
            if block_sep and ln in ("p", "h"):
                parts.append(block_sep)
            _inline(child, parts, boxes, block_sep)
        if child.tail:
            parts.append(child.tail)


def _headers_footers(zf: zipfile.ZipFile, limits: Limits) -> tuple[list[Block], list[Block]]:
    root = parse_optional(zf, "styles.xml", limits)
    if root is None:
        return [], []
    out: dict[str, list[Block]] = {"header": [], "footer": []}
    seen: set[str] = set()
    for el in root.iter():
        ln = local(el)
        kind = "header" if ln in ("header", "header-first", "header-left") else (
            "footer" if ln in ("footer", "footer-first", "footer-left") else "")
        if not kind or local(el.getparent()) != "master-page":
            continue
        walker = _Walker(kind)
        walker.container(el)
        add_unique(walker.blocks, seen, out[kind])
    return out["header"], out["footer"]


def _meta_title(zf: zipfile.ZipFile, limits: Limits) -> str:
    return metadata_title(zf, "meta.xml", limits)
    try:
        root = parse_xml(read_member(zf, "meta.xml", limits), "meta.xml")
    except Exception:  # noqa: BLE001
        return ""
    for el in root.iter():
        if local(el) == "title" and el.text:
            return one_line(el.text)
    return ""
