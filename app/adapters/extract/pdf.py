"""PDF reader (pypdfium2): text per page in reading order, pages without a text layer reported for OCR."""

from __future__ import annotations

import re
from pathlib import Path

from app.adapters.extract.limits import Limits, fail
from app.adapters.extract.textutil import clean, paragraphs
from app.core.documents import Block, ExtractedDocument, FileStatus

_PW_ERR = 4  # FPDF_ERR_PASSWORD
_SOFT = re.compile(r"[\ufffe\u00ad]\n?")


def read_pdf(path: Path, limits: Limits) -> ExtractedDocument:
    import pypdfium2 as pdfium  # lazy: heavy native library

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PW_ERR or "password" in str(exc).lower():
            fail(FileStatus.ENCRYPTED, "verschlüsselt (Kennwortschutz) – bitte ohne Kennwort speichern", str(exc))
        fail(FileStatus.ERROR, "Die PDF-Datei ist beschädigt und lässt sich nicht öffnen", str(exc))
    try:
        return _read(pdf, path, limits)
    finally:
        pdf.close()


def _read(pdf, path: Path, limits: Limits) -> ExtractedDocument:
    n = len(pdf)
    if n == 0:
        fail(FileStatus.ERROR, "Die PDF-Datei ist beschädigt (keine Seiten gefunden)")
    warnings: list[str] = []
    if n > limits.max_pages:
        warnings.append(f"Nur die ersten {limits.max_pages} von {n} Seiten gelesen")
    blocks: list[Block] = []
    no_text: list[int] = []
    broken: list[int] = []
    for index in range(min(n, limits.max_pages)):
        page_no = index + 1
        try:
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    raw = textpage.get_text_range()
                    parts = _page_paragraphs(textpage, raw)
                finally:
                    textpage.close()
            finally:
                page.close()
        except Exception as exc:  # noqa: BLE001 - one bad page must not cost the document
            broken.append(page_no)
            warnings.append(f"Seite {page_no}: nicht lesbar ({type(exc).__name__})")
            continue
        if not parts:
            no_text.append(page_no)
            warnings.append(f"Seite {page_no}: keine Textebene – OCR nötig")
            continue
        blocks.extend(Block(p, page=page_no) for p in parts)
    if not blocks:
        if broken and not no_text:
            fail(FileStatus.ERROR, "Die PDF-Datei ist beschädigt (keine Seite lesbar)")
        fail(FileStatus.NO_TEXT_LAYER, "keine Textebene – OCR nötig", f"{n} Seite(n) ohne Text")
    title = ""
    try:
        title = clean(pdf.get_metadata_value("Title") or "").strip()
    except Exception:  # noqa: BLE001, S110 - the title is optional
        pass
    return ExtractedDocument(path=str(path), format="pdf", blocks=tuple(blocks), title=title, page_count=n,
                             pages_without_text=tuple(no_text), warnings=tuple(warnings))


def _page_paragraphs(textpage, raw: str) -> list[str]:
    """Split a page's text into paragraphs where the vertical gap between lines is larger than usual leading.

    pdfium ends lines with generated CR LF characters that count as characters, so the text offset of a line is
    its character index; its box gives the line's position. Falls back to blank-line splitting on any surprise.
    """
    lines = raw.split("\r\n")
    boxes: list[tuple[str, float, float, float]] = []  # line, top of its first char, bottom of its last, height
    try:
        count = textpage.count_chars()
        pos = 0
        for line in lines:
            body = line.strip()
            first = pos + len(line) - len(line.lstrip())
            last = pos + len(line.rstrip()) - 1
            if body and last < count:
                _, bottom0, _, top = textpage.get_charbox(first, loose=True)
                _, bottom, _, _ = textpage.get_charbox(last, loose=True)
                boxes.append((line, top, bottom, top - bottom0))
            pos += len(line) + 2
    except Exception:  # noqa: BLE001
        return _join([raw.replace("\r\n", "\n")])
    heights = sorted(h for *_, h in boxes if h > 0)
    median = heights[len(heights) // 2] if heights else 10.0
    groups: list[list[str]] = []
    previous_bottom: float | None = None
    for line, top, bottom, _ in boxes:
        gap = previous_bottom - top if previous_bottom is not None else 0.0
        if previous_bottom is None or gap > 0.6 * median or gap < -2 * median:
            groups.append([])  # a wider gap than leading, or a jump up (next column): new paragraph
        groups[-1].append(line)
        previous_bottom = bottom
    return _join(["\n".join(g) for g in groups])


def _join(texts: list[str]) -> list[str]:
    out: list[str] = []
    for text in texts:
        out.extend(paragraphs(clean(_SOFT.sub("", text.replace("\r", "")))))
    return out
