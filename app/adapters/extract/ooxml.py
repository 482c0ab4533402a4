"""DOCX reader on the raw XML (Transitional and Strict): body with headings, tables, text boxes, headers/footers.

python-docx is not used: it fails on Strict OOXML and on missing parts, and the raw XML is what we need anyway.
External relationships (linked pictures, hyperlinks) are never followed.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree

from app.adapters.extract.limits import Limits, fail
from app.adapters.extract.safezip import has, read_member
from app.adapters.extract.textutil import clean, one_line
from app.adapters.extract.xmlsafe import attr, local, parse_xml
from app.adapters.extract.zipxml import add_unique, metadata_title, parse_optional
from app.core.documents import Block, ExtractedDocument, FileStatus

_HEADING_NAME = re.compile(r"^(?:heading|überschrift|berschrift|titre|titolo)\s*(\d)$", re.IGNORECASE)
_SKIP = {"delText", "instrText", "delInstrText", "fldData", "footnoteReference", "endnoteReference",
         "commentReference", "rPr", "pPr", "sectPr", "tblPr", "trPr", "tcPr", "tblGrid", "Fallback"}
_REL_DOC = ("/officeDocument",)


def read_docx(path: Path, zf: zipfile.ZipFile, limits: Limits) -> ExtractedDocument:
    main = _main_part(zf, limits)
    root = parse_xml(read_member(zf, main, limits), main)
    styles = _styles(zf, limits, main)
    reader = _Body(styles)
    body = next((el for el in root.iter() if local(el) == "body"), None)
    if body is None:
        fail(FileStatus.ERROR, "Die DOCX-Datei ist beschädigt (kein Dokumentkörper)")
    reader.container(body)
    blocks = reader.blocks
    headers, footers = _headers_footers(zf, limits, main, styles)
    all_blocks = headers + blocks + footers
    if not any(b.text.strip() for b in all_blocks):
        fail(FileStatus.EMPTY, "enthält keinen Text")
    title = _core_title(zf, limits) or next((b.text for b in blocks if b.heading_level == 1), "")
    return ExtractedDocument(path=str(path), format="docx", blocks=tuple(all_blocks), title=title)


def _main_part(zf: zipfile.ZipFile, limits: Limits) -> str:
    if has(zf, "_rels/.rels"):
        try:
            rels = parse_xml(read_member(zf, "_rels/.rels", limits), "_rels/.rels")
            for rel in rels:
                if (attr(rel, "Type") or "").endswith(_REL_DOC) and attr(rel, "TargetMode") != "External":
                    target = (attr(rel, "Target") or "").lstrip("/")
                    if has(zf, target):
                        return target
        except Exception as exc:
            if getattr(exc, "status", "") == FileStatus.REFUSED.value:
                raise
    return "word/document.xml" if has(zf, "word/document.xml") else "word/document2.xml"


def _rels(zf: zipfile.ZipFile, limits: Limits, part: str) -> list[tuple[str, str]]:
    """(type suffix, internal target path) of a part's relationships; external ones are dropped."""
    folder, name = posixpath.split(part)
    rel_path = posixpath.join(folder, "_rels", name + ".rels")
    if not has(zf, rel_path):
        return []
    try:
        root = parse_xml(read_member(zf, rel_path, limits), rel_path)
    except Exception as exc:
        if getattr(exc, "status", "") == FileStatus.REFUSED.value:
            raise
        return []
    out = []
    for rel in root:
        if attr(rel, "TargetMode") == "External":
            continue
        target = attr(rel, "Target") or ""
        full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.append(((attr(rel, "Type") or "").rsplit("/", 1)[-1], full))
    return out


def _styles(zf: zipfile.ZipFile, limits: Limits, main: str) -> dict[str, int]:
    """styleId → heading level (0 = none), following basedOn; empty when the styles part is missing or broken."""
    targets = [t for kind, t in _rels(zf, limits, main) if kind == "styles"] or ["word/styles.xml"]
    part = next((t for t in targets if has(zf, t)), None)
    if part is None:
        return {}
    try:
        root = parse_xml(read_member(zf, part, limits), part)
    except Exception as exc:
        if getattr(exc, "status", "") == FileStatus.REFUSED.value:
            raise
        return {}
    raw: dict[str, tuple[str, int | None, str | None]] = {}
    for style in root:
        if local(style) != "style" or attr(style, "type") not in (None, "paragraph"):
            continue
        sid = attr(style, "styleId") or ""
        name, outline, based = "", None, None
        for child in style.iter():
            ln = local(child)
            if ln == "name":
                name = attr(child, "val") or ""
            elif ln == "outlineLvl":
                try:
                    outline = int(attr(child, "val") or "9")
                except ValueError:
                    pass
            elif ln == "basedOn":
                based = attr(child, "val")
        raw[sid] = (name, outline, based)

    def level(sid: str, depth: int = 0) -> int:
        if sid not in raw or depth > 10:
            return _level_from_name(sid)
        name, outline, based = raw[sid]
        by_name = _level_from_name(name) or _level_from_name(sid)
        if by_name:
            return by_name
        if outline is not None:
            return outline + 1 if outline < 9 else 0
        return level(based, depth + 1) if based else 0

    return {sid: level(sid) for sid in raw}


