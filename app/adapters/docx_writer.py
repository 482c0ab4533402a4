"""DOCX output with python-docx: the *Vermerk* and letters (`DocumentWriter`, `LetterWriter` of app/core/export.py).

Every document leaves here either visibly marked as a draft (`DRAFT_LINE` in header and footer of every section,
custom properties `review_status=draft`, `ai_generated=true`) or – only with a named reviewer and time – as a
confirmed document without any draft line. The three building blocks are private helpers that work on any
python-docx `Document`, also one opened from an administration's letterhead:

- `_mark_draft(document, meta)`           header/footer marking (draft line, or "Geprüft von …" when final)
- `_set_custom_properties(document, props)` docProps/custom.xml (python-docx has no API for it)
- `_save_atomic(document, path)`          temporary file in the target folder, fsync, `os.replace`

Letterhead templates (.dotx): python-docx refuses a package whose main part has the content type
`application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml`. To start from a .dotx, read
the zip into memory, rewrite that content type in `[Content_Types].xml` to
`application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml` (copy every other member
unchanged) and open the result with `docx.Document(io.BytesIO(...))`. A .docx letterhead opens directly.
`_open_letterhead` does exactly that.

Letters (`DocxWriter.write_letter`) follow DIN 5008 Form B on A4: letterhead text, sender line and address field
(top 45 mm, left 25 mm, 85 mm wide), information block at 125 mm from the left edge, subject in bold without a
label, salutation, body, closing, room to sign, signature, enclosures. Placeholders matching `PLACEHOLDER_PATTERN`
(„[Frist eintragen]“) are written as runs of their own, bold and highlighted yellow; `placeholders_in` reads them
back from a written file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import docx
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import (
    WD_ALIGN_PARAGRAPH,
    WD_COLOR_INDEX,
    WD_LINE_SPACING,
    WD_TAB_ALIGNMENT,
)
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from lxml import etree

from app.core.errors import AktenlotseError
from app.core.export import (
    DRAFT_LINE,
    PLACEHOLDER_PATTERN,
    DraftMeta,
    LetterDocument,
    MemoDocument,
)

CUSTOM_PROPS_PARTNAME = "/docProps/custom.xml"
CUSTOM_PROPS_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CUSTOM_PROPS_RELTYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_NS_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the user-defined property set (what Word writes)

DRAFT_AUTHOR = "Aktenlotse (KI-Entwurf)"
FINAL_AUTHOR = "Aktenlotse"
FONT_NAME = "Arial"
DRAFT_COLOR = RGBColor(0xC0, 0x00, 0x00)  # dark red
TEXT_COLOR = RGBColor(0x00, 0x00, 0x00)
MUTED_COLOR = RGBColor(0x40, 0x40, 0x40)

# Characters XML 1.0 cannot hold (model output may contain them); lxml would refuse the whole document.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SOURCE_NUMBER = re.compile(r"^(\[\d+\])\s+")
_PLACEHOLDER = re.compile(PLACEHOLDER_PATTERN)
_BULLET = re.compile(r"^\s*[-•]\s+")  # "- Punkt" (and "• Punkt") at the start of a line makes a bullet
_SIGNATURE_ADDITION = re.compile(r"^(im auftrag|in vertretung|im namen|i\.\s?a\.|i\.\s?v\.)", re.IGNORECASE)

# Letters: DIN 5008 Form B on A4 (all distances from the page edges).
BRIEF_MARKER = "{{BRIEF}}"  # a paragraph with this text in a letterhead's body is replaced by the letter
LETTERHEAD_SUFFIXES = (".docx", ".dotx")
_TEMPLATE_MAIN_CT = b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
_DOCUMENT_MAIN_CT = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_LETTERHEAD_MAX_BYTES = 50 * 1024 * 1024  # a letterhead with logos is a few MB; the unpacked limit guards zip bombs
_LETTERHEAD_MAX_UNPACKED = 200 * 1024 * 1024
ADDRESS_TOP = Mm(45)  # address field: top edge …
ADDRESS_HEIGHT = Mm(45)  # … 45 mm high: 17.7 mm "Zusatz- und Vermerkzone" (sender line at its bottom) + 27.3 mm
ADDRESS_NOTE_ZONE = Mm(17.7)
INFO_LEFT = Mm(125)  # information block: 125 mm from the left page edge …
INFO_OFFSET = Mm(5)  # … starting 5 mm below the top of the address field (50 mm from the page top)
INFO_WIDTH = Mm(75)
INFO_LABEL_MIN = Mm(20)
HIGHLIGHT = WD_COLOR_INDEX.YELLOW


def _clean(text: str) -> str:
    return _XML_INVALID.sub("", text)


def _german_datetime(value: datetime) -> str:
    return value.strftime("%d.%m.%Y, %H:%M Uhr")


class DocxWriter:
    """Writes DOCX files; implements `app.core.export.DocumentWriter`."""

    def __init__(self, font_name: str = FONT_NAME, font_size_pt: float = 11) -> None:
        self._font_name = font_name
        self._font_size = Pt(font_size_pt)

    # -- DocumentWriter ------------------------------------------------------------------------------------------

    def write_memo(self, doc: MemoDocument, meta: DraftMeta, path: Path) -> Path:
        meta.check()
        path = Path(path)
        _check_target(path)
        document = docx.Document()
        _setup_page(document)
        self._setup_styles(document)
        self._memo_body(document, doc, meta)
        _mark_draft(document, meta)
        _set_core_properties(document, meta, title=doc.title, subject=doc.subject)
        _set_custom_properties(document, meta.properties())
        return _save_atomic(document, path)

    def read_properties(self, path: Path) -> dict[str, str]:
        return read_custom_properties(Path(path))

    # -- LetterWriter --------------------------------------------------------------------------------------------

    def write_letter(self, doc: LetterDocument, meta: DraftMeta, path: Path, letterhead: Path | None = None) -> Path:
        """Write a DIN 5008 (Form B) letter atomically; return the path written.

        Without `letterhead` the built-in layout is used: A4, margins left 25 mm / right 20 mm, Arial 11 pt, the
        authority's name (`doc.authority`) bold at the top right of page 1, then sender line, address field and
        information block at their DIN positions.

        With `letterhead` (a .docx or .dotx of the administration) the letter starts from that file: its headers,
        footers, logos, styles and page margins stay as they are, and `doc.authority` is not written (the letterhead
        names the authority). Where the letter goes:
        - a body paragraph whose whole text is ``{{BRIEF}}`` is replaced by the letter (the convention for
          templates that have fixed text or a logo in the body);
        - otherwise the letter is appended after the template's body; a body that holds nothing but empty
          paragraphs is emptied first.
        The draft line (or, once confirmed, the review line) is added to every header and footer of the template
        in addition to its own content. A letterhead that is missing or cannot be opened raises `AktenlotseError`
        and nothing is written.

        Every placeholder like „[Frist eintragen]“ becomes a run of its own, bold and highlighted yellow.
        """
        meta.check()
        if meta.kind != "brief":
            meta = dataclasses.replace(meta, kind="brief")
        path = Path(path)
        _check_target(path)
        if letterhead is not None:
            document = _open_letterhead(Path(letterhead))
            marker = _prepare_letterhead_body(document)
            start = len(_body_blocks(document))
            self._letter_body(document, doc, built_in=False)
            if marker is not None:
                _move_blocks_to(document, start, marker)
        else:
            document = docx.Document()
            _setup_page(document)
            self._setup_styles(document)
            self._setup_letter_styles(document)
            self._letter_body(document, doc, built_in=True)
        _mark_draft(document, meta)
        first_recipient = next((line for line in doc.recipient_lines if line.strip()), "")
        _set_core_properties(document, meta, title=doc.subject,
                             subject=f"Schreiben an {first_recipient}" if first_recipient else "Schreiben")
        _set_custom_properties(document, meta.properties())
        return _save_atomic(document, path)

    # -- the letter ----------------------------------------------------------------------------------------------

    def _setup_letter_styles(self, document: DocxDocument) -> None:
        normal = document.styles["Normal"]
        normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.line_spacing = 1.0
        bullet = document.styles["List Bullet"]
        bullet.paragraph_format.line_spacing = 1.0

    def _letter_body(self, document: DocxDocument, doc: LetterDocument, *, built_in: bool) -> None:
        section = document.sections[-1]
        text_width = section.page_width - section.left_margin - section.right_margin
        self._letter_head(document, doc, section, text_width, built_in=built_in)

        subject = document.add_paragraph()
        subject.paragraph_format.space_before = Pt(26)  # two empty lines below the address field
        subject.paragraph_format.space_after = Pt(24)  # an empty line (and a bit) before the salutation
        subject.paragraph_format.keep_with_next = True
        _add_text(subject, doc.subject, bold=True)

        if doc.salutation.strip():
            salutation = document.add_paragraph()
            salutation.paragraph_format.space_after = Pt(12)
            _add_text(salutation, doc.salutation)

        for block in doc.body:
            self._body_block(document, block)

        closing = document.add_paragraph()
        closing.paragraph_format.space_before = Pt(0)
        closing.paragraph_format.keep_with_next = True
        _add_text(closing, doc.closing)

        signature = [line for line in doc.signature if line.strip()]
        addition = signature.pop(0) if signature and _SIGNATURE_ADDITION.match(signature[0].strip()) else None
        if addition is not None:  # "Im Auftrag" goes above the room to sign, the name below it
            par = document.add_paragraph()
            par.paragraph_format.space_before = Pt(12)
            par.paragraph_format.keep_with_next = True
            _add_text(par, addition)
        for i, line in enumerate(signature):
            par = document.add_paragraph()
            if i == 0:
                par.paragraph_format.space_before = Pt(38)  # two empty lines and some: room to sign
            par.paragraph_format.keep_with_next = i < len(signature) - 1
            _add_text(par, line)
        if not signature:  # still leave room to sign
            document.paragraphs[-1].paragraph_format.space_after = Pt(38)

        enclosures = [e for e in doc.enclosures if e.strip()]
        if enclosures:
            heading = document.add_paragraph()
            heading.paragraph_format.space_before = Pt(24)
            heading.paragraph_format.keep_with_next = True
            heading.add_run("Anlage" if len(enclosures) == 1 else "Anlagen").bold = True
            for i, enclosure in enumerate(enclosures):
                par = document.add_paragraph()
                par.paragraph_format.keep_with_next = i < len(enclosures) - 1
                _add_text(par, enclosure)

    def _letter_head(self, document: DocxDocument, doc: LetterDocument, section, text_width: int, *,
                     built_in: bool) -> None:
        """Letterhead row (built-in layout only), then address field (left) and information block (right).

        A frameless table with fixed column widths: python-docx cannot make text frames, and a table keeps address
        and information block side by side in Word and LibreOffice alike.
        """
        left_width = INFO_LEFT - section.left_margin
        right_width = text_width - left_width
        overhang = 0
        if built_in:  # DIN 5008: the information block is 75 mm wide (to 10 mm from the right edge)
            overhang = max(0, INFO_WIDTH - right_width)
            right_width += overhang
        if left_width < Mm(60) or right_width < Mm(45):  # a template with unusual margins: share the width
            left_width = int(text_width * 0.58)
            right_width = text_width - left_width
        left_width, right_width = Emu(left_width), Emu(right_width)

        rows = 2 if built_in else 1
        table = document.add_table(rows=rows, cols=2)
        _plain_table(table, (left_width, right_width))

        if built_in:
            head = table.rows[0]
            head.height = Emu(max(ADDRESS_TOP - section.top_margin, Mm(10)))
            head.height_rule = WD_ROW_HEIGHT_RULE.EXACTLY
            cell = head.cells[0].merge(head.cells[1])
            if overhang:  # the letterhead ends at the right text margin, not at the information block's edge
                _cell_right_margin(cell, overhang)
            par = cell.paragraphs[0]
            par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _add_text(par, doc.authority.strip(), bold=True, size=Pt(14))

        row = table.rows[-1]
        row.height = ADDRESS_HEIGHT
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST  # more than six address lines make it grow, never clip
        address, info = row.cells

        # Address field: sender line at the bottom of the 17.7 mm "Zusatz- und Vermerkzone", then the recipient.
        sender_height = Pt(9)
        par = address.paragraphs[0]
        fmt = par.paragraph_format
        fmt.space_before = Emu(ADDRESS_NOTE_ZONE - sender_height - Mm(1))
        fmt.space_after = Mm(1)
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = sender_height
        if doc.sender_line.strip():
            _add_text(par, doc.sender_line.strip(), size=Pt(7), underline=True)
        for line in doc.recipient_lines:
            par = address.add_paragraph()
            fmt = par.paragraph_format
            fmt.space_before = fmt.space_after = Pt(0)
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = Pt(12.5)  # six lines fit the 27.3 mm address zone
            _add_text(par, line)

        # Information block: label (small, grey) and value, one line each; long values wrap under the value.
        label_width = _info_label_width([label for label, _ in doc.info], right_width)
        first = True
        for label, value in doc.info:
            par = info.paragraphs[0] if first else info.add_paragraph()
            fmt = par.paragraph_format
            fmt.space_before = INFO_OFFSET if first else Pt(0)
            fmt.space_after = Pt(2)
            fmt.line_spacing = 1.0
            fmt.left_indent = label_width
            fmt.first_line_indent = -label_width
            fmt.tab_stops.add_tab_stop(label_width, WD_TAB_ALIGNMENT.LEFT)
            label = _clean(label).strip()
            label_run = par.add_run(label)
            label_run.font.size = Pt(8)
            label_run.font.color.rgb = MUTED_COLOR
            par.add_run("\t").font.size = Pt(9)
            _add_text(par, value.strip(), size=Pt(9))
            first = False

    def _body_block(self, document: DocxDocument, block: str) -> None:
        """One body paragraph; lines starting with "- " become bullets, other lines stay together (line breaks)."""
        lines = [line for line in _clean(block).split("\n") if line.strip()]
        plain: list[str] = []
        pars: list[Paragraph] = []

        def flush() -> None:
            if plain:
                par = document.add_paragraph()
                _add_text(par, "\n".join(line.strip() for line in plain))
                pars.append(par)
                plain.clear()

        for line in lines:
            match = _BULLET.match(line)
            if match:
                flush()
                pars.append(_bullet_paragraph(document, line[match.end():].strip()))
            else:
                plain.append(line)
        flush()
        for i, par in enumerate(pars):
            is_bullet = par.style is not None and par.style.name == "List Bullet" or par.text.startswith("•\t")
            last = i == len(pars) - 1
            par.paragraph_format.space_after = Pt(12) if last else (Pt(3) if is_bullet else Pt(6))

    # -- the Vermerk ---------------------------------------------------------------------------------------------

    def _memo_body(self, document: DocxDocument, doc: MemoDocument, meta: DraftMeta) -> None:
        # python-docx's default document starts with no paragraph; everything below is appended in order.
        document.add_paragraph(_clean(doc.title or "Vermerk"), style="Title")

        date_text = doc.date_text.strip() or meta.created.strftime("%d.%m.%Y")
        date_par = document.add_paragraph(f"Datum: {_clean(date_text)}")
        date_par.alignment = WD_ALIGN_PARAGRAPH.RIGHT

        subject = document.add_paragraph()
        subject.paragraph_format.space_before = Pt(6)
        subject.paragraph_format.space_after = Pt(10)
        subject.add_run("Betreff: ").bold = True
        subject.add_run(_clean(doc.subject)).bold = True

        if doc.info:
            for label, value in doc.info:
                self._info_line(document, label, value)
            document.paragraphs[-1].paragraph_format.space_after = Pt(10)

        for section in doc.sections:
            document.add_paragraph(_clean(section.heading), style="Heading 2")
            if section.bullets:
                for bullet in section.bullets:
                    document.add_paragraph(_clean(bullet), style="List Bullet")
            else:
                empty = document.add_paragraph()
                empty.add_run(_clean(section.empty_text)).italic = True

        if doc.notes:
            document.add_paragraph("Hinweise zur Prüfung", style="Heading 2")
            for note in doc.notes:
                document.add_paragraph(_clean(note), style="List Bullet")

        if doc.sources:
            document.add_paragraph("Quellen", style="Heading 2")
            for source in doc.sources:
                self._source_line(document, source)

    def _info_line(self, document: DocxDocument, label: str, value: str) -> None:
        """'Label:<tab>Value' with a hanging indent, so long values wrap under the value column (no table grid)."""
        par = document.add_paragraph()
        fmt = par.paragraph_format
        fmt.left_indent = Cm(4)
        fmt.first_line_indent = Cm(-4)
        fmt.space_after = Pt(0)
        fmt.tab_stops.add_tab_stop(Cm(4), WD_TAB_ALIGNMENT.LEFT)
        label = _clean(label).strip()
        label_run = par.add_run(label if label.endswith(":") else f"{label}:")
        label_run.font.color.rgb = MUTED_COLOR
        par.add_run("\t" + _clean(value))

    def _source_line(self, document: DocxDocument, source: str) -> None:
        """'[n]<tab>file, page …' with a hanging indent: looks like a numbered list, keeps the model's numbers."""
        par = document.add_paragraph()
        fmt = par.paragraph_format
        fmt.left_indent = Cm(1)
        fmt.first_line_indent = Cm(-1)
        fmt.space_after = Pt(2)
        fmt.tab_stops.add_tab_stop(Cm(1), WD_TAB_ALIGNMENT.LEFT)
        text = _clean(source)
        match = _SOURCE_NUMBER.match(text)
        if match:
            par.add_run(match.group(1) + "\t" + text[match.end():])
        else:
            par.add_run(text)
        for run in par.runs:
            run.font.size = Pt(10)

    def _setup_styles(self, document: DocxDocument) -> None:
        styles = document.styles
        normal = styles["Normal"]
        _style_font(normal, self._font_name, self._font_size, color=TEXT_COLOR)
        _set_language(normal, "de-DE")
        normal.paragraph_format.space_after = Pt(4)
        normal.paragraph_format.line_spacing = 1.15

        title = styles["Title"]
        _style_font(title, self._font_name, Pt(18), bold=True, color=TEXT_COLOR)
        title.paragraph_format.space_after = Pt(6)
        for border in title.element.iter(qn("w:bottom")):  # the default template's blue rule under the title
            border.set(qn("w:color"), "808080")
            border.attrib.pop(qn("w:themeColor"), None)

        for name, size in (("Heading 1", Pt(14)), ("Heading 2", Pt(12)), ("Heading 3", Pt(11))):
            style = styles[name]
            _style_font(style, self._font_name, size, bold=True, color=TEXT_COLOR)
            style.paragraph_format.space_before = Pt(12)
            style.paragraph_format.space_after = Pt(3)
            style.paragraph_format.keep_with_next = True

        bullet = styles["List Bullet"]
        _style_font(bullet, self._font_name, self._font_size)
        bullet.paragraph_format.space_after = Pt(2)

        for name in ("Header", "Footer"):
            if name in [s.name for s in styles]:
                _style_font(styles[name], self._font_name, Pt(9))


