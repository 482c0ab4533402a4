"""RetrievalService with fake ports: RRF order, § and Aktenzeichen boosts, modes, scope, query processing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.core.documents import Chunk, SearchMode
from app.services.retrieval import RetrievalService, SynonymTable, analyse_query


def _chunk(cid: str, path: str = "a.md", heading: tuple[str, ...] = (), text: str = "") -> Chunk:
    return Chunk(id=cid, doc_id=path, path=path, text=text or f"Text {cid}", ordinal=0, start=0, end=1,
                 heading_path=heading)


class FakeLexical:
    def __init__(self, chunks: Sequence[Chunk], ranking: Sequence[str]) -> None:
        self.chunks = {c.id: c for c in chunks}
        self.ranking = list(ranking)
        self.queries: list[str] = []

    def add(self, chunks: Sequence[Chunk]) -> None: ...

    def delete(self, chunk_ids: Iterable[str]) -> None: ...

    def flush(self) -> None: ...

    def search(self, query: str, k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        self.queries.append(query)
        ids = [i for i in self.ranking if paths is None or self.chunks[i].path in paths]
        return [(i, 10.0 - n) for n, i in enumerate(ids[:k])]

    def get(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        return [self.chunks[i] for i in chunk_ids if i in self.chunks]


class FakeVectors:
    def __init__(self, chunks: Sequence[Chunk], ranking: Sequence[str]) -> None:
        self.paths = {c.id: c.path for c in chunks}
        self.ranking = list(ranking)
        self.queried: list[Sequence[float]] = []

    def upsert(self, chunks, vectors) -> None: ...

    def delete(self, chunk_ids) -> None: ...

    def ids(self) -> set[str]:
        return set(self.ranking)

    def query(self, vector: Sequence[float], k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        self.queried.append(vector)
        ids = [i for i in self.ranking if paths is None or self.paths[i] in paths]
        return [(i, 0.9 - n / 100) for n, i in enumerate(ids[:k])]


class FakeEmbedder:
    name = "fake"
    dim = 2

    def passages(self, texts: Sequence[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]

    def query(self, text: str) -> list[float]:
        return [0.0, 1.0]


CHUNKS = [_chunk(c) for c in "abcde"]


def test_reciprocal_rank_fusion_order() -> None:
    lexical = FakeLexical(CHUNKS, ["a", "b", "c"])
    vectors = FakeVectors(CHUNKS, ["c", "b", "d"])
    hits = RetrievalService(lexical, vectors, FakeEmbedder()).search("Frage", k=4)
    # c: 1/63 + 1/61 = 0.032266 > b: 1/62 + 1/62 = 0.032258 > a: 1/61 > d: 1/63
    assert [h.chunk.id for h in hits] == ["c", "b", "a", "d"]
    assert all(h.mode is SearchMode.HYBRID for h in hits)
    assert hits[1].details == {"bm25_rank": 2, "dense_rank": 2}
    assert hits[0].score > hits[1].score > hits[2].score > hits[3].score


def test_lexical_mode_when_no_vectors_or_none_stored() -> None:
    lexical = FakeLexical(CHUNKS, ["a", "b"])
    for service in (RetrievalService(lexical, None, None), RetrievalService(lexical, FakeVectors(CHUNKS, []),
                                                                           FakeEmbedder())):
        hits = service.search("Frage")
        assert [h.chunk.id for h in hits] == ["a", "b"]
        assert {h.mode for h in hits} == {SearchMode.LEXICAL}


def test_dense_mode_when_bm25_finds_nothing() -> None:
    hits = RetrievalService(FakeLexical(CHUNKS, []), FakeVectors(CHUNKS, ["e"]), FakeEmbedder()).search("x")
    assert [(h.chunk.id, h.mode) for h in hits] == [("e", SearchMode.DENSE)]


def test_file_not_yet_embedded_is_still_found() -> None:
    chunks = [_chunk("old", "alt.md"), _chunk("new", "neu.md")]
    hits = RetrievalService(FakeLexical(chunks, ["new"]), FakeVectors(chunks, ["old"]), FakeEmbedder()).search("x")
    assert {h.chunk.id for h in hits} == {"old", "new"}
    assert hits[0].mode is SearchMode.HYBRID


def test_section_reference_boost() -> None:
    chunks = [_chunk("s27", heading=("VwVfG", "§ 27 Versicherung an Eides statt")),
              _chunk("s28", heading=("VwVfG", "§ 28 Anhörung Beteiligter")),
              _chunk("s280", heading=("VwVfG", "§ 280 Anderes"))]
    lexical = FakeLexical(chunks, ["s27", "s280", "s28"])
    hits = RetrievalService(lexical, None, None).search("Was regelt § 28 VwVfG?")
    assert next(h.chunk.id for h in hits) == "s28" and hits[0].details["boost"] > 0
    assert "boost" not in hits[1].details
    # several sections at once
    hits = RetrievalService(lexical, None, None).search("§§ 27, 28")
    assert [h.chunk.id for h in hits][:2] == ["s27", "s28"]


def test_file_number_boost() -> None:
    chunks = [_chunk("x", text="Bescheid vom 3. Mai"), _chunk("y", text="Ihr Zeichen: AZ 123-45/2024, Antrag"),
              _chunk("z", text="Az. 123-45/2023")]
    lexical = FakeLexical(chunks, ["x", "z", "y"])
    hits = RetrievalService(lexical, None, None).search("Antrag AZ 123-45/2024")
    assert [h.chunk.id for h in hits] == ["y", "x", "z"]
    assert analyse_query("Vorgang II-3/4711 prüfen").file_numbers == ("ii-3/4711",)


def test_paths_scope_both_sides() -> None:
    chunks = [_chunk("a1", "a.md"), _chunk("b1", "b.md"), _chunk("a2", "a.md")]
    lexical = FakeLexical(chunks, ["b1", "a1"])
    vectors = FakeVectors(chunks, ["b1", "a2"])
    hits = RetrievalService(lexical, vectors, FakeEmbedder()).search("x", paths=["a.md"])
    assert {h.chunk.path for h in hits} == {"a.md"} and {h.chunk.id for h in hits} == {"a1", "a2"}


def test_question_words_are_dropped_for_bm25_only() -> None:
    lexical = FakeLexical(CHUNKS, ["a"])
    vectors = FakeVectors(CHUNKS, ["a"])
    RetrievalService(lexical, vectors, FakeEmbedder()).search("Wie lange ist ein Personalausweis gültig?")
    assert lexical.queries == ["Personalausweis gültig"]


def test_synonyms_expand_into_a_second_weaker_bm25_run() -> None:
    table = SynonymTable.parse("# Kommentar\nBürgergeld, Arbeitslosengeld II, Hartz IV\nVermieter => Wohnungsgeber\n")
    assert table.expand("Hartz IV Antrag") == ["Bürgergeld", "Arbeitslosengeld II"]
    assert table.expand("Vermieterbescheinigung") == ["Wohnungsgeber"]
    assert table.expand("Wohnungsgeber") == []  # one way only
    lexical = FakeLexical(CHUNKS, ["a"])
    RetrievalService(lexical, synonyms=table).search("Bekommt ein Vermieter Post?")
    assert lexical.queries == ["Vermieter Post", "Vermieter Post Wohnungsgeber"]


def test_search_lexical_and_dense_alone() -> None:
    lexical = FakeLexical(CHUNKS, ["a", "b"])
    vectors = FakeVectors(CHUNKS, ["c"])
    service = RetrievalService(lexical, vectors, FakeEmbedder())
    assert [(h.chunk.id, h.mode) for h in service.search_lexical("x")] == [("a", SearchMode.LEXICAL),
                                                                         ("b", SearchMode.LEXICAL)]
    assert [(h.chunk.id, h.mode) for h in service.search_dense("x")] == [("c", SearchMode.DENSE)]
    assert RetrievalService(lexical).search_dense("x") == []


def test_deleted_chunk_from_vector_side_is_dropped() -> None:
    lexical = FakeLexical(CHUNKS, ["a"])
    vectors = FakeVectors([*CHUNKS, _chunk("gone")], ["gone", "a"])
    assert [h.chunk.id for h in RetrievalService(lexical, vectors, FakeEmbedder()).search("x")] == ["a"]


def test_collapse_sections_keeps_one_chunk_per_section_first() -> None:
    chunks = [_chunk(f"p{i}", heading=("G", "§ 1 Lang")) for i in range(3)] + [_chunk("q", heading=("G", "§ 2"))]
    order = ["p0", "p1", "p2", "q"]
    lexical, vectors = FakeLexical(chunks, order), FakeVectors(chunks, order)
    plain = RetrievalService(lexical, vectors, FakeEmbedder()).search("x")
    collapsed = RetrievalService(lexical, vectors, FakeEmbedder(), collapse_sections=True).search("x")
    assert [h.chunk.id for h in plain] == ["p0", "p1", "p2", "q"]
    assert [h.chunk.id for h in collapsed] == ["p0", "q", "p1", "p2"]


class FeedbackVectors(FakeVectors):
    """Returns ranking `first` for the plain query vector and `second` for any other (the refined) vector."""

    def __init__(self, chunks: Sequence[Chunk], first: Sequence[str], second: Sequence[str]) -> None:
        super().__init__(chunks, first)
        self.first, self.second = list(first), list(second)

    def vectors(self, chunk_ids: Sequence[str]) -> list[list[float] | None]:
        return [[1.0, 0.0] if cid in self.paths else None for cid in chunk_ids]

    def query(self, vector: Sequence[float], k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        self.vectors_asked = [*getattr(self, "vectors_asked", []), list(vector)]
        self.ranking = self.first if list(vector) == [0.0, 1.0] else self.second
        return super().query(vector, k, paths)


def test_hybrid_refines_the_dense_query_with_feedback_from_both_sides() -> None:
    vectors = FeedbackVectors(CHUNKS, ["a"], ["e", "d"])
    hits = RetrievalService(FakeLexical(CHUNKS, ["b"]), vectors, FakeEmbedder(),
                            feedback_alpha=0.6).search("x")
    first, refined = vectors.vectors_asked
    assert first == [0.0, 1.0]
    # 0.6 * (0, 1) + 0.4 * mean of the stored vectors of a and b (both (1, 0)), normalised
    assert abs(refined[0] - 0.4 / (0.4**2 + 0.6**2) ** 0.5) < 1e-9 and abs(refined[0]**2 + refined[1]**2 - 1) < 1e-9
    assert {h.chunk.id for h in hits} == {"b", "e", "d"}
    # dense alone stays plain, and a store without stored vectors gets one query
    assert [h.chunk.id for h in RetrievalService(FakeLexical(CHUNKS, []), vectors, FakeEmbedder()).search_dense("x")
            ] == ["a"]
    plain = FakeVectors(CHUNKS, ["c"])
    assert [h.chunk.id for h in RetrievalService(FakeLexical(CHUNKS, []), plain, FakeEmbedder()).search("x")] == ["c"]


class FakeVectorsWithStore(FakeVectors):
    def __init__(self, chunks, ranking, stored) -> None:
        super().__init__(chunks, ranking)
        self.stored = stored

    def vectors(self, ids):
        return [self.stored.get(i) for i in ids]


class FakeLexicalWithCoverage(FakeLexical):
    def coverage(self, query, ids):
        return {i: 0.25 for i in ids if i in self.chunks}


def test_hits_carry_plain_question_cosine_and_coverage() -> None:
    stored = {"a": [0.6, 0.8], "b": [1.0, 0.0], "c": [0.0, 1.0]}
    service = RetrievalService(FakeLexicalWithCoverage(CHUNKS, ["a", "b"]),
                               FakeVectorsWithStore(CHUNKS, ["c", "a"], stored), FakeEmbedder())
    hits = {h.chunk.id: h.details for h in service.search("Frage", k=5)}
    # the query vector is [0, 1]: cosine = second component, whatever the feedback step did to the ranking
    assert hits["a"]["cosine"] == 0.8 and hits["b"]["cosine"] == 0.0 and hits["c"]["cosine"] == 1.0
    assert {d["coverage"] for d in hits.values()} == {0.25}
