"""Acceptance: every hostile file in ../shared/corpus/bad ends with a document or a status and a German reason.

Skips when the shared corpus is absent; test_bad_fixtures.py keeps the core of this running everywhere.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.adapters.extract import SandboxedExtractor
from app.core.documents import ExtractedDocument, FileStatus
from app.core.library import ExtractionError

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "bad"  # ../shared beside the repo
if not CORPUS.is_dir():
    pytest.skip("shared bad-input corpus not present", allow_module_level=True)

FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "SOURCES.md")
STATUSES = {s.value for s in FileStatus}

EXPECTED_STATUS = {
    "pdf_encrypted_aes256_user_password.pdf": "encrypted",
    "pdf_libreoffice_password_openpassword.pdf": "encrypted",
    "docx_encrypted_agile_Password1234_.docx": "encrypted",
    "docx_encrypted_standard_Password1234_.docx": "encrypted",
    "doc_legacy_word97_plain.doc": "unsupported",
    "pdf_image_only_ccitt_scan.pdf": "no_text_layer",
    "xlsx_zipbomb_ratio.xlsx": "refused",
    "zip_containing_zipbomb.zip": "refused",
    "pdf_zero_bytes.pdf": "empty",
    "docx_empty_document.docx": "empty",
    "docx_truncated_half.docx": "error",
    "zip_zipcrypto_encrypted.zip": "encrypted",
}
EXPECTED_TEXT = {
    "docx_strict_ooxml.docx": ("docx", "Test"),
    "docx_text_in_textbox.docx": ("docx", "Datum plane"),
    "docx_xml_with_utf8_bom.docx": ("docx", ""),
    "docx_headers_footers.docx": ("docx", "section with header"),
    "docx_is_really_pdf.docx": ("pdf", ""),
    "pdf_is_really_docx.pdf": ("docx", ""),
    "pdf_encrypted_rc4_owner_password_only.pdf": ("pdf", ""),
    "pdf_qpdf_leading_junk.pdf": ("pdf", ""),
    "pdf_qpdf_outlines_loop.pdf": ("pdf", ""),
    "pdf_large_page_count_GeoTopo_de.pdf": ("pdf", "Topologie"),
    "pdf_multicolumn.pdf": ("pdf", ""),
}


def _outcome(sandbox: SandboxedExtractor, name: str) -> ExtractedDocument | ExtractionError:
    try:
        return sandbox.extract(CORPUS / name)
    except ExtractionError as exc:
        return exc


@pytest.mark.parametrize("name", FILES)
def test_every_file_ends_with_a_status_and_reason(sandbox: SandboxedExtractor, name: str) -> None:
    start = time.monotonic()
    result = _outcome(sandbox, name)
    assert time.monotonic() - start < sandbox.timeout_s + 15  # the sandbox bounds every file
    if isinstance(result, ExtractionError):
        assert result.status in STATUSES and result.status not in ("indexed", "pending")
        assert result.reason.strip()
        assert any(ch in result.reason for ch in "äöüßÄÖÜ") or " " in result.reason  # a German sentence
    else:
        assert result.blocks and result.text_length > 0
        assert result.format in ("pdf", "docx", "odt", "txt", "md", "html", "eml")


@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_expected_status(sandbox: SandboxedExtractor, name: str) -> None:
    result = _outcome(sandbox, name)
    assert isinstance(result, ExtractionError), f"{name} was read as {result.format}"
    assert result.status == EXPECTED_STATUS[name], result.reason


def test_zip_bomb_reason(sandbox: SandboxedExtractor) -> None:
    result = _outcome(sandbox, "xlsx_zipbomb_ratio.xlsx")
    assert isinstance(result, ExtractionError)
    assert result.reason == "Archiv mit extremer Kompression abgelehnt (Schutz vor Zip-Bomben)"


def test_legacy_doc_reason(sandbox: SandboxedExtractor) -> None:
    result = _outcome(sandbox, "doc_legacy_word97_plain.doc")
    assert isinstance(result, ExtractionError)
    assert result.reason == "Altes Word-Format (.doc) wird nicht unterstützt – bitte als DOCX speichern"


@pytest.mark.parametrize("name", sorted(EXPECTED_TEXT))
def test_expected_text(sandbox: SandboxedExtractor, name: str) -> None:
    fmt, needle = EXPECTED_TEXT[name]
    result = _outcome(sandbox, name)
    assert isinstance(result, ExtractedDocument), f"{name}: {result.status} {result.reason}"
    assert result.format == fmt
    assert needle in " ".join(b.text for b in result.blocks)


def test_owner_password_pdf_text(sandbox: SandboxedExtractor) -> None:
    doc = sandbox.extract(CORPUS / "pdf_encrypted_rc4_owner_password_only.pdf")
    assert doc.text_length > 20


def test_odt_in_txt_slot_is_not_garbage(sandbox: SandboxedExtractor) -> None:
    result = _outcome(sandbox, "txt_is_really_odt.txt")
    if isinstance(result, ExtractionError):
        assert result.status == "unsupported"
    else:
        assert result.format == "odt"
        text = " ".join(b.text for b in result.blocks)
        assert "PK" not in text[:10] and "\x00" not in text


@pytest.mark.parametrize("name", [n for n in FILES if "_loop" in n])
def test_loops_terminate_with_text(sandbox: SandboxedExtractor, name: str) -> None:
    result = _outcome(sandbox, name)
    assert isinstance(result, (ExtractedDocument, ExtractionError))
    assert not (isinstance(result, ExtractionError) and "Zeitlimit" in result.reason)


def test_whole_corpus_in_one_worker_without_restart() -> None:
    with SandboxedExtractor(timeout_s=30) as extractor:
        for name in FILES:
            _outcome(extractor, name)
        assert extractor.restarts == 0  # nothing in the corpus crashes or hangs the reader
        assert isinstance(extractor.extract(CORPUS / "docx_strict_ooxml.docx"), ExtractedDocument)
