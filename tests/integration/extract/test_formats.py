"""Every supported format, read through the sandbox from tests/fixtures/extract: text, pages, headings, kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.adapters.extract import SandboxedExtractor, extract_in_process
from app.core.documents import Block, ExtractedDocument
from tests.integration.extract.conftest import EXTRACT_DIR


def _read(sandbox: SandboxedExtractor, name: str) -> ExtractedDocument:
    return sandbox.extract(EXTRACT_DIR / name)


def _find(doc: ExtractedDocument, needle: str) -> Block:
    hits = [b for b in doc.blocks if needle in b.text]
    assert hits, f"{needle!r} not in {[b.text for b in doc.blocks]}"
    return hits[0]


def test_pdf_pages_text_and_ocr_page(sandbox: SandboxedExtractor) -> None:
    doc = _read(sandbox, "bescheid.pdf")
    assert doc.format == "pdf"
    assert doc.page_count == 3
    assert doc.title == "Hundesteuerbescheid"
    assert _find(doc, "Sehr geehrte Frau Müller").page == 1
    assert "96,00 €" in _find(doc, "Steuer auf").text  # WinAnsi euro sign and umlauts decoded
    assert _find(doc, "§ 28 VwVfG").page == 2
    assert doc.pages_without_text == (3,)
    assert "Seite 3: keine Textebene – OCR nötig" in doc.warnings
    assert {b.page for b in doc.blocks} == {1, 2}


def test_docx_headings_table_textbox_header_footer(sandbox: SandboxedExtractor) -> None:
    doc = _read(sandbox, "widerspruch.docx")
    assert doc.format == "docx"
    assert doc.title == "Widerspruchsbescheid"
    headings = [(b.heading_level, b.text) for b in doc.blocks if b.heading_level]
    assert headings == [(1, "Widerspruchsbescheid"), (2, "Sachverhalt"), (3, "Begründung nach § 39 VwVfG")]
    assert _find(doc, "Gebühr | 35,00 € | 01.04.2024").kind == "table"
    assert _find(doc, "Posten | Betrag | Fällig").kind == "table"
    box = [b for b in doc.blocks if "Eingangsstempel" in b.text]
    assert [b.kind for b in box] == ["textbox"]  # mc:Choice and mc:Fallback hold it twice; read once
    assert doc.blocks[0].kind == "header" and "Landratsamt Musterkreis" in doc.blocks[0].text
    assert doc.blocks[-1].kind == "footer" and "IBAN" in doc.blocks[-1].text
    order = [b.text for b in doc.blocks]
    assert order.index("Sachverhalt") < order.index("Die Kosten des Verfahrens trägt die Behörde.")


def test_odt_headings_lists_tables_and_no_comments(sandbox: SandboxedExtractor) -> None:
    doc = _read(sandbox, "eingliederung.odt")
    assert doc.format == "odt"
    assert doc.title == "Eingliederung Özdemir"
    assert _find(doc, "Eingliederungsvereinbarung").heading_level == 1
    assert _find(doc, "Pflichten der Beteiligten").heading_level == 2
    assert "wird  Folgendes" in _find(doc, "Herrn Özdemir").text  # text:s c="2" is two spaces
    assert _find(doc, "fünf Stück").kind == "text"
    assert _find(doc, "Sprachkurs | 30.06.2024").kind == "table"
    assert _find(doc, "Jobcenter Musterstadt").kind == "header"
    assert not any("interner Kommentar" in b.text for b in doc.blocks)


def test_txt_cp1252_umlauts(sandbox: SandboxedExtractor) -> None:
    doc = _read(sandbox, "vermerk_cp1252.txt")
    assert doc.format == "txt"
    assert doc.blocks[0].text == "Aktenvermerk zur Ortsbesichtigung"
    assert "Überprüfung der Grundstücksfläche ergab sich eine Größe von 120 m²" in doc.blocks[1].text
    assert "45 €" in doc.blocks[1].text
    assert doc.blocks[2].text == "Gez. Jürgen Weiß, Sachgebiet Bauordnung – Außendienst"


def test_txt_utf16(sandbox: SandboxedExtractor) -> None:
    doc = _read(sandbox, "notiz_utf16.txt")
    assert doc.blocks[0].text == "Notiz: Rückruf bei Frau Köhler wegen Straßenausbaubeitrag."


def test_markdown_headings(sandbox: SandboxedExtractor) -> None:
    doc = _read(sandbox, "dienstanweisung.md")
    assert doc.format == "md"
    headings = [(b.heading_level, b.text) for b in doc.blocks if b.heading_level]
    assert headings == [(1, "Dienstanweisung Posteingang"), (2, "Zuständigkeit"), (3, "Fristen")]
    assert any("§ 31 VwVfG" in b.text for b in doc.blocks)


def test_html_headings_tables_and_no_script(sandbox: SandboxedExtractor) -> None:
    doc = _read(sandbox, "buergerbuero.html")
    assert doc.format == "html"
    assert doc.title == "Öffnungszeiten Bürgerbüro"
    assert _find(doc, "Bürgerbüro").heading_level == 1
    assert _find(doc, "Termine").heading_level == 2
    assert _find(doc, "montags").text == "Das Bürgerbüro ist montags geschlossen."
    assert _find(doc, "Dienstag | 8–12 Uhr").kind == "table"
    text = " ".join(b.text for b in doc.blocks)
    assert "geheim" not in text and "color" not in text


def test_eml_headers_body_and_attachments(sandbox: SandboxedExtractor) -> None:
    doc = _read(sandbox, "widerspruch_mail.eml")
    assert doc.format == "eml"
    assert doc.title == "Widerspruch gegen den Gebührenbescheid vom 3. März"
    head = doc.blocks[0]
    assert head.kind == "header"
    assert "Von: Erika Mustermann <erika@example.org>" in head.text
    assert "Betreff: Widerspruch gegen den Gebührenbescheid vom 3. März" in head.text
    assert _find(doc, "hiermit lege ich Widerspruch").kind == "text"
    txt = _find(doc, "Gewerbeanmeldung ist zu hoch")
    assert txt.kind == "attachment" and "begruendung.txt" in txt.text
    pdf = _find(doc, "Rechtsbehelfsbelehrung")  # the attached PDF is read too, with its pages
    assert pdf.kind == "attachment" and pdf.page == 2


def test_detection_by_content_not_extension(sandbox: SandboxedExtractor) -> None:
    doc = _read(sandbox, "eigentlich_odt.txt")
    assert doc.format == "odt"
    assert _find(doc, "Eingliederungsvereinbarung").heading_level == 1


@pytest.mark.parametrize("name", sorted(p.name for p in EXTRACT_DIR.iterdir()))
def test_in_process_matches_sandbox(sandbox: SandboxedExtractor, name: str) -> None:
    assert extract_in_process(EXTRACT_DIR / name) == sandbox.extract(EXTRACT_DIR / name)


def test_fixtures_stay_small() -> None:
    for path in Path(EXTRACT_DIR).iterdir():
        assert path.stat().st_size < 50_000, path.name
