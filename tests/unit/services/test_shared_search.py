"""Departmental knowledge fused with the local search (fakes): order, marking, server failure, scope, lookup."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from app.core.documents import Chunk, Hit, SearchMode
from app.core.draft_builders import from_record, to_record
from app.core.drafts import Author, Draft, DraftKind, DraftSource, TextVersion
from app.core.errors import AktenlotseError, RemoteRejected, RemoteUnavailable
from app.core.lookup import Scope
from app.services.library import LibraryService
from app.services.lookup import LookupService, grounding_text
from app.services.shared_search import SharedSearch


def local_chunk(n: int, text: str = "") -> Chunk:
    return Chunk(id=f"l{n}", doc_id="d", path=f"/akten/fall/doc{n}.md", text=text or f"lokaler Text {n}",
                 ordinal=n, start=0, end=10, heading_path=("Akte", f"Vermerk {n}"))


def shared_chunk(n: int, collection: str = "Gewerberecht", text: str = "") -> Chunk:
    return Chunk(id=f"{collection}:s{n}", doc_id="g", path="GewO.md", text=text or f"Fachtext {n}", ordinal=n,
                 start=0, end=10, heading_path=("GewO", f"§ {13 + n} Anzeigepflicht"), collection=collection)


class FakeShared:
    display = "wissen.rz.example.de:443"

    def __init__(self, chunks: Sequence[Chunk] = (), error: Exception | None = None) -> None:
        self.chunks = list(chunks)
        self.error = error
        self.vectors: list[list[float]] = []

    def query(self, vector, k):
        self.vectors.append(list(vector))
        if self.error is not None:
            raise self.error
        return [(c, 0.9 - i / 100) for i, c in enumerate(self.chunks[:k])]

    def describe(self):
        return [("Gewerberecht", len(self.chunks))]


class FakeEmbedder:
    name, dim = "fake", 3

    def __init__(self) -> None:
        self.queries: list[str] = []

    def passages(self, texts):
        return [[0.0, 0.0, 1.0] for _ in texts]

    def query(self, text):
        self.queries.append(text)
        return [1.0, 0.0, 0.0]


class FakeRetrieval:
    def __init__(self, hits: Sequence[Hit]) -> None:
        self.hits = list(hits)
        self.calls: list[object] = []

    def search(self, query, k=10, paths=None):
        self.calls.append(paths)
        return self.hits[:k]


def local_hits(n: int = 3) -> list[Hit]:
    return [Hit(local_chunk(i), 1.0 / i, SearchMode.HYBRID, {"bm25_rank": float(i), "cosine": 0.9})
            for i in range(1, n + 1)]


def library(shared: FakeShared | None, hits: Sequence[Hit] | None = None) -> tuple[LibraryService, FakeEmbedder]:
    embedder = FakeEmbedder()
    search = SharedSearch(shared, embedder) if shared is not None else None
    indexing = SimpleNamespace(manifest=SimpleNamespace(get=lambda path: None))
    return LibraryService(indexing, FakeRetrieval(local_hits() if hits is None else hits), shared=search), embedder


def test_location_marks_shared_chunks() -> None:
    assert shared_chunk(1).location_de() == "Fachbereich „Gewerberecht“: GewO.md, § 14 Anzeigepflicht"
    assert local_chunk(1).location_de() == "doc1.md, Vermerk 1"
    assert shared_chunk(1).is_shared and not local_chunk(1).is_shared
    assert "Fachbereich „Gewerberecht“" in shared_chunk(1).citable_text()


def test_fusion_interleaves_by_reciprocal_rank_and_marks_shared_hits() -> None:
    shared = FakeShared([shared_chunk(1), shared_chunk(2)])
    lib, embedder = library(shared)
    hits = lib.search("Anzeigepflicht Gewerbe", k=5)
    assert [h.chunk.id for h in hits] == ["l1", "Gewerberecht:s1", "l2", "Gewerberecht:s2", "l3"]
    assert hits[0].score == pytest.approx(1 / 61) and hits[1].score == pytest.approx(1 / 61)
    assert hits[2].score == pytest.approx(1 / 62)
    first_shared = hits[1]
    assert first_shared.chunk.collection == "Gewerberecht" and first_shared.mode is SearchMode.DENSE
    assert first_shared.details == {"shared_rank": 1.0, "dense_rank": 1.0, "cosine": 0.9}
    assert hits[0].details["local_rank"] == 1.0 and hits[0].details["bm25_rank"] == 1.0
    assert lib.last_notice == ""
    # the query is embedded locally; only its vector goes to the server
    assert embedder.queries == ["Anzeigepflicht Gewerbe"] and shared.vectors == [[1.0, 0.0, 0.0]]


def test_k_limits_the_fused_list() -> None:
    lib, _ = library(FakeShared([shared_chunk(i) for i in range(1, 6)]))
    assert len(lib.search("x", k=3)) == 3


def test_shared_only_when_nothing_local() -> None:
    lib, _ = library(FakeShared([shared_chunk(1)]), hits=[])
    hits = lib.search("Anzeigepflicht", k=5)
    assert [h.chunk.id for h in hits] == ["Gewerberecht:s1"]


@pytest.mark.parametrize("error, words", [
    (RemoteUnavailable("Der Server für Fachbereichswissen (wissen.rz.example.de:443) ist nicht erreichbar."),
     "nicht erreichbar"),
    (RemoteRejected("Die Sammlung „Baurecht“ gibt es auf dem Server für Fachbereichswissen nicht."), "„Baurecht“"),
    (RuntimeError("boom"), "unerwartet"),
])
def test_server_failure_returns_local_hits_with_a_notice(error, words, caplog) -> None:
    lib, _ = library(FakeShared([shared_chunk(1)], error=error))
    with caplog.at_level(logging.WARNING):
        hits = lib.search("Anzeigepflicht", k=5)
    assert [h.chunk.id for h in hits] == ["l1", "l2", "l3"]
    assert words in lib.last_notice and "nur Treffer aus Ihren eigenen Dokumenten" in lib.last_notice
    assert caplog.records, "the failure is logged"


def test_notice_clears_on_the_next_good_search() -> None:
    shared = FakeShared([shared_chunk(1)], error=RemoteUnavailable("weg"))
    lib, _ = library(shared)
    lib.search("a")
    assert lib.last_notice
    shared.error = None
    lib.search("a")
    assert lib.last_notice == ""


def test_scope_of_local_files_searches_local_only() -> None:
    shared = FakeShared([shared_chunk(1)])
    lib, embedder = library(shared)
    hits = lib.search("Anzeigepflicht", k=5, paths=["/akten/fall/doc1.md"])
    assert not any(h.chunk.is_shared for h in hits)
    assert shared.vectors == [] and embedder.queries == []
    assert lib.last_notice == ""


def test_without_shared_source_search_is_unchanged() -> None:
    lib, _ = library(None)
    hits = lib.search("x", k=2)
    assert [h.chunk.id for h in hits] == ["l1", "l2"] and "local_rank" not in hits[0].details


def test_shared_path_is_never_opened_locally() -> None:
    lib, _ = library(FakeShared([shared_chunk(1)]))
    lib.search("Anzeigepflicht")
    assert lib.is_shared_path("GewO.md")
    for read in (lib.document_text, lib.read_chunks):
        with pytest.raises(AktenlotseError, match="Fachbereichswissen"):
            read("GewO.md")


def test_lookup_treats_shared_passages_like_any_source() -> None:
    from tests.unit.services.test_lookup import ready_service

    lib, _ = library(FakeShared([shared_chunk(1, text="Wer einen Gewerbebetrieb anfängt, muss dies anzeigen.")]),
                     hits=[])
    service, _ = ready_service(pieces=["Der Beginn ist anzuzeigen [1]."])
    lookup = LookupService(lib, service)
    sources = lookup.find_sources("Muss ich ein Gewerbe anzeigen?", Scope.everything())
    assert len(sources) == 1 and sources[0].is_shared and sources[0].collection == "Gewerberecht"
    assert grounding_text(sources[0]).startswith("Fachbereich „Gewerberecht“: GewO.md")
    answer = None
    gen = lookup.ask("Muss ich ein Gewerbe anzeigen?")
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        answer = stop.value
    assert answer.sources[0].chunk.is_shared and not answer.flags
    assert lookup.search_notice == ""


def test_lookup_exposes_the_search_notice() -> None:
    lib, _ = library(FakeShared(error=RemoteUnavailable("Server weg.")))
    from tests.unit.services.test_lookup import ready_service

    lookup = LookupService(lib, ready_service()[0])
    lookup.find_sources("Anzeigepflicht", Scope.everything())
    assert "Server weg." in lookup.search_notice


def test_draft_record_keeps_the_collection_and_reads_old_records() -> None:
    draft = Draft(kind=DraftKind.LOOKUP, title="t", versions=[TextVersion(1, "Text [1] [2].", Author.MODEL, datetime.now(UTC))],
                  sources=(DraftSource(1, shared_chunk(1)), DraftSource(2, local_chunk(2))))
    record = to_record(draft)
    assert record["sources"][0]["chunk"]["collection"] == "Gewerberecht"
    assert "collection" not in record["sources"][1]["chunk"]  # local chunks: the old record form
    back = from_record(record)
    assert back.sources[0].chunk == shared_chunk(1) and back.sources[1].chunk == local_chunk(2)


def test_with_pseudonymisation_the_server_gets_the_vector_of_the_masked_question() -> None:
    """The embedding sent to the server is made from the question with names and file numbers masked."""
    from app.core.pseudonymise import Pseudonymiser

    embedder = FakeEmbedder()
    search = SharedSearch(FakeShared([shared_chunk(1)]), embedder, mask=lambda q: Pseudonymiser().mask(q))
    result = search.fuse("Muss Frau Sabine Korte (Az. 32.4-SN/0815/2025) ihr Gewerbe anzeigen?", local_hits(), 5)
    assert result.shared_hits == 1
    (sent,) = embedder.queries
    assert "Korte" not in sent and "0815" not in sent
    assert "[PERSON_1]" in sent and "[AKTENZEICHEN_1]" in sent and "Gewerbe anzeigen" in sent