# -- helpers shared by every document kind ---------------------------------------------------------------------


def _check_target(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise AktenlotseError(f"Der Zielordner existiert nicht: {folder}", str(path))
    if path.is_dir():
        raise AktenlotseError(f"Am Speicherort gibt es bereits einen Ordner mit diesem Namen: {path.name}",
                              str(path))


def _setup_page(document: DocxDocument) -> None:
    """A4 portrait, margins in the DIN 5008 ballpark (left 2.5 cm, right 2 cm)."""
    for section in document.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width = Cm(21.0)
        section.page_height = Cm(29.7)
        section.left_margin = Cm(2.5)
        section.right_margin = Cm(2.0)
        section.top_margin = Cm(2.5)
        section.bottom_margin = Cm(2.5)
        section.header_distance = Cm(1.0)
        section.footer_distance = Cm(1.0)


def _style_font(style, name: str, size: Pt | None = None, *, bold: bool | None = None,
                color: RGBColor | None = None) -> None:
    """Set a style's font; removes theme font references, which would otherwise win over the explicit name."""
    font = style.font
    font.name = name
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is not None:
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
            rfonts.attrib.pop(qn(attr), None)
        rfonts.set(qn("w:cs"), name)
    if size is not None:
        font.size = size
    if bold is not None:
        font.bold = bold
    if color is not None:
        font.color.rgb = color


def _set_language(style, lang: str) -> None:
    """German spell checking in Word and LibreOffice."""
    rpr = style.element.get_or_add_rPr()
    el = rpr.find(qn("w:lang"))
    if el is None:
        el = OxmlElement("w:lang")
        rpr.append(el)
    el.set(qn("w:val"), lang)


def _add_field(paragraph: Paragraph, instruction: str, placeholder: str = "1") -> None:
    """A complex field (PAGE, NUMPAGES) that Word and LibreOffice update when the document is shown."""
    def fld_char(kind: str):
        run = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)
        return run

    fld_char("begin")
    instr_run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    instr_run._r.append(instr)
    fld_char("separate")
    paragraph.add_run(placeholder)
    fld_char("end")


