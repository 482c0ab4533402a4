"""Every format through the whole pipeline (sandboxed reader → chunker → BM25 store) in one folder with hostile files:
the good files are indexed and their chunks carry the right page and heading; every bad file ends with a status
and a German reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.documents import FileStatus

from .test_indexing_real import Library

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

GOOD = ["bescheid.pdf", "buergerbuero.html", "dienstanweisung.md", "eingliederung.odt", "notiz_utf16.txt",
        "vermerk_cp1252.txt", "widerspruch.docx", "widerspruch_mail.eml"]
BAD = {
    "doc_legacy_word97_plain.doc": FileStatus.UNSUPPORTED,
    "docx_encrypted_standard_Password1234_.docx": FileStatus.ENCRYPTED,
    "pdf_image_only_ccitt_scan.pdf": FileStatus.NO_TEXT_LAYER,
    "pdf_qpdf_bad1_5bytes.pdf": FileStatus.ERROR,
    "xlsx_zipbomb_ratio.xlsx": FileStatus.REFUSED,
}


@pytest.fixture(scope="module")
def indexed_library(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("pipeline")
    root = tmp / "akten"
    (root / "gut").mkdir(parents=True)
    (root / "schlecht").mkdir()
    for name in GOOD:
        shutil.copy(FIXTURES / "extract" / name, root / "gut" / name)
    for name in BAD:
        shutil.copy(FIXTURES / "bad" / name, root / "schlecht" / name)
    library = Library(root, tmp / "index", embed=False)
    library.run()
    yield library
    library.close()


def records_by_name(library: Library) -> dict:
    return {Path(r.path).name: r for r in library.manifest.all()}


def chunks_of(library: Library, name: str):
    record = records_by_name(library)[name]
    return library.lexical.get(list(record.chunk_ids))


def test_good_files_are_indexed_beside_bad_ones(indexed_library: Library) -> None:
    records = records_by_name(indexed_library)
    for name in GOOD:
        assert records[name].status is FileStatus.INDEXED, (name, records[name].reason)
        assert records[name].chunk_ids, name
    for name, status in BAD.items():
        assert records[name].status is status, (name, records[name].status, records[name].reason)
        assert records[name].reason.strip(), name
    indexed_library.assert_consistent(embedded=False)


def test_pdf_chunks_carry_their_page(indexed_library: Library) -> None:
    chunks = chunks_of(indexed_library, "bescheid.pdf")
    spans = [(c.page, c.page_end, c.text[:60]) for c in chunks]

    def on_page(text: str, page: int) -> bool:  # a short letter may be one chunk running over pages 1–2
        return any(text in c.text and c.page <= page <= (c.page_end or c.page) for c in chunks)

    assert on_page("Sehr geehrte Frau Müller", 1), spans
    assert on_page("§ 28 VwVfG", 2), spans
    assert not on_page("§ 28 VwVfG", 3), spans  # page 3 has no text layer


def test_docx_chunks_carry_their_heading_path(indexed_library: Library) -> None:
    chunks = chunks_of(indexed_library, "widerspruch.docx")
    paths = [c.heading_path for c in chunks]
    assert any(p[:1] == ("Widerspruchsbescheid",) and "Begründung nach § 39 VwVfG" in p for p in paths), paths


def test_markdown_and_odt_headings_reach_the_chunks(indexed_library: Library) -> None:
    md = [c.heading_path for c in chunks_of(indexed_library, "dienstanweisung.md")]
    assert ("Dienstanweisung Posteingang", "Zuständigkeit") in [p[:2] for p in md], md
    odt = [c.heading_path for c in chunks_of(indexed_library, "eingliederung.odt")]
    assert any("Pflichten der Beteiligten" in p for p in odt), odt


def test_chunk_spans_point_into_the_document_text(indexed_library: Library) -> None:
    for name in GOOD:
        for chunk in chunks_of(indexed_library, name):
            assert 0 <= chunk.start < chunk.end and chunk.end - chunk.start == len(chunk.text), name


def test_lexical_search_finds_umlaut_text_from_a_cp1252_file(indexed_library: Library) -> None:
    text = " ".join(c.text for c in chunks_of(indexed_library, "vermerk_cp1252.txt"))
    assert "ä" in text or "ö" in text or "ü" in text or "ß" in text, text[:200]
