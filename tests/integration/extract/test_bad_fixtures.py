"""The core of the bad-input acceptance check on copies in tests/fixtures/bad (always runs), plus the limits."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from app.adapters.extract import Limits, SandboxedExtractor, extract_in_process
from app.core.documents import ExtractedDocument
from app.core.library import ExtractionError
from tests.integration.extract.conftest import BAD_DIR, EXTRACT_DIR

EXPECTED = {
    "docx_encrypted_standard_Password1234_.docx": ("encrypted", None),
    "doc_legacy_word97_plain.doc": ("unsupported", None),
    "xlsx_zipbomb_ratio.xlsx": ("refused", None),
    "pdf_image_only_ccitt_scan.pdf": ("no_text_layer", None),
    "pdf_qpdf_bad1_5bytes.pdf": ("error", None),
    "docx_strict_ooxml.docx": ("indexed", "Test"),
    "docx_text_in_textbox.docx": ("indexed", "Datum plane"),
    "pdf_qpdf_pages_loop.pdf": ("indexed", None),
}


def test_fixture_folder_is_complete() -> None:
    assert sorted(p.name for p in BAD_DIR.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_fixture(sandbox: SandboxedExtractor, name: str) -> None:
    status, needle = EXPECTED[name]
    try:
        doc = sandbox.extract(BAD_DIR / name)
    except ExtractionError as exc:
        assert exc.status == status, exc.reason
        assert exc.reason.strip()
        return
    assert status == "indexed", f"{name} was read as {doc.format}"
    if needle:
        assert needle in " ".join(b.text for b in doc.blocks)


def _zip(tmp_path: Path, name: str, members: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    path = tmp_path / name
    path.write_bytes(buf.getvalue())
    return path


def _status(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(ExtractionError) as info:
        extract_in_process(path, limits)
    assert info.value.reason.strip()
    return info.value.status


def test_zip_bomb_docx_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path, "bombe.docx", {"word/document.xml": b"<w:document/>" + b" " * 20_000_000})
    assert _status(path) == "refused"


def test_too_many_members_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path, "viele.docx", {f"x/{i}": b"" for i in range(60)} | {"word/document.xml": b"<a/>"})
    assert _status(path, Limits(zip_max_members=50)) == "refused"


def test_oversized_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "gross.txt"
    path.write_text("Text " * 1000, encoding="utf-8")
    with pytest.raises(ExtractionError) as info:
        SandboxedExtractor(max_bytes=1000).extract(path)  # refused before any worker is started
    assert info.value.status == "refused"
    assert "zu groß" in info.value.reason


def test_empty_and_blank_files(tmp_path: Path) -> None:
    (tmp_path / "leer.pdf").write_bytes(b"")
    (tmp_path / "blank.txt").write_text("  \n\n \t\n", encoding="utf-8")
    assert _status(tmp_path / "leer.pdf") == "empty"
    assert _status(tmp_path / "blank.txt") == "empty"


def test_binary_garbage_and_images_unsupported(tmp_path: Path) -> None:
    (tmp_path / "daten.txt").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert _status(tmp_path / "daten.txt") == "unsupported"
    with pytest.raises(ExtractionError) as info:
        extract_in_process(tmp_path / "scan.png")
    assert info.value.status == "unsupported" and "OCR" in info.value.reason


def test_docx_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "geheim.txt"
    secret.write_text("GEHEIMER INHALT", encoding="utf-8")
    xml = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           '<w:p><w:r><w:t>Vorher &x; nachher</w:t></w:r></w:p></w:body></w:document>').encode()
    path = _zip(tmp_path, "xxe.docx", {"word/document.xml": xml})
    try:
        doc = extract_in_process(path)
    except ExtractionError as exc:
        assert exc.status == "error"
        return
    assert "GEHEIMER" not in " ".join(b.text for b in doc.blocks)


def test_good_file_after_bad_ones(sandbox: SandboxedExtractor) -> None:
    for name in EXPECTED:
        try:
            sandbox.extract(BAD_DIR / name)
        except ExtractionError:
            pass
    assert isinstance(sandbox.extract(EXTRACT_DIR / "bescheid.pdf"), ExtractedDocument)