def _header_footers(document: DocxDocument):
    """Every header and footer a page of the document can show (first-page and even-page ones when enabled)."""
    odd_even = document.settings.odd_and_even_pages_header_footer
    for section in document.sections:
        yield "header", section.header
        yield "footer", section.footer
        if section.different_first_page_header_footer:
            yield "header", section.first_page_header
            yield "footer", section.first_page_footer
        if odd_even:
            yield "header", section.even_page_header
            yield "footer", section.even_page_footer


def _top_paragraph(hf) -> Paragraph:
    """An empty paragraph at the top of a header/footer (reusing the empty one a new definition has)."""
    paragraphs = hf.paragraphs
    if paragraphs and not paragraphs[0].text.strip() and not paragraphs[0].runs:
        return paragraphs[0]
    if paragraphs:
        return paragraphs[0].insert_paragraph_before()
    return hf.add_paragraph()


def _mark_draft(document: DocxDocument, meta: DraftMeta) -> None:
    """Draft: `DRAFT_LINE` (bold, dark red) at the top of every header and footer. Final: "Geprüft von …" instead.

    Works on template-based documents too: a linked (inherited) header/footer resolves to the same definition as
    its predecessor, so each definition is marked once (the line is not added twice). The footer also gets
    "Seite X von Y".
    """
    if meta.is_final:
        when = _german_datetime(meta.reviewed_at) if meta.reviewed_at else ""
        review_line = f"Geprüft von {meta.reviewer.strip()} am {when}"
    done: list[object] = []  # the header/footer parts already handled
    for kind, hf in _header_footers(document):
        part = hf.part  # resolves (creating it only for the first section) the definition this one shows
        if any(part is seen for seen in done):
            continue
        done.append(part)
        if not meta.is_final:
            if any(p.text == DRAFT_LINE for p in hf.paragraphs):
                continue
            par = _top_paragraph(hf)
            par.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = par.add_run(DRAFT_LINE)
            run.bold = True
            run.font.size = Pt(10)
            run.font.color.rgb = DRAFT_COLOR
        elif kind == "footer":
            par = _top_paragraph(hf)
            par.alignment = WD_ALIGN_PARAGRAPH.LEFT
            run = par.add_run(review_line)
            run.font.size = Pt(9)
            run.font.color.rgb = MUTED_COLOR
        if kind == "footer":
            _page_number_line(hf)


