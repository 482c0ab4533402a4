"""chunk_document: structure (headings, § sections), spans, pages, sentence splitting with overlap, stable ids."""

from __future__ import annotations

import itertools
from pathlib import Path

from app.core.chunking import (
    chunk_document,
    document_text,
    section_heading,
    sentence_spans,
)
from app.core.documents import Block, ExtractedDocument
from app.core.text_blocks import markdown_blocks

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "laws" / "vwvfg_auszug.md"


def _doc(blocks: list[Block], path: str = "a.pdf") -> ExtractedDocument:
    return ExtractedDocument(path=path, format="pdf", blocks=tuple(blocks))


def _law() -> ExtractedDocument:
    text = FIXTURE.read_text(encoding="utf-8")
    return ExtractedDocument(path="vwvfg_auszug.md", format="md", blocks=tuple(markdown_blocks(text)))


def test_law_sections_carry_heading_path_and_never_mix() -> None:
    chunks = chunk_document(_law(), "doc1")
    anhoerung = [c for c in chunks if c.heading_path[-1] == "§ 28 Anhörung Beteiligter"]
    einsicht = [c for c in chunks if c.heading_path[-1] == "§ 29 Akteneinsicht durch Beteiligte"]
    assert anhoerung and einsicht
    assert all("Akteneinsicht" not in c.text for c in anhoerung)
    assert all("Anhörung unterbleibt" not in c.text for c in einsicht)
    # "Teil II" is a level-2 heading like the §§ after it, so a § replaces it in the path
    assert anhoerung[0].heading_path == ("Verwaltungsverfahrensgesetz (VwVfG) – Auszug", "§ 28 Anhörung Beteiligter")
    assert {c.heading_path[-1] for c in chunks} >= {"§ 28 Anhörung Beteiligter", "§ 29 Akteneinsicht durch Beteiligte"}


def test_spans_point_into_the_document_text() -> None:
    doc = _law()
    full = document_text(doc)
    chunks = chunk_document(doc, "doc1", target_chars=400, overlap_chars=150)
    assert len(chunks) > 4
    for chunk in chunks:
        assert full[chunk.start:chunk.end] == chunk.text
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_unstyled_section_headings_in_pdf_text_start_new_sections() -> None:
    blocks = [
        Block("Verwaltungsverfahrensgesetz", page=1, heading_level=1, kind="heading"),
        Block("§ 28 Anhörung Beteiligter", page=1),
        Block("(1) Bevor ein Verwaltungsakt erlassen wird, ist der Beteiligte anzuhören.", page=1),
        Block("§ 28 Abs. 2 gilt entsprechend.", page=2),  # a sentence, not a heading
        Block("§ 29", page=2),
        Block("Die Behörde gestattet Akteneinsicht.", page=2),
        Block("Art. 3 Gleichheit", page=3),
        Block("Alle Menschen sind vor dem Gesetz gleich.", page=3),
    ]
    chunks = chunk_document(_doc(blocks), "d")
    assert [(c.heading_path, c.page, c.page_end) for c in chunks] == [
        (("Verwaltungsverfahrensgesetz", "§ 28 Anhörung Beteiligter"), 1, 2),
        (("Verwaltungsverfahrensgesetz", "§ 29"), 2, 2),
        (("Verwaltungsverfahrensgesetz", "Art. 3 Gleichheit"), 3, 3),
    ]
    assert "§ 28 Abs. 2 gilt entsprechend." in chunks[0].text


def test_section_heading_detection() -> None:
    assert section_heading("§ 28 Anhörung Beteiligter")
    assert section_heading("§ 70")
    assert section_heading("§ 34a Bewachungsgewerbe")
    assert section_heading("Art. 3 Gleichheit vor dem Gesetz")
    assert not section_heading("§ 28 Abs. 1 VwVfG ist anzuwenden.")
    assert not section_heading("§ 28 gilt entsprechend")
    assert not section_heading("Der § 28 regelt die Anhörung")


def test_small_section_is_one_chunk() -> None:
    body = "Die Behörde hört an. " * 10  # ~210 chars
    chunks = chunk_document(_doc([Block("§ 5 Kurz", heading_level=2, kind="heading"), Block(body.strip())]), "d")
    assert len(chunks) == 1 and chunks[0].text == body.strip()


def test_german_abbreviations_do_not_end_sentences() -> None:
    text = ("Nach § 28 Abs. 1 Nr. 2 VwVfG, vgl. S. 4, gilt z. B. Folgendes. Dies gilt am 1. Januar. "
            "Das ist der zweite Satz! Dritter Satz u. a. mit Ausnahmen?")
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Nach § 28 Abs. 1 Nr. 2 VwVfG, vgl. S. 4, gilt z. B. Folgendes.",
        "Dies gilt am 1. Januar.",
        "Das ist der zweite Satz!",
        "Dritter Satz u. a. mit Ausnahmen?",
    ]


def test_long_section_is_split_at_sentences_with_overlap() -> None:
    sentences = [f"Satz {i} regelt nach Abs. {i} die Frist der Behörde sehr genau." for i in range(40)]
    doc = _doc([Block("§ 1 Lang", heading_level=2, kind="heading"), Block(" ".join(sentences))])
    chunks = chunk_document(doc, "d", target_chars=300, overlap_chars=100)
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 * 1.2 for c in chunks)
    for before, after in itertools.pairwise(chunks):
        assert before.text.endswith(".") and after.text[0] == "S"  # cut at sentence boundaries
        last_sentence = before.text[before.text.rfind("Satz"):]
        assert after.text.startswith(last_sentence)  # one sentence of overlap
        assert after.start < before.end
    covered = "".join(c.text for c in chunks)
    assert all(s in covered for s in sentences)


def test_paragraph_boundaries_are_preferred() -> None:
    para = "(1) " + "Die Behörde entscheidet. " * 14  # ~350 chars
    blocks = [Block("§ 2 Absätze", heading_level=2, kind="heading")] + [Block(para.strip()) for _ in range(4)]
    chunks = chunk_document(_doc(blocks), "d", target_chars=800, overlap_chars=0)
    assert all(c.text.startswith("(1)") for c in chunks)
    assert len(chunks) == 2


def test_overlong_sentence_is_cut_at_words() -> None:
    doc = _doc([Block("wort " * 600)])
    chunks = chunk_document(doc, "d", target_chars=500, overlap_chars=0)
    assert len(chunks) >= 5 and all(len(c.text) <= 600 for c in chunks)
    assert all(not c.text.startswith(" ") and c.text.split() == ["wort"] * len(c.text.split()) for c in chunks)


def test_ids_are_deterministic_and_depend_on_doc_and_text() -> None:
    first = chunk_document(_law(), "doc1")
    again = chunk_document(_law(), "doc1")
    other = chunk_document(_law(), "doc2")
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    assert not {c.id for c in first} & {c.id for c in other}


def test_document_without_headings_and_empty_blocks() -> None:
    chunks = chunk_document(_doc([Block("Hallo Welt."), Block("  "), Block("Zweiter Absatz.")]), "d")
    assert len(chunks) == 1 and chunks[0].heading_path == () and chunks[0].page is None
    assert chunk_document(_doc([]), "d") == []