def _level_from_name(name: str) -> int:
    name = name.strip()
    if name.lower() == "title" or name.lower() == "titel":
        return 1
    m = _HEADING_NAME.match(name.replace(" ", "")) or _HEADING_NAME.match(name)
    return int(m.group(1)) if m and 1 <= int(m.group(1)) <= 9 else 0


class _Body:
    """Walks w:body (or a header, footer, text box) and collects blocks in document order."""

    def __init__(self, styles: dict[str, int], kind: str = "text") -> None:
        self.styles = styles
        self.kind = kind
        self.blocks: list[Block] = []

    def container(self, el: etree._Element) -> None:
        for child in el:
            ln = local(child)
            if ln == "p":
                self.paragraph(child)
            elif ln == "tbl":
                self.table(child)
            elif ln in ("sdt", "sdtContent", "customXml", "ins", "smartTag", "AlternateContent", "Choice"):
                self.container(child)

    def paragraph(self, p: etree._Element) -> None:
        parts: list[str] = []
        boxes: list[etree._Element] = []
        self._runs(p, parts, boxes)
        text = clean("".join(parts)).strip()
        if text:
            level = self._heading_level(p)
            if level and _looks_like_sentence(text):
                level = 0  # templates that misuse heading styles for numbered body paragraphs
            kind = "heading" if level and self.kind == "text" else self.kind
            self.blocks.append(Block(one_line(text) if level else text, heading_level=level if self.kind == "text"
                                     else 0, kind=kind))
        for box in boxes:
            sub = _Body(self.styles, kind="textbox")
            sub.container(box)
            self.blocks.extend(sub.blocks)

    def _runs(self, el: etree._Element, parts: list[str], boxes: list[etree._Element]) -> None:
        for child in el:
            ln = local(child)
            if ln in _SKIP:
                continue
            if ln == "txbxContent":
                boxes.append(child)
                continue
            if ln == "AlternateContent":
                choice = next((c for c in child if local(c) == "Choice"), None)
                if choice is not None:
                    self._runs(choice, parts, boxes)
                continue
            if ln == "t":
                parts.append(child.text or "")
            elif ln == "tab":
                parts.append("\t")
            elif ln in ("br", "cr"):
                parts.append("\n")
            elif ln == "noBreakHyphen":
                parts.append("-")
            else:
                self._runs(child, parts, boxes)

    def _heading_level(self, p: etree._Element) -> int:
        ppr = next((c for c in p if local(c) == "pPr"), None)
        if ppr is None:
            return 0
        for c in ppr:
            if local(c) == "outlineLvl":
                try:
                    v = int(attr(c, "val") or "9")
                    return v + 1 if v < 9 else 0
                except ValueError:
                    return 0
        for c in ppr:
            if local(c) == "pStyle":
                sid = attr(c, "val") or ""
                return self.styles.get(sid, _level_from_name(sid))
        return 0

    def table(self, tbl: etree._Element) -> None:
        for row in tbl:
            if local(row) != "tr":
                continue
            cells = []
            for cell in _cells(row):
                parts: list[str] = []
                boxes: list[etree._Element] = []
                self._runs(cell, parts, boxes)
                cells.append(one_line("".join(parts)))
            text = " | ".join(c for c in cells if c)
            if text:
                self.blocks.append(Block(text, kind="table" if self.kind == "text" else self.kind))


def _looks_like_sentence(text: str) -> bool:
    words = len(text.split())
    return len(text) > 200 or (words > 12 and text.rstrip().endswith((".", ";", ":")))


def _cells(row: etree._Element) -> list[etree._Element]:
    out = []
    for child in row:
        ln = local(child)
        if ln == "tc":
            out.append(child)
        elif ln in ("sdt", "sdtContent", "customXml"):
            out.extend(_cells(child))
    return out


def _headers_footers(zf: zipfile.ZipFile, limits: Limits, main: str,
                     styles: dict[str, int]) -> tuple[list[Block], list[Block]]:
    rels = _rels(zf, limits, main)
    found = {"header": [t for k, t in rels if k == "header"], "footer": [t for k, t in rels if k == "footer"]}
    if not rels:
        names = sorted(zf.namelist())
        found = {k: [n for n in names if re.fullmatch(rf"word/{k}\d*\.xml", n)] for k in found}
    result: dict[str, list[Block]] = {"header": [], "footer": []}
    seen: set[str] = set()
    for kind, parts in found.items():
        for part in parts:
            root = parse_optional(zf, part, limits)
            if root is None:
                continue
            body = _Body(styles, kind=kind)
            body.container(root)
            add_unique(body.blocks, seen, result[kind])
    return result["header"], result["footer"]


def _core_title(zf: zipfile.ZipFile, limits: Limits) -> str:
    return metadata_title(zf, "docProps/core.xml", limits)
    try:
        root = parse_xml(read_member(zf, "docProps/core.xml", limits), "docProps/core.xml")
    except Exception:  # noqa: BLE001
        return ""
    for el in root:
        if local(el) == "title" and el.text:
            return one_line(el.text)
    return ""