def _page_number_line(footer) -> None:
    par = footer.add_paragraph()
    par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    par.add_run("Seite ")
    _add_field(par, "PAGE")
    par.add_run(" von ")
    _add_field(par, "NUMPAGES")
    for run in par.runs:
        run.font.size = Pt(9)
        run.font.color.rgb = MUTED_COLOR


def _set_core_properties(document: DocxDocument, meta: DraftMeta, *, title: str, subject: str) -> None:
    """docProps/core.xml: title/subject, authorship (never python-docx's default author), draft note."""
    core = document.core_properties
    core.title = _clean(title)[:255]
    core.subject = _clean(subject)[:255]
    core.language = "de-DE"
    core.created = meta.created.astimezone(timezone.utc)
    core.modified = datetime.now(timezone.utc)
    core.revision = 1
    core.keywords = ""
    core.category = "Vermerk" if meta.kind == "vermerk" else "Schreiben"
    if meta.is_final:
        core.author = FINAL_AUTHOR
        core.last_modified_by = meta.reviewer.strip()[:255]
        reviewed = _german_datetime(meta.reviewed_at) if meta.reviewed_at else ""
        core.comments = f"Geprüft von {meta.reviewer.strip()} am {reviewed}"[:255]
    else:
        core.author = DRAFT_AUTHOR
        core.last_modified_by = DRAFT_AUTHOR
        core.comments = DRAFT_LINE


