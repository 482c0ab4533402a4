"""DocxWriter: real DOCX files on disk, reopened with python-docx and as a zip (what Word and LibreOffice see)."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from lxml import etree

from app.adapters.docx_writer import DocxWriter
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE, DocumentWriter, DraftMeta, MemoDocument, MemoSection

CREATED = datetime(2026, 11, 25, 9, 41, 12)
REVIEWED = datetime(2026, 11, 26, 14, 5, 0)
CUSTOM_RELTYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"


def _memo() -> MemoDocument:
    return MemoDocument(
        subject="Antrag auf Wohngeld – Familie Müller (§ 3 WoGG)",
        date_text="25.11.2026",
        info=(("Grundlage", "3 Dokumente"), ("Länge", "Standard")),
        sections=(
            MemoSection("Sachverhalt", ("Antrag vom 03.11.2026 auf Mietzuschuss [1].",
                                        "Bruttokaltmiete 1.140,00 € für 86 m² [2].")),
            MemoSection("Anliegen/Antrag", ("Die Antragstellerin bittet um „zügige Entscheidung“ – äöüß ÄÖÜ [1].",)),
            MemoSection("Fristen und Termine", (), empty_text="Keine Fristen in den Quellen gefunden."),
        ),
        notes=("Einkommensangaben mit den Belegen abgleichen.",),
        sources=("[1] antrag.pdf, S. 1", "[2] mietbescheinigung.docx, S. 1, § 28 Anhörung Beteiligter"),
    )


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An output folder of its own (conftest puts other files into tmp_path)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _draft_meta() -> DraftMeta:
    return DraftMeta(draft_id="d-0001", model="Qwen2.5-7B-Instruct Q4_K_M", model_sha256="ab" * 32,
                     created=CREATED)


def _final_meta(**kw) -> DraftMeta:
    values = dict(draft_id="d-0002", model="Qwen2.5-7B-Instruct Q4_K_M", model_sha256="cd" * 32, created=CREATED,
                  review_status="confirmed", reviewer="Erika Mustermann", reviewed_at=REVIEWED)
    values.update(kw)
    return DraftMeta(**values)


def _header_footer_texts(document: DocxDocument) -> tuple[list[str], list[str]]:
    headers, footers = [], []
    for section in document.sections:
        for hf, bucket in ((section.header, headers), (section.footer, footers),
                           (section.first_page_header, headers), (section.first_page_footer, footers),
                           (section.even_page_header, headers), (section.even_page_footer, footers)):
            bucket.extend(p.text for p in hf.paragraphs)
    return headers, footers


def _all_xml_text(path: Path) -> str:
    """Every XML part of the package, decoded – a draft line hidden anywhere would show up here."""
    with zipfile.ZipFile(path) as zf:
        return "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith((".xml", ".rels")))


def _body_texts(document: DocxDocument) -> list[str]:
    return [p.text.replace("\t", " ") for p in document.paragraphs]


def test_writer_implements_the_port() -> None:
    writer: DocumentWriter = DocxWriter()
    assert callable(writer.write_memo) and callable(writer.read_properties)


def test_draft_memo_content_and_draft_marking(out: Path) -> None:
    path = out / "vermerk.docx"
    written = DocxWriter().write_memo(_memo(), _draft_meta(), path)
    assert written == path and path.is_file()
    assert [p.name for p in out.iterdir()] == ["vermerk.docx"]  # no temporary file left behind

    document = docx.Document(str(path))
    headers, footers = _header_footer_texts(document)
    assert DRAFT_LINE in headers
    assert DRAFT_LINE in footers
    draft_run = next(r for p in document.sections[0].header.paragraphs for r in p.runs if r.text == DRAFT_LINE)
    assert draft_run.bold and draft_run.font.color.rgb is not None  # visibly marked (bold, dark red)
    assert any(t.startswith("Seite ") for t in footers)

    texts = _body_texts(document)
    assert texts[0] == "Vermerk"
    assert document.paragraphs[0].style.name == "Title"
    assert "Datum: 25.11.2026" in texts
    assert "Betreff: Antrag auf Wohngeld – Familie Müller (§ 3 WoGG)" in texts
    assert "Grundlage: 3 Dokumente" in texts and "Länge: Standard" in texts

    expected_order = [
        "Sachverhalt", "Antrag vom 03.11.2026 auf Mietzuschuss [1].", "Bruttokaltmiete 1.140,00 € für 86 m² [2].",
        "Anliegen/Antrag", "Die Antragstellerin bittet um „zügige Entscheidung“ – äöüß ÄÖÜ [1].",
        "Fristen und Termine", "Keine Fristen in den Quellen gefunden.",
        "Hinweise zur Prüfung", "Einkommensangaben mit den Belegen abgleichen.",
        "Quellen", "[1] antrag.pdf, S. 1", "[2] mietbescheinigung.docx, S. 1, § 28 Anhörung Beteiligter",
    ]
    positions = [texts.index(t) for t in expected_order]
    assert positions == sorted(positions)

    by_text = {p.text.replace("\t", " "): p for p in document.paragraphs}
    for heading in ("Sachverhalt", "Anliegen/Antrag", "Fristen und Termine", "Hinweise zur Prüfung", "Quellen"):
        assert by_text[heading].style.name == "Heading 2"
    assert by_text["Antrag vom 03.11.2026 auf Mietzuschuss [1]."].style.name == "List Bullet"
    assert by_text["Einkommensangaben mit den Belegen abgleichen."].style.name == "List Bullet"
    empty = by_text["Keine Fristen in den Quellen gefunden."]
    assert empty.style.name != "List Bullet" and all(r.italic for r in empty.runs)

    section = document.sections[0]
    assert abs(section.left_margin.cm - 2.5) < 0.01 and abs(section.right_margin.cm - 2.0) < 0.01
    assert abs(section.page_width.cm - 21.0) < 0.01  # A4, not python-docx's default Letter
    assert document.styles["Normal"].font.name == "Arial"
    assert document.styles["Normal"].font.size.pt == 11

    core = document.core_properties
    assert core.title == "Vermerk"
    assert core.subject == "Antrag auf Wohngeld – Familie Müller (§ 3 WoGG)"
    assert core.author == "Aktenlotse (KI-Entwurf)" and core.last_modified_by == "Aktenlotse (KI-Entwurf)"
    assert core.comments == DRAFT_LINE


def test_draft_custom_properties(out: Path) -> None:
    path = out / "vermerk.docx"
    meta = _draft_meta()
    writer = DocxWriter()
    writer.write_memo(_memo(), meta, path)

    props = writer.read_properties(path)
    assert props == meta.properties()
    assert props["review_status"] == "draft"
    assert props["ai_generated"] == "true"
    assert props["draft_id"] == meta.draft_id
    assert props["model"] == meta.model
    assert props["model_sha256"] == meta.model_sha256
    assert props["created"] == "2026-11-25T09:41:12"
    assert "reviewer" not in props and "reviewed_at" not in props


def test_custom_properties_part_is_registered_in_the_package(out: Path) -> None:
    path = out / "vermerk.docx"
    DocxWriter().write_memo(_memo(), _draft_meta(), path)
    with zipfile.ZipFile(path) as zf:
        assert "docProps/custom.xml" in zf.namelist()
        types = etree.fromstring(zf.read("[Content_Types].xml"))
        rels = etree.fromstring(zf.read("_rels/.rels"))
        custom = etree.fromstring(zf.read("docProps/custom.xml"))
        doc_rels = zf.read("word/_rels/document.xml.rels").decode("utf-8")

    overrides = {o.get("PartName"): o.get("ContentType") for o in types if o.tag.endswith("Override")}
    assert overrides["/docProps/custom.xml"] == CUSTOM_CT
    targets = {r.get("Type"): r.get("Target").lstrip("/") for r in rels}
    assert targets[CUSTOM_RELTYPE] == "docProps/custom.xml"
    assert "custom-properties" not in doc_rels  # related from the package, not from the document part

    props = list(custom)
    assert all(p.get("fmtid") == "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" for p in props)
    pids = [int(p.get("pid")) for p in props]
    assert pids == list(range(2, 2 + len(props)))  # unique, starting at 2 (0 and 1 are reserved)
    kinds = {p.get("name"): etree.QName(p[0]).localname for p in props}
    assert kinds["ai_generated"] == "bool" and kinds["model"] == "lpwstr"


def test_confirmed_memo_has_no_draft_line(out: Path) -> None:
    path = out / "final.docx"
    meta = _final_meta()
    writer = DocxWriter()
    writer.write_memo(_memo(), meta, path)

    document = docx.Document(str(path))
    headers, footers = _header_footer_texts(document)
    assert all(DRAFT_LINE not in t for t in headers + footers + _body_texts(document))
    assert DRAFT_LINE not in _all_xml_text(path)  # nor in properties, comments or any other part
    assert "ENTWURF" not in _all_xml_text(path)
    assert any("Geprüft von Erika Mustermann am 26.11.2026" in t for t in footers)

    props = writer.read_properties(path)
    assert props["review_status"] == "confirmed"
    assert props["reviewer"] == "Erika Mustermann"
    assert props["reviewed_at"] == "2026-11-26T14:05:00"
    assert props["ai_generated"] == "true"
    assert document.core_properties.author != "Aktenlotse (KI-Entwurf)"


def test_confirmed_without_reviewer_is_refused_and_writes_nothing(out: Path) -> None:
    path = out / "final.docx"
    with pytest.raises(AktenlotseError):
        DocxWriter().write_memo(_memo(), _final_meta(reviewer=" "), path)
    with pytest.raises(AktenlotseError):
        DocxWriter().write_memo(_memo(), _final_meta(reviewed_at=None), path)
    assert list(out.iterdir()) == []


def test_missing_folder_is_a_german_error(out: Path) -> None:
    path = out / "gibt_es_nicht" / "vermerk.docx"
    with pytest.raises(AktenlotseError) as info:
        DocxWriter().write_memo(_memo(), _draft_meta(), path)
    assert "Zielordner existiert nicht" in info.value.user_message
    assert not path.parent.exists()


def test_failed_save_leaves_no_temp_file_and_keeps_the_old_file(out: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = out / "vermerk.docx"
    DocxWriter().write_memo(_memo(), _draft_meta(), path)
    before = path.read_bytes()

    def broken_save(self, path_or_stream) -> None:
        path_or_stream.write(b"PK\x03\x04 half a file")
        raise OSError("Datenträger voll")

    monkeypatch.setattr(DocxDocument, "save", broken_save)
    with pytest.raises(AktenlotseError) as info:
        DocxWriter().write_memo(_memo(), _final_meta(), path)
    assert info.value.user_message.startswith("Das Dokument konnte nicht gespeichert werden")
    assert "Datenträger voll" in info.value.detail
    assert path.read_bytes() == before
    assert [p.name for p in out.iterdir()] == ["vermerk.docx"]


def test_permission_error_gets_a_specific_message(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = out / "vermerk.docx"
    path.write_bytes(b"in Word geoeffnet")

    def locked(src, dst) -> None:
        raise PermissionError(13, "Der Prozess kann nicht auf die Datei zugreifen", str(dst))

    monkeypatch.setattr("app.adapters.docx_writer.os.replace", locked)
    with pytest.raises(AktenlotseError) as info:
        DocxWriter().write_memo(_memo(), _draft_meta(), path)
    assert "geöffnet oder schreibgeschützt" in info.value.user_message
    assert path.read_bytes() == b"in Word geoeffnet"
    assert [p.name for p in out.iterdir()] == ["vermerk.docx"]


def test_unicode_round_trips(out: Path) -> None:
    text = "Prüfung gemäß § 35 VwVfG: „Maß“, Öffnungszeiten, Straße – äöüß ÄÖÜ ẞ € ½"
    memo = MemoDocument(subject=text, sections=(MemoSection("Größe & Umfang <Anlage>", (text,)),),
                        info=(("Zuständig", "Frau Özdemir-Jäger"),), sources=(f"[1] {text}.pdf",))
    meta = DraftMeta(draft_id="ä-ß-§", model="Mödell „X“ <&>", model_sha256="ef" * 32, created=CREATED)
    path = out / "Vermerk Größe §.docx"
    writer = DocxWriter()
    writer.write_memo(memo, meta, path)

    texts = _body_texts(docx.Document(str(path)))
    assert f"Betreff: {text}" in texts
    assert "Größe & Umfang <Anlage>" in texts
    assert text in texts
    assert "Zuständig: Frau Özdemir-Jäger" in texts
    assert f"[1] {text}.pdf" in texts
    props = writer.read_properties(path)
    assert props["draft_id"] == "ä-ß-§" and props["model"] == "Mödell „X“ <&>"


def test_control_characters_from_the_model_do_not_break_the_document(out: Path) -> None:
    memo = MemoDocument(subject="Betreff\x00mit\x0bSteuerzeichen",
                        sections=(MemoSection("Sachverhalt", ("Text\x1bmit Escape",)),))
    path = out / "v.docx"
    DocxWriter().write_memo(memo, _draft_meta(), path)
    assert "Textmit Escape" in _body_texts(docx.Document(str(path)))


def test_overwrite_replaces_the_file(out: Path) -> None:
    path = out / "vermerk.docx"
    writer = DocxWriter()
    writer.write_memo(_memo(), _draft_meta(), path)
    writer.write_memo(_memo(), _final_meta(), path)
    assert writer.read_properties(path)["review_status"] == "confirmed"
    assert [p.name for p in out.iterdir()] == ["vermerk.docx"]


def test_read_properties_without_custom_part_is_empty(out: Path) -> None:
    path = out / "plain.docx"
    docx.Document().save(str(path))
    assert DocxWriter().read_properties(path) == {}
    bad = out / "kaputt.docx"
    bad.write_bytes(b"kein zip")
    with pytest.raises(AktenlotseError):
        DocxWriter().read_properties(bad)


def test_helpers_work_on_a_document_with_several_sections(out: Path) -> None:
    """The letters feature reuses the helpers on template documents: every section is marked, none twice."""
    from docx.enum.section import WD_SECTION

    from app.adapters import docx_writer

    document = docx.Document()
    document.add_paragraph("Seite 1")
    document.add_section(WD_SECTION.NEW_PAGE)
    document.sections[1].header.is_linked_to_previous = False  # a section with its own header
    document.sections[1].different_first_page_header_footer = True
    document.add_paragraph("Seite 2")
    docx_writer._mark_draft(document, _draft_meta())
    docx_writer._mark_draft(document, _draft_meta())  # idempotent
    docx_writer._set_custom_properties(document, {"kind": "brief", "review_status": "draft"})
    docx_writer._set_custom_properties(document, {"review_status": "draft", "draft_id": "x"})  # replaces by name
    path = docx_writer._save_atomic(document, out / "brief.docx")

    reopened = docx.Document(str(path))
    for section in reopened.sections:
        for hf in (section.header, section.footer):
            assert [p.text for p in hf.paragraphs].count(DRAFT_LINE) == 1
    s2 = reopened.sections[1]
    assert DRAFT_LINE in [p.text for p in s2.first_page_header.paragraphs]
    assert docx_writer.read_custom_properties(path) == {"kind": "brief", "review_status": "draft", "draft_id": "x"}
