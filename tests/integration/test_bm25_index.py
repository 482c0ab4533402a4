"""Bm25Index with real bm25s and SQLite on tmp_path: German analysis, persistence, deletion, crash recovery."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.adapters.bm25_index import Bm25Index
from app.adapters.german_analyzer import GermanAnalyzer, surface_tokens
from app.core.chunking import chunk_document
from app.core.documents import Chunk, ExtractedDocument
from app.core.text_blocks import markdown_blocks

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "laws" / "vwvfg_auszug.md"


def _chunk(cid: str, text: str, path: str = "a.md", heading: tuple[str, ...] = ()) -> Chunk:
    return Chunk(id=cid, doc_id=path, path=path, text=text, ordinal=0, start=0, end=len(text), page=2, page_end=3,
                 heading_path=heading)


CHUNKS = [
    _chunk("anh", "Vor dem Erlass ist der Beteiligte anzuhören.", heading=("VwVfG", "§ 28 Anhörung Beteiligter")),
    _chunk("akt", "Die Behörde gestattet Einsicht in die Akten.", heading=("VwVfG", "§ 29 Akteneinsicht")),
    _chunk("steu", "Die Steuer für Hunde setzt die Gemeinde fest. Die Steuer wird jährlich erhoben.",
           path="b.md", heading=("Satzung", "§ 3 Steuersatz")),
    _chunk("gew", "Wer ein Gewerbe beginnt, muss dies anzeigen. Die Anzeige für das Gewerbe ist schriftlich; "
           "Anzeigen prüft die Gemeinde.",
           path="b.md", heading=("GewO", "§ 14 Anzeigepflicht")),
    _chunk("hund", "Hunde sind anzuleinen. Für Hunde gelten besondere Regeln.", path="b.md",
           heading=("Satzung", "§ 4 Leinenpflicht")),
    _chunk("strasse", "Die Straße wird gesperrt.", path="c.md"),
]


def _index(tmp_path: Path, **kwargs) -> Bm25Index:
    index = Bm25Index(tmp_path / "lex", **kwargs)
    index.add(CHUNKS)
    index.flush()
    return index


def _ids(hits: list[tuple[str, float]]) -> list[str]:
    return [cid for cid, _ in hits]


def test_german_stemming_and_title_find_anhoerung(tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert _ids(index.search("Anhörungen", 1)) == ["anh"]
    assert _ids(index.search("Akteneinsicht", 1)) == ["akt"]
    assert _ids(index.search("Strasse", 1)) == ["strasse"]  # ß and ss fold together


def test_section_references_match_with_and_without_space(tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert _ids(index.search("§28", 1)) == ["anh"]
    assert _ids(index.search("§ 29", 1)) == ["akt"]
    assert surface_tokens("§§ 60, 66")[:2] == ["§60", "§66"]


def test_compound_query_is_split_against_the_corpus_vocabulary(tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert _ids(index.search("Hundesteuer", 1)) == ["steu"]
    assert _ids(index.search("Gewerbeanzeige", 1)) == ["gew"]
    plain = _index(tmp_path / "plain", split_compounds=False)
    assert plain.search("Hundesteuer", 3) == []


def test_analyzer_splits_with_linking_elements() -> None:
    analyzer = GermanAnalyzer({"hund": 3, "steuer": 5, "verfahren": 4, "akte": 2})  # nouns, lowercase
    assert analyzer.split("hundesteuer") == ["hund", "steuer"]
    assert analyzer.split("verfahrensakte") == ["verfahren", "akte"]
    assert analyzer.split("steuer") == ["steuer"]


def test_paths_scope_get_and_all_chunk_fields(tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert set(_ids(index.search("Gemeinde Hunde Behörde", 10, paths=["a.md"]))) == {"akt"}
    [got] = index.get(["anh"])
    assert got == CHUNKS[0]
    assert [c.id for c in index.get(["steu", "nope", "anh"])] == ["steu", "anh"]


def test_persistence_across_reopen(tmp_path: Path) -> None:
    index = _index(tmp_path)
    before = index.search("Gewerbe anzeigen", 3)
    index.close()
    reopened = Bm25Index(tmp_path / "lex")
    assert not reopened.stale
    assert reopened.search("Gewerbe anzeigen", 3) == before
    assert reopened.count() == len(CHUNKS)


def test_delete_hides_chunks_at_once_and_after_flush(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.delete(["anh"])
    assert "anh" not in _ids(index.search("Anhörung", 5))
    index.flush()
    assert "anh" not in _ids(index.search("Anhörung", 5))
    assert index.get(["anh"]) == []
    assert index.ids() == {c.id for c in CHUNKS} - {"anh"}


def test_crash_between_add_and_flush_is_repaired_on_open(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.add([_chunk("neu", "Die Wohngeldbehörde bewilligt Wohngeld für zwölf Monate.", path="d.md")])
    index.close()  # no flush: the saved matrix is older than the database, as after a crash
    reopened = Bm25Index(tmp_path / "lex")
    assert reopened.stale
    assert _ids(reopened.search("Wohngeld", 1)) == ["neu"]
    assert not reopened.stale
    again = Bm25Index(tmp_path / "lex")
    assert not again.stale and _ids(again.search("Wohngeld", 1)) == ["neu"]


def test_adds_are_transactional(tmp_path: Path) -> None:
    index = _index(tmp_path)
    try:
        index.add([_chunk("x1", "eins"), _chunk("x2", None)])  # type: ignore[arg-type]
    except (TypeError, AttributeError, sqlite3.Error):
        pass
    assert index.get(["x1"]) == []


def test_re_adding_the_same_chunks_does_not_duplicate(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.add(CHUNKS)
    index.flush()
    assert index.count() == len(CHUNKS)
    assert _ids(index.search("Akteneinsicht", 10)).count("akt") == 1


def test_law_fixture_end_to_end(tmp_path: Path) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    doc = ExtractedDocument(path="vwvfg_auszug.md", format="md", blocks=tuple(markdown_blocks(text)))
    index = Bm25Index(tmp_path / "law")
    index.add(chunk_document(doc, "vwvfg"))
    index.flush()
    [best] = index.get(_ids(index.search("Darf ich die Akten einsehen?", 1)))
    assert best.heading_path[-1] == "§ 29 Akteneinsicht durch Beteiligte"


def test_empty_index(tmp_path: Path) -> None:
    index = Bm25Index(tmp_path / "empty")
    assert index.search("irgendwas", 5) == []
    index.flush()
    assert index.search("irgendwas", 5) == []


def test_coverage_is_the_share_of_question_terms_in_each_chunk(tmp_path: Path) -> None:
    index = _index(tmp_path)
    cov = index.coverage("Anhörung des Beteiligten vor dem Erlass", ["anh", "akt", "fehlt"])
    assert cov["anh"] == 1.0  # anhör (title), beteiligt, erlass: all there
    assert cov["akt"] == 0.0  # "Einsicht in die Akten" shares no term with the question
    assert index.coverage("Anhörung Akteneinsicht", ["akt"])["akt"] == 0.5
    assert "fehlt" not in cov
    assert index.coverage("", ["anh"]) == {}