def _custom_properties_xml(props: dict[str, str], keep: list[etree._Element] | None = None) -> bytes:
    root = etree.Element(f"{{{_NS_CUSTOM}}}Properties", nsmap={None: _NS_CUSTOM, "vt": _NS_VT})
    pid = 2  # pids 0 and 1 are reserved
    for foreign in keep or []:
        root.append(foreign)
        with contextlib.suppress(ValueError, TypeError):
            pid = max(pid, int(foreign.get("pid", "")) + 1)
    for name, value in props.items():
        prop = etree.SubElement(root, f"{{{_NS_CUSTOM}}}property", fmtid=_FMTID, pid=str(pid), name=_clean(name))
        pid += 1
        if name == "ai_generated" and value in ("true", "false"):
            etree.SubElement(prop, f"{{{_NS_VT}}}bool").text = value
        else:
            etree.SubElement(prop, f"{{{_NS_VT}}}lpwstr").text = _clean(str(value))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _set_custom_properties(document: DocxDocument, props: dict[str, str]) -> None:
    """Write docProps/custom.xml, related from the package (where Word and LibreOffice look for it).

    A template's existing custom properties are kept, except those named in `props`, which are replaced.
    """
    package = document.part.package
    keep: list[etree._Element] = []
    for rid, rel in list(package.rels.items()):
        if rel.reltype != CUSTOM_PROPS_RELTYPE or rel.is_external:
            continue
        try:
            old = etree.fromstring(rel.target_part.blob, parser=_safe_parser())
            keep += [p for p in old if p.get("name") not in props]
        except etree.XMLSyntaxError:
            pass  # a broken part from a template is dropped
        del package.rels[rid]  # unreachable parts are not written
    part = Part(PackURI(CUSTOM_PROPS_PARTNAME), CUSTOM_PROPS_CONTENT_TYPE,
                _custom_properties_xml(props, keep), package)
    package.relate_to(part, CUSTOM_PROPS_RELTYPE)


