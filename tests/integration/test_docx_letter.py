"""DocxWriter.write_letter: real DIN 5008 letters on disk, reopened with python-docx and as a zip – built-in layout,
placeholders, draft marking, and letterheads (.docx, .dotx, `{{BRIEF}}` marker, several sections, broken files)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_COLOR_INDEX

from app.adapters.docx_writer import DocxWriter, placeholders_in
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE, DraftMeta, LetterDocument, LetterWriter

CREATED = datetime(2026, 11, 25, 9, 41, 12)
REVIEWED = datetime(2026, 11, 26, 14, 5, 0)
LETTERHEAD_HEADER = "Stadt Musterstadt – Der Oberbürgermeister"
TEMPLATE_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
DOCUMENT_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"

BODY = (
    "mit Schreiben vom 03.11.2026 haben Sie eine Sondernutzungserlaubnis für Außengastronomie beantragt.",
    ("Die Straßenverkehrsbehörde hat Folgendes festgestellt:\n- Die Restgehwegbreite betrüge nur 1,10 m.\n"
     "- Erforderlich sind mindestens 1,50 m."),
    "- Die Fläche an der Schaufensterfront kann genehmigt werden.",
    "Sie können sich bis zum [Frist eintragen] äußern (§ 28 VwVfG). Bitte nennen Sie [Aktenzeichen prüfen].",
)


def _letter(**kw) -> LetterDocument:
    values: dict[str, object] = {
        "authority": "Stadt Musterstadt – Ordnungsamt",
        "sender_line": "Stadt Musterstadt · Marktplatz 1 · 12345 Musterstadt",
        "recipient_lines": ("Café Lindenblüte GmbH", "Frau Sabine Korte", "Marktplatz 7", "12345 Musterstadt"),
        "info": (("Ihr Zeichen", "SK/11"), ("Aktenzeichen", "32.4-SN/0815/2026"),
                 ("Ansprechpartner/in", "Jonas Weber"), ("Telefon", "0123 456-7890"), ("Datum", "25.11.2026")),
        "subject": "Anhörung vor Erlass eines Bescheides – Aktenzeichen 32.4-SN/0815/2026",
        "salutation": "Sehr geehrte Frau Korte,",
        "body": BODY,
        "closing": "Mit freundlichen Grüßen",
        "signature": ("Im Auftrag", "Jonas Weber"),
        "enclosures": ("Lageplan", "Stellungnahme der Straßenverkehrsbehörde"),
    }
    values.update(kw)
    return LetterDocument(**values)


def _draft_meta() -> DraftMeta:
    return DraftMeta(draft_id="b-0001", model="Qwen2.5-7B-Instruct Q4_K_M", model_sha256="ab" * 32,
                     created=CREATED, kind="brief")


def _final_meta() -> DraftMeta:
    return DraftMeta(draft_id="b-0002", model="Qwen2.5-7B-Instruct Q4_K_M", model_sha256="cd" * 32,
                     created=CREATED, kind="brief", review_status="confirmed", reviewer="Erika Mustermann",
                     reviewed_at=REVIEWED)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _all_paragraphs(document: DocxDocument) -> list:
    """Body paragraphs in reading order, table cells included (merged cells once)."""
    from docx.text.paragraph import Paragraph

    return [Paragraph(p, document._body) for p in document.element.body.iter(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}p")]


def _texts(document: DocxDocument) -> list[str]:
    return [p.text for p in _all_paragraphs(document) if p.text.strip()]


def _every_header_footer(document: DocxDocument):
    """Header and footer of every section, plus first-page/even-page ones where the section shows them."""
    for section in document.sections:
        yield section.header
        yield section.footer
        if section.different_first_page_header_footer:
            yield section.first_page_header
            yield section.first_page_footer


def _hf_text(hf) -> str:
    return "\n".join(p.text for p in hf.paragraphs)


def _all_xml_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith((".xml", ".rels")))


def _make_letterhead(path: Path, *, body: tuple[str, ...] = (), two_sections: bool = False) -> Path:
    """An administration's letterhead: its own header/footer text, optional body text, optionally 2 sections."""
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = LETTERHEAD_HEADER
    section.footer.paragraphs[0].text = "Bankverbindung: Sparkasse Musterstadt"
    for text in body:
        document.add_paragraph(text)
    if two_sections:
        section.different_first_page_header_footer = True
        section.first_page_header.paragraphs[0].text = "Erste Seite – " + LETTERHEAD_HEADER
        new = document.add_section(WD_SECTION.NEW_PAGE)
        new.header.is_linked_to_previous = False
        new.header.paragraphs[0].text = "Folgeabschnitt"
        new.different_first_page_header_footer = True
        document.add_paragraph("Rückseite")
    document.save(str(path))
    return path


