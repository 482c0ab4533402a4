"""DOCX output with python-docx: the *Vermerk* now, letters later (`DocumentWriter` of app/core/export.py).

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
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import docx
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from lxml import etree

from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE, DraftMeta, MemoDocument

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