def _save_atomic(document: DocxDocument, path: Path) -> Path:
    """Save to a temporary file next to `path`, fsync, then `os.replace` – `path` is either old or new, never half.

    Any failure removes the temporary file and leaves an existing `path` untouched.
    """
    path = Path(path)
    _check_target(path)
    tmp_name: str | None = None
    try:
        with tempfile.NamedTemporaryFile(delete=False, dir=path.parent, prefix=".~aktenlotse-",
                                         suffix=".docx.tmp") as tmp:
            tmp_name = tmp.name
            document.save(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        if os.name == "posix":  # NamedTemporaryFile creates 0600; give the file the usual mode (or the old one)
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
        tmp_name = None
    except PermissionError as exc:
        raise AktenlotseError(
            f"Das Dokument konnte nicht gespeichert werden: „{path.name}“ ist geöffnet oder schreibgeschützt. "
            "Bitte schließen Sie die Datei (z. B. in Word) oder wählen Sie einen anderen Speicherort.",
            f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        raise AktenlotseError(f"Das Dokument konnte nicht gespeichert werden: {path.name}",
                              f"{type(exc).__name__}: {exc}") from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    return path


# -- letters: text with placeholders, the layout table, letterheads -------------------------------------------


def _add_text(paragraph: Paragraph, text: str, *, bold: bool | None = None, size: Pt | None = None,
              underline: bool | None = None) -> None:
    """Append `text`; each placeholder becomes its own run (bold, highlighted yellow), "\n" a line break."""
    for n, line in enumerate(_clean(text).split("\n")):
        if n:
            paragraph.add_run().add_break()
        pos = 0
        for match in _PLACEHOLDER.finditer(line):
            if match.start() > pos:
                _styled_run(paragraph, line[pos:match.start()], bold=bold, size=size, underline=underline)
            run = _styled_run(paragraph, match.group(0), bold=True, size=size, underline=underline)
            run.font.highlight_color = HIGHLIGHT
            pos = match.end()
        if pos < len(line):
            _styled_run(paragraph, line[pos:], bold=bold, size=size, underline=underline)


def _styled_run(paragraph: Paragraph, text: str, *, bold: bool | None, size: Pt | None, underline: bool | None):
    run = paragraph.add_run(text)
    if bold is not None:
        run.bold = bold
    if size is not None:
        run.font.size = size
    if underline is not None:
        run.underline = underline
    return run


def _bullet_paragraph(document: DocxDocument, text: str) -> Paragraph:
    """A "List Bullet" paragraph; a letterhead without that style gets "•" and a hanging indent instead."""
    try:
        style = document.styles["List Bullet"]
    except KeyError:
        style = None
    if style is not None:
        par = document.add_paragraph(style=style)
        _add_text(par, text)
        return par
    par = document.add_paragraph()
    fmt = par.paragraph_format
    fmt.left_indent = Mm(6)
    fmt.first_line_indent = Mm(-6)
    fmt.tab_stops.add_tab_stop(Mm(6), WD_TAB_ALIGNMENT.LEFT)
    par.add_run("•\t")
    _add_text(par, text)
    return par


def _plain_table(table, widths: tuple[int, ...]) -> None:
    """Fixed column widths, no borders, no cell padding (text starts exactly at the column edge), not indented."""
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    for tag in ("w:tblStyle", "w:tblBorders", "w:tblCellMar", "w:tblLayout", "w:tblInd", "w:tblLook"):
        for el in tbl_pr.findall(qn(tag)):
            tbl_pr.remove(el)
    # CT_TblPr is a sequence: insert each child where the schema wants it (python-docx does not know all of them)
    ind = OxmlElement("w:tblInd")
    ind.set(qn("w:w"), "0")
    ind.set(qn("w:type"), "dxa")
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    margins = OxmlElement("w:tblCellMar")
    for edge in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), "0")
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    order = ["w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
             "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
             "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription"]
    for new in (ind, borders, layout, margins):
        tag = new.tag
        pos = order.index(next(o for o in order if qn(o) == tag))
        later = {qn(o) for o in order[pos + 1:]}
        follower = next((child for child in tbl_pr if child.tag in later), None)
        if follower is None:
            tbl_pr.append(new)
        else:
            follower.addprevious(new)
    for col, width in zip(table.columns, widths):
        col.width = width
        for cell in col.cells:
            cell.width = width