def _as_dotx(docx_path: Path, dotx_path: Path) -> Path:
    """Turn a .docx into a real .dotx: same zip, main part content type of a template."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(docx_path) as zin, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                assert DOCUMENT_CT.encode() in data
                data = data.replace(DOCUMENT_CT.encode(), TEMPLATE_CT.encode())
            zout.writestr(info, data)
    dotx_path.write_bytes(buffer.getvalue())
    docx_path.unlink()
    return dotx_path


def test_writer_implements_the_letter_port() -> None:
    writer: LetterWriter = DocxWriter()
    assert callable(writer.write_letter)


def test_draft_letter_content_in_din_order(out: Path) -> None:
    path = out / "anhoerung.docx"
    written = DocxWriter().write_letter(_letter(), _draft_meta(), path)
    assert written == path and path.is_file()
    assert [p.name for p in out.iterdir()] == ["anhoerung.docx"]  # no temporary file left behind

    document = docx.Document(str(path))
    texts = _texts(document)
    info_lines = [t.replace("\t", " ") for t in texts]
    expected = [
        "Stadt Musterstadt – Ordnungsamt",
        "Stadt Musterstadt · Marktplatz 1 · 12345 Musterstadt",
        "Café Lindenblüte GmbH", "Frau Sabine Korte", "Marktplatz 7", "12345 Musterstadt",
        "Ihr Zeichen SK/11", "Aktenzeichen 32.4-SN/0815/2026", "Ansprechpartner/in Jonas Weber",
        "Telefon 0123 456-7890", "Datum 25.11.2026",
        "Anhörung vor Erlass eines Bescheides – Aktenzeichen 32.4-SN/0815/2026",
        "Sehr geehrte Frau Korte,",
        BODY[0],
        "Die Straßenverkehrsbehörde hat Folgendes festgestellt:",
        "Die Restgehwegbreite betrüge nur 1,10 m.", "Erforderlich sind mindestens 1,50 m.",
        "Die Fläche an der Schaufensterfront kann genehmigt werden.",
        BODY[3],
        "Mit freundlichen Grüßen", "Im Auftrag", "Jonas Weber",
        "Anlagen", "Lageplan", "Stellungnahme der Straßenverkehrsbehörde",
    ]
    assert info_lines == expected
    assert not any(t.startswith("Betreff") for t in texts)  # DIN 5008: no label

    pars = {p.text: p for p in _all_paragraphs(document) if p.text.strip()}
    subject = pars["Anhörung vor Erlass eines Bescheides – Aktenzeichen 32.4-SN/0815/2026"]
    assert subject.runs and all(r.bold for r in subject.runs)
    assert all(r.bold for r in pars["Stadt Musterstadt – Ordnungsamt"].runs)
    sender = pars["Stadt Musterstadt · Marktplatz 1 · 12345 Musterstadt"]
    assert all(r.font.size.pt <= 8 and r.underline for r in sender.runs)
    for bullet in ("Die Restgehwegbreite betrüge nur 1,10 m.", "Erforderlich sind mindestens 1,50 m.",
                   "Die Fläche an der Schaufensterfront kann genehmigt werden."):
        assert pars[bullet].style.name == "List Bullet"
    assert pars[BODY[0]].style.name != "List Bullet"
    assert pars["Die Straßenverkehrsbehörde hat Folgendes festgestellt:"].style.name != "List Bullet"
    # room to sign between "Im Auftrag" and the name
    assert pars["Jonas Weber"].paragraph_format.space_before.pt >= 24

    section = document.sections[0]
    assert abs(section.page_width.mm - 210) < 0.1 and abs(section.page_height.mm - 297) < 0.1
    assert abs(section.left_margin.mm - 25) < 0.1 and abs(section.right_margin.mm - 20) < 0.1
    assert document.styles["Normal"].font.name == "Arial" and document.styles["Normal"].font.size.pt == 11

    # DIN 5008 Form B geometry: address/info row starts 45 mm from the top, info block 125 mm from the left
    table = document.tables[0]
    head, address_row = table.rows
    assert abs(section.top_margin.mm + head.height.mm - 45) < 0.2
    assert abs(address_row.height.mm - 45) < 0.2
    address_cell, info_cell = address_row.cells
    assert abs(section.left_margin.mm + address_cell.width.mm - 125) < 0.2
    assert address_cell.width.mm >= 85
    assert "Café Lindenblüte GmbH" in address_cell.text and "Aktenzeichen" in info_cell.text

    core = document.core_properties
    assert core.title == "Anhörung vor Erlass eines Bescheides – Aktenzeichen 32.4-SN/0815/2026"
    assert core.author == "Aktenlotse (KI-Entwurf)" and core.comments == DRAFT_LINE


def test_draft_line_in_every_header_and_footer_and_page_numbers(out: Path) -> None:
    path = out / "brief.docx"
    DocxWriter().write_letter(_letter(), _draft_meta(), path)
    document = docx.Document(str(path))
    for hf in _every_header_footer(document):
        assert DRAFT_LINE in [p.text for p in hf.paragraphs]
    assert any(p.text.startswith("Seite ") for p in document.sections[0].footer.paragraphs)
    assert DRAFT_LINE not in _texts(document)  # the mark is in header/footer, not in the letter text


def test_draft_custom_properties(out: Path) -> None:
    path = out / "brief.docx"
    meta = _draft_meta()
    writer = DocxWriter()
    writer.write_letter(_letter(), meta, path)
    props = writer.read_properties(path)
    assert props == meta.properties()
    assert props["review_status"] == "draft" and props["kind"] == "brief" and props["ai_generated"] == "true"
    assert props["draft_id"] == "b-0001" and props["model"] == meta.model
    assert props["model_sha256"] == "ab" * 32 and props["created"] == "2026-11-25T09:41:12"


def test_kind_is_brief_even_if_the_caller_forgot(out: Path) -> None:
    path = out / "brief.docx"
    meta = DraftMeta(draft_id="x", model="m", model_sha256="00" * 32, created=CREATED)  # kind defaults to vermerk
    DocxWriter().write_letter(_letter(), meta, path)
    assert DocxWriter().read_properties(path)["kind"] == "brief"


def test_placeholders_are_highlighted_and_listed_in_order(out: Path) -> None:
    path = out / "brief.docx"
    letter = _letter(recipient_lines=("[Empfänger ergänzen]", "Marktplatz 7", "12345 Musterstadt"),
                     info=(("Aktenzeichen", "32.4"), ("Datum", "[Datum eintragen]")),
                     subject="Anhörung – [Betreff prüfen]")
    DocxWriter().write_letter(letter, _draft_meta(), path)

    assert placeholders_in(path) == ["[Empfänger ergänzen]", "[Datum eintragen]", "[Betreff prüfen]",
                                     "[Frist eintragen]", "[Aktenzeichen prüfen]"]
    document = docx.Document(str(path))
    runs = [r for p in _all_paragraphs(document) for r in p.runs]
    for placeholder in placeholders_in(path):
        run = next(r for r in runs if r.text == placeholder)  # a run of its own …
        assert run.font.highlight_color == WD_COLOR_INDEX.YELLOW and run.bold  # … bold and yellow
    plain = [r for r in runs if r.text and "[" not in r.text]
    assert plain and all(r.font.highlight_color is None for r in plain)
    body_par = next(p for p in _all_paragraphs(document) if p.text == BODY[3])
    assert [r.text for r in body_par.runs] == ["Sie können sich bis zum ", "[Frist eintragen]",
                                               " äußern (§ 28 VwVfG). Bitte nennen Sie ", "[Aktenzeichen prüfen]",
                                               "."]


def test_placeholders_in_a_letter_without_any(out: Path) -> None:
    path = out / "brief.docx"
    DocxWriter().write_letter(_letter(body=("Ohne Lücken.",)), _draft_meta(), path)
    assert placeholders_in(path) == []
    bad = out / "kaputt.docx"
    bad.write_bytes(b"kein zip")
    with pytest.raises(AktenlotseError):
        placeholders_in(bad)


def test_confirmed_letter_has_no_draft_line(out: Path) -> None:
    path = out / "final.docx"
    writer = DocxWriter()
    writer.write_letter(_letter(), _final_meta(), path)
    document = docx.Document(str(path))
    for hf in _every_header_footer(document):
        assert DRAFT_LINE not in _hf_text(hf)
    assert DRAFT_LINE not in _all_xml_text(path) and "ENTWURF" not in _all_xml_text(path)
    assert "Geprüft von Erika Mustermann am 26.11.2026" in _hf_text(document.sections[0].footer)
    props = writer.read_properties(path)
    assert props["review_status"] == "confirmed" and props["reviewer"] == "Erika Mustermann"
    assert props["reviewed_at"] == "2026-11-26T14:05:00" and props["kind"] == "brief"


def test_confirmed_without_reviewer_is_refused(out: Path) -> None:
    meta = DraftMeta(draft_id="x", model="m", model_sha256="00" * 32, created=CREATED, kind="brief",
                     review_status="confirmed", reviewer="", reviewed_at=REVIEWED)
    with pytest.raises(AktenlotseError):
        DocxWriter().write_letter(_letter(), meta, out / "final.docx")
    assert list(out.iterdir()) == []


def test_letterhead_docx_keeps_its_header_and_gets_the_draft_line(out: Path, tmp_path: Path) -> None:
    letterhead = _make_letterhead(tmp_path / "kopfbogen.docx")
    path = out / "brief.docx"
    DocxWriter().write_letter(_letter(), _draft_meta(), path, letterhead)

    document = docx.Document(str(path))
    header = [p.text for p in document.sections[0].header.paragraphs]
    footer = [p.text for p in document.sections[0].footer.paragraphs]
    assert LETTERHEAD_HEADER in header and DRAFT_LINE in header
    assert "Bankverbindung: Sparkasse Musterstadt" in footer and DRAFT_LINE in footer
    texts = _texts(document)
    assert texts[0] == "Stadt Musterstadt · Marktplatz 1 · 12345 Musterstadt"  # the empty template body is gone
    assert "Stadt Musterstadt – Ordnungsamt" not in texts  # the letterhead names the authority
    assert "Mit freundlichen Grüßen" in texts and "Jonas Weber" in texts
    assert placeholders_in(path) == ["[Frist eintragen]", "[Aktenzeichen prüfen]"]
    assert DocxWriter().read_properties(path)["kind"] == "brief"
    assert letterhead.is_file()  # the template itself is not touched


def test_letterhead_with_two_sections_and_first_page_header(out: Path, tmp_path: Path) -> None:
    letterhead = _make_letterhead(tmp_path / "kopfbogen.docx", body=("Absenderblock",), two_sections=True)
    path = out / "brief.docx"
    DocxWriter().write_letter(_letter(), _draft_meta(), path, letterhead)

    document = docx.Document(str(path))
    assert len(document.sections) == 2
    for section in document.sections:
        for hf in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            assert DRAFT_LINE in [p.text for p in hf.paragraphs]
    assert "Erste Seite – " + LETTERHEAD_HEADER in _hf_text(document.sections[0].first_page_header)
    assert "Folgeabschnitt" in _hf_text(document.sections[1].header)
    texts = _texts(document)
    assert texts.index("Absenderblock") < texts.index("Rückseite") < texts.index("Sehr geehrte Frau Korte,")


def test_letterhead_dotx_opens(out: Path, tmp_path: Path) -> None:
    dotx = _as_dotx(_make_letterhead(tmp_path / "vorlage.docx"), tmp_path / "vorlage.dotx")
    with zipfile.ZipFile(dotx) as zf:
        assert TEMPLATE_CT in zf.read("[Content_Types].xml").decode()
    with pytest.raises(ValueError):  # what python-docx does with a template on its own
        docx.Document(str(dotx))

    path = out / "brief.docx"
    DocxWriter().write_letter(_letter(), _draft_meta(), path, dotx)
    with zipfile.ZipFile(path) as zf:
        types = zf.read("[Content_Types].xml").decode()
    assert DOCUMENT_CT in types and TEMPLATE_CT not in types  # the result is a document, not a template
    document = docx.Document(str(path))
    header = _hf_text(document.sections[0].header)
    assert LETTERHEAD_HEADER in header and DRAFT_LINE in header
    assert "Sehr geehrte Frau Korte," in _texts(document)


def test_brief_marker_is_replaced_by_the_letter(out: Path, tmp_path: Path) -> None:
    letterhead = _make_letterhead(tmp_path / "kopfbogen.docx",
                                  body=("Logo und Dienstgebäude", "{{BRIEF}}", "Hinweis zum Datenschutz"))
    path = out / "brief.docx"
    DocxWriter().write_letter(_letter(), _draft_meta(), path, letterhead)

    texts = _texts(docx.Document(str(path)))
    assert "{{BRIEF}}" not in "\n".join(texts)
    order = ["Logo und Dienstgebäude", "Café Lindenblüte GmbH", "Sehr geehrte Frau Korte,", "Jonas Weber",
             "Stellungnahme der Straßenverkehrsbehörde", "Hinweis zum Datenschutz"]
    positions = [texts.index(t) for t in order]
    assert positions == sorted(positions)


@pytest.mark.parametrize("content", [b"kein zip", b"", b"PK\x03\x04 halb"])
def test_corrupt_letterhead_is_a_german_error_and_writes_nothing(out: Path, tmp_path: Path,
                                                                 content: bytes) -> None:
    letterhead = tmp_path / "kaputt.dotx"
    letterhead.write_bytes(content)
    path = out / "brief.docx"
    with pytest.raises(AktenlotseError) as info:
        DocxWriter().write_letter(_letter(), _draft_meta(), path, letterhead)
    assert info.value.user_message.startswith("Die Briefvorlage „kaputt.dotx“ kann nicht geöffnet werden")
    assert list(out.iterdir()) == []


def test_missing_or_foreign_letterhead_is_refused(out: Path, tmp_path: Path) -> None:
    path = out / "brief.docx"
    with pytest.raises(AktenlotseError) as info:
        DocxWriter().write_letter(_letter(), _draft_meta(), path, tmp_path / "gibt_es_nicht.docx")
    assert "kann nicht geöffnet werden" in info.value.user_message and "nicht gefunden" in info.value.user_message
    zip_not_word = tmp_path / "archiv.docx"
    with zipfile.ZipFile(zip_not_word, "w") as zf:
        zf.writestr("hallo.txt", "kein Word")
    with pytest.raises(AktenlotseError):
        DocxWriter().write_letter(_letter(), _draft_meta(), path, zip_not_word)
    odt = tmp_path / "vorlage.odt"
    odt.write_bytes(b"x")
    with pytest.raises(AktenlotseError) as info:
        DocxWriter().write_letter(_letter(), _draft_meta(), path, odt)
    assert ".dotx" in info.value.user_message
    assert list(out.iterdir()) == []


def test_overwrite_keeps_an_existing_file_when_the_letterhead_fails(out: Path, tmp_path: Path) -> None:
    path = out / "brief.docx"
    DocxWriter().write_letter(_letter(), _draft_meta(), path)
    before = path.read_bytes()
    bad = tmp_path / "kaputt.docx"
    bad.write_bytes(b"kein zip")
    with pytest.raises(AktenlotseError):
        DocxWriter().write_letter(_letter(), _final_meta(), path, bad)
    assert path.read_bytes() == before


def test_minimal_letter_and_control_characters(out: Path) -> None:
    letter = LetterDocument(recipient_lines=("Herrn\x00 Max Mustermann",), subject="Betreff\x0b",
                            body=("Text\x1bmit Escape",))
    path = out / "minimal.docx"
    DocxWriter().write_letter(letter, _draft_meta(), path)
    texts = _texts(docx.Document(str(path)))
    assert "Herrn Max Mustermann" in texts and "Textmit Escape" in texts
    assert "Sehr geehrte Damen und Herren," in texts and "Mit freundlichen Grüßen" in texts
    assert "Anlagen" not in texts and "Anlage" not in texts


def test_single_enclosure_is_anlage(out: Path) -> None:
    path = out / "brief.docx"
    DocxWriter().write_letter(_letter(enclosures=("Lageplan",)), _draft_meta(), path)
    texts = _texts(docx.Document(str(path)))
    assert texts[-2:] == ["Anlage", "Lageplan"]


def test_letterhead_without_list_bullet_style_gets_plain_bullets(out: Path, tmp_path: Path) -> None:
    letterhead = tmp_path / "schlicht.docx"
    document = docx.Document()
    document.styles["List Bullet"].delete()
    document.save(str(letterhead))
    path = out / "brief.docx"
    DocxWriter().write_letter(_letter(), _draft_meta(), path, letterhead)
    texts = _texts(docx.Document(str(path)))
    assert "•\tDie Restgehwegbreite betrüge nur 1,10 m." in texts
    assert "•\tDie Fläche an der Schaufensterfront kann genehmigt werden." in texts