def _info_label_width(labels: list[str], column_width: int) -> Emu:
    """Where the values start: after the longest label (8 pt, generously estimated for wide template fonts)."""
    longest = max((len(_clean(label).strip()) for label in labels), default=0)
    estimate = Pt(8 * 0.58 * longest + 6)
    return Emu(int(min(max(estimate, INFO_LABEL_MIN), column_width * 0.45)))


def _cell_right_margin(cell, width: int) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    mar = OxmlElement("w:tcMar")
    right = OxmlElement("w:right")
    right.set(qn("w:w"), str(int(Emu(width).twips)))
    right.set(qn("w:type"), "dxa")
    mar.append(right)
    # tcMar comes after tcW/gridSpan/vMerge/tcBorders/shd/noWrap and before textDirection/vAlign/…
    follower = next((c for c in tc_pr if c.tag in {qn(t) for t in ("w:textDirection", "w:tcFitText", "w:vAlign",
                                                                      "w:hideMark")}), None)
    if follower is None:
        tc_pr.append(mar)
    else:
        follower.addprevious(mar)


def _open_letterhead(path: Path) -> DocxDocument:
    """The letterhead as a python-docx document (.dotx: main part content type rewritten in memory)."""
    name = path.name

    def refuse(reason: str, detail: str) -> AktenlotseError:
        return AktenlotseError(f"Die Briefvorlage „{name}“ kann nicht geöffnet werden: {reason} Bitte prüfen Sie "
                               "die Briefvorlage in den Einstellungen oder wenden Sie sich an die IT.", detail)

    if path.suffix.lower() not in LETTERHEAD_SUFFIXES:
        raise refuse("Unterstützt werden Word-Dokumente (.docx) und Word-Vorlagen (.dotx).", str(path))
    try:
        if path.stat().st_size > _LETTERHEAD_MAX_BYTES:
            raise refuse("Die Datei ist zu groß.", f"{path}: {path.stat().st_size} Bytes")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise refuse("Die Datei wurde nicht gefunden.", f"{type(exc).__name__}: {exc}") from exc
    except OSError as exc:
        raise refuse("Die Datei kann nicht gelesen werden.", f"{type(exc).__name__}: {exc}") from exc
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(info.file_size for info in zf.infolist()) > _LETTERHEAD_MAX_UNPACKED:
                raise refuse("Die Datei ist zu groß.", f"{path}: entpackt über {_LETTERHEAD_MAX_UNPACKED} Bytes")
            types = zf.read("[Content_Types].xml")
            if _TEMPLATE_MAIN_CT in types:
                out = io.BytesIO()
                with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
                    for info in zf.infolist():
                        member = zf.read(info.filename)
                        if info.filename == "[Content_Types].xml":
                            member = member.replace(_TEMPLATE_MAIN_CT, _DOCUMENT_MAIN_CT)
                        zout.writestr(info, member)
                data = out.getvalue()
        return docx.Document(io.BytesIO(data))
    except AktenlotseError:
        raise
    except Exception as exc:  # BadZipFile, KeyError, ValueError (not a Word document), lxml errors, …
        raise refuse("Die Datei ist kein lesbares Word-Dokument (.docx) und keine Word-Vorlage (.dotx).",
                     f"{type(exc).__name__}: {exc}") from exc


def _body_blocks(document: DocxDocument) -> list:
    """The body's paragraphs and tables (everything but the final section properties)."""
    return [el for el in document.element.body if el.tag in (qn("w:p"), qn("w:tbl"), qn("w:sdt"))]


def _is_empty_paragraph(el) -> bool:
    if el.tag != qn("w:p"):
        return False
    if "".join(t.text or "" for t in el.iter(qn("w:t"))).strip():
        return False
    return not any(True for tag in ("w:drawing", "w:pict", "w:object", "w:fldSimple", "w:fldChar")
                   for _ in el.iter(qn(tag)))


def _prepare_letterhead_body(document: DocxDocument):
    """The `{{BRIEF}}` paragraph if there is one; else an empty-ish body is emptied (section breaks stay)."""
    body = document.element.body
    for par in document.paragraphs:
        if par.text.strip() == BRIEF_MARKER:
            return par._p
    blocks = _body_blocks(document)
    if all(_is_empty_paragraph(el) for el in blocks):
        for el in blocks:
            ppr = el.find(qn("w:pPr"))
            if ppr is not None and ppr.find(qn("w:sectPr")) is not None:
                continue  # the end of a section: keep the paragraph (it carries the section's settings)
            body.remove(el)
    return None


def _move_blocks_to(document: DocxDocument, start: int, marker) -> None:
    """Move the blocks appended since `start` to where the `{{BRIEF}}` paragraph is, then drop the marker."""
    new_blocks = _body_blocks(document)[start:]
    for el in new_blocks:
        marker.addprevious(el)
    ppr = marker.find(qn("w:pPr"))
    if ppr is not None and ppr.find(qn("w:sectPr")) is not None:
        for child in list(marker):  # the marker ends a section: keep the paragraph and its section settings
            if child.tag != qn("w:pPr"):
                marker.remove(child)
    else:
        marker.getparent().remove(marker)


def placeholders_in(path: Path) -> list[str]:
    """The placeholders („[Frist eintragen]“ …) in a written DOCX's body, in reading order, every occurrence.

    Reads the text (tables included), not the highlighting, so a placeholder counts even after someone removed
    the yellow marking by hand.
    """
    path = Path(path)
    try:
        document = docx.Document(str(path))
    except Exception as exc:
        raise AktenlotseError(f"Die Datei ist kein lesbares Word-Dokument: {path.name}",
                              f"{type(exc).__name__}: {exc}") from exc
    found: list[str] = []
    for p in document.element.body.iter(qn("w:p")):
        found += [m.group(0) for m in _PLACEHOLDER.finditer(Paragraph(p, document._body).text)]
    return found


# -- reading the custom properties back ------------------------------------------------------------------------


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def _custom_part_name(zf: zipfile.ZipFile) -> str | None:
    """The custom-properties part named by the package relationships (`_rels/.rels`), else the usual name."""
    try:
        rels = etree.fromstring(zf.read("_rels/.rels"), parser=_safe_parser())
    except (KeyError, etree.XMLSyntaxError):
        rels = None
    if rels is not None:
        for rel in rels.iter(f"{{{_NS_PKG_RELS}}}Relationship"):
            if rel.get("Type") == CUSTOM_PROPS_RELTYPE and rel.get("TargetMode") != "External":
                target = (rel.get("Target") or "").lstrip("/")
                return str(PurePosixPath(target)) if target else None
        return None
    return CUSTOM_PROPS_PARTNAME.lstrip("/") if CUSTOM_PROPS_PARTNAME.lstrip("/") in zf.namelist() else None


def read_custom_properties(path: Path) -> dict[str, str]:
    """Name → value (as text; booleans as "true"/"false") of a DOCX's custom properties; {} when it has none."""
    try:
        with zipfile.ZipFile(path) as zf:
            name = _custom_part_name(zf)
            if name is None:
                return {}
            try:
                data = zf.read(name)
            except KeyError:
                return {}
    except FileNotFoundError as exc:
        raise AktenlotseError(f"Die Datei wurde nicht gefunden: {Path(path).name}", str(exc)) from exc
    except (OSError, zipfile.BadZipFile) as exc:
        raise AktenlotseError(f"Die Datei ist kein lesbares Word-Dokument: {Path(path).name}", str(exc)) from exc
    try:
        root = etree.fromstring(data, parser=_safe_parser())
    except etree.XMLSyntaxError as exc:
        raise AktenlotseError(f"Die Dokumenteigenschaften sind beschädigt: {Path(path).name}", str(exc)) from exc
    result: dict[str, str] = {}
    for prop in root.iter(f"{{{_NS_CUSTOM}}}property"):
        name = prop.get("name")
        value_el = next(iter(prop), None)
        if not name or value_el is None:
            continue
        value = value_el.text or ""
        if etree.QName(value_el).localname == "bool":
            value = "true" if value.strip().lower() in ("1", "true") else "false"
        result[name] = value
    return result
