"""Hybrid retrieval: German query processing, BM25 + dense search fused by reciprocal rank fusion, exact-match boosts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.core.documents import Chunk, Hit, SearchMode
from app.core.errors import Cancelled
from app.core.library import Embedder, LexicalIndex, VectorStore
from app.core.progress import CancelToken


class QueryExpansion(Protocol):
    """Something that turns a question into extra search terms (e.g. `query_expansion.QueryExpander`)."""

    def expand(self, query: str, cancel: CancelToken | None = None) -> str: ...

# Words of a question that carry no topic: dropped from the BM25 query only (the dense side sees the question).
QUESTION_WORDS = frozenset(
    ["wie", "was", "wann", "wo", "wer", "wem", "wen", "wessen", "welche", "welcher", "welches", "welchen", "welchem", "warum", "weshalb", "wieso", "wozu", "woran", "worauf", "wofür", "wonach", "womit", "wodurch", "wohin", "woher", "ob", "inwiefern", "inwieweit", "muss", "müssen", "musst", "darf", "dürfen", "darfst", "kann", "können", "kannst", "könnte", "sollte", "soll", "sollen", "sollst", "wird", "wurde", "werden", "ist", "sind", "sein", "gibt", "gilt", "geht", "bekommt", "bekommen", "passiert", "lange", "hoch", "viel", "welcher", "trotzdem", "eigentlich", "überhaupt", "noch", "schon", "einfach", "dafür", "dabei", "davon", "dazu", "darüber", "ich", "mir", "mich", "wir", "uns", "man", "jemand", "etwas", "er", "sie", "es", "ihr", "ein", "eine", "einen", "einem", "einer", "der", "die", "das", "den", "dem", "des", "und", "oder", "aber", "bitte", "denn", "dort", "hier"]
)

_SECTION_REF = re.compile(
    r"(§§?|Art\.|Artikel)\s*(\d+\s*[a-z]?\b(?:\s*(?:,|und|bis|-|–)\s*\d+\s*[a-z]?\b)*)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+\s*[a-z]?\b")
# File numbers (Aktenzeichen): digit groups joined by "-", "/" or ".", optionally led by letters or roman numerals,
# e.g. "AZ 123-45/2024", "II-3/4711", "5.1-0815/23".
_FILE_NUMBER = re.compile(r"(?<![\w/.-])(?:[A-Za-z]{1,6}[ -]?)?\d+(?:[-/.]\d+)+(?:[-/][A-Za-z0-9]+)*(?![\w/-])")
_FILE_NUMBER_PREFIX = re.compile(r"^(?:az\.?|aktenzeichen|gz\.?|geschäftszeichen)[ :]*", re.IGNORECASE)
_WORD = re.compile(r"§+\s*\d+[a-z]?|[\w][\w./-]*\w|\w", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SynonymTable:
    """Synonym rules from a resource file: "a, b, c" (a group: each pulls in the others) or "a, b => c" (one way).

    A trigger matches as a word or the beginning of a word of the query.
    """

    rules: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # (triggers, additions)

    @classmethod
    def parse(cls, text: str) -> SynonymTable:
        rules = []
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            left, arrow, right = line.partition("=>")
            triggers = tuple(t.strip() for t in left.split(",") if t.strip())
            additions = tuple(t.strip() for t in right.split(",") if t.strip()) if arrow else triggers
            if triggers and additions and (arrow or len(triggers) > 1):
                rules.append((triggers, additions))
        return cls(tuple(rules))

    def expand(self, query: str) -> list[str]:
        """Terms the rules add for `query`, leaving out those already in it."""
        low = query.lower()
        extra: list[str] = []
        for triggers, additions in self.rules:
            if any(re.search(r"(?<!\w)" + re.escape(t.lower()), low) for t in triggers):
                extra.extend(t for t in additions if t.lower() not in low and t not in extra)
        return extra


@dataclass(frozen=True, slots=True)
class QueryAnalysis:
    lexical_query: str  # the query without question words, plus expansions
    plain_query: str = ""  # the query without question words
    section_refs: tuple[str, ...] = ()  # normalised "§ 28", "art 3"
    file_numbers: tuple[str, ...] = ()  # normalised, without "AZ"
    expansions: tuple[str, ...] = field(default_factory=tuple)


def _norm_ref(kind: str, number: str) -> str:
    return ("§ " if kind.startswith("§") else "art ") + re.sub(r"\s+", "", number.lower())


def _norm_file_number(text: str) -> str:
    return re.sub(r"\s+", "", _FILE_NUMBER_PREFIX.sub("", text.strip())).lower()


def analyse_query(query: str, synonyms: SynonymTable | None = None) -> QueryAnalysis:
    refs = tuple(dict.fromkeys(
        _norm_ref(m.group(1), n) for m in _SECTION_REF.finditer(query) for n in _NUMBER.findall(m.group(2))))
    files = tuple(dict.fromkeys(
        _norm_file_number(m.group(0)) for m in _FILE_NUMBER.finditer(query) if not _SECTION_REF.fullmatch(m.group(0))))
    words = [w for w in _WORD.findall(query) if w.lower() not in QUESTION_WORDS]
    expansions = tuple(synonyms.expand(query)) if synonyms else ()
    plain = " ".join(words) or query
    return QueryAnalysis(" ".join([plain, *expansions]), plain, refs, files, expansions)


def _heading_refs(chunk: Chunk) -> set[str]:
    refs: set[str] = set()
    for heading in chunk.heading_path:
        m = _SECTION_REF.match(heading.strip())
        if m:
            refs.update(_norm_ref(m.group(1), n) for n in _NUMBER.findall(m.group(2)))
    return refs


class RetrievalService:
    """Finds chunks for a question: BM25 and dense rankings fused by reciprocal rank fusion (RRF, k=60).

    In the hybrid search the dense query is refined by pseudo-relevance feedback from the top chunks of both sides
    (when the vector store can return stored vectors). Exact matches are boosted on top: a chunk in the § section (or article) the query names, and a chunk whose
    text contains a file number (Aktenzeichen) of the query. `mode` of the hits says which side answered: HYBRID
    when both did, LEXICAL when there are no vectors (yet) for the scope, DENSE when BM25 found nothing.
    """

    def __init__(self, lexical: LexicalIndex, vectors: VectorStore | None = None, embedder: Embedder | None = None,
                 *, synonyms: SynonymTable | None = None, rrf_k: int = 60, depth: int = 50,
                 lexical_weight: float = 1.0, dense_weight: float = 1.0, section_boost: float = 0.05,
                 file_number_boost: float = 0.05, expansion_weight: float = 0.5,
                 collapse_sections: bool = False, feedback_docs: int = 3, feedback_alpha: float = 0.7,
                 expander: QueryExpansion | None = None, expander_lexical_weight: float = 0.5,
                 expander_dense_weight: float = 0.5, expander_dense_with_question: bool = True) -> None:
        self._lexical = lexical
        self._vectors = vectors
        self._embedder = embedder
        self._synonyms = synonyms
        self._rrf_k = rrf_k
        self._depth = depth
        self._weights = (lexical_weight, dense_weight)
        self._section_boost = section_boost
        self._file_number_boost = file_number_boost
        self._expansion_weight = expansion_weight
        self._collapse = collapse_sections
        self._feedback_docs = feedback_docs
        self._feedback_alpha = feedback_alpha
        self._expander = expander
        self._expander_weights = (expander_lexical_weight, expander_dense_weight)
        self._expander_dense_with_question = expander_dense_with_question
        self.last_expansion = ""  # the expansion text of the last `search` (diagnostics, bench)

    def analyse(self, query: str) -> QueryAnalysis:
        return analyse_query(query, self._synonyms)

    # -- single sides (also used by the evaluation) ---------------------------------------------------------------
    def lexical_ranking(self, query: str, k: int, paths: Sequence[str] | None = None,
                        analysis: QueryAnalysis | None = None) -> list[tuple[str, float]]:
        """BM25 ranking; with synonym expansions, the plain and the expanded run are fused (expanded weighs less)."""
        analysis = analysis or self.analyse(query)
        plain = self._lexical.search(analysis.plain_query, k, paths)
        if not analysis.expansions:
            return plain
        expanded = self._lexical.search(analysis.lexical_query, k, paths)
        fused: dict[str, float] = {}
        for ranked, weight in ((plain, 1.0), (expanded, self._expansion_weight)):
            for rank, (cid, _) in enumerate(ranked, 1):
                fused[cid] = fused.get(cid, 0.0) + weight / (self._rrf_k + rank)
        return sorted(fused.items(), key=lambda x: -x[1])[:k]

    def dense_ranking(self, query: str, k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        if self._vectors is None or self._embedder is None or not query.strip():
            return []
        return self._vectors.query(self._embedder.query(query), k, paths)

    def search_lexical(self, query: str, k: int = 10, paths: Sequence[str] | None = None) -> list[Hit]:
        ranked = self.lexical_ranking(query, k, paths)
        return self._hits(ranked, SearchMode.LEXICAL, {cid: {"bm25_rank": r} for r, (cid, _) in enumerate(ranked, 1)})

    def search_dense(self, query: str, k: int = 10, paths: Sequence[str] | None = None) -> list[Hit]:
        ranked = self.dense_ranking(query, k, paths)
        return self._hits(ranked, SearchMode.DENSE, {cid: {"dense_rank": r} for r, (cid, _) in enumerate(ranked, 1)})

    # -- hybrid -------------------------------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, paths: Sequence[str] | None = None, *,
               cancel: CancelToken | None = None) -> list[Hit]:
        """Hybrid search. With an `expander`, its terms run as a further BM25 and dense query (lower RRF weight);
        if the expansion fails or `cancel` is set while it runs, the plain hybrid search is returned."""
        if not query.strip() or k <= 0:
            return []
        analysis = self.analyse(query)
        depth = max(self._depth, k)
        lexical = self.lexical_ranking(query, depth, paths, analysis)
        qvec = self._query_vector(query)
        dense = self._dense_with_feedback(query, depth, paths, lexical, qvec)
        sides: list[tuple[str, list[tuple[str, float]], float]] = [
            ("bm25", lexical, self._weights[0]), ("dense", dense, self._weights[1])]
        sides += self._expansion_rankings(query, depth, paths, cancel)
        mode = SearchMode.HYBRID if lexical and dense else SearchMode.DENSE if dense else SearchMode.LEXICAL
        chunks = {c.id: c for c in self._lexical.get(list(dict.fromkeys(i for _, r, _ in sides for i, _ in r)))}
        if self._collapse:
            sides = [(name, self._collapse_sections(r, chunks), w) for name, r, w in sides]
        fused: dict[str, float] = {}
        details: dict[str, dict[str, float]] = {}
        for side, ranked, weight in sides:
            for rank, (cid, score) in enumerate(ranked, 1):
                fused[cid] = fused.get(cid, 0.0) + weight / (self._rrf_k + rank)
                details.setdefault(cid, {})[f"{side}_rank"] = rank
        if analysis.section_refs or analysis.file_numbers:
            for cid, chunk in chunks.items():
                boost = self._boost(chunk, analysis)
                if boost:
                    fused[cid] += boost
                    details[cid]["boost"] = boost
        ranked = sorted(((cid, s) for cid, s in fused.items() if cid in chunks), key=lambda x: -x[1])[:k]
        self._relevance(query, qvec, [cid for cid, _ in ranked], details)
        return [Hit(chunks[cid], s, mode, details[cid]) for cid, s in ranked]

    def _query_vector(self, query: str) -> list[float] | None:
        if self._vectors is None or self._embedder is None:
            return None
        return [float(x) for x in self._embedder.query(query)]

    def _relevance(self, query: str, qvec: list[float] | None, ids: list[str],
                   details: dict[str, dict[str, float]]) -> None:
        """Absolute relevance signals for the returned hits (RRF scores only rank): `cosine` – similarity of the
        plain question vector to the stored chunk vector (needs the store's optional `vectors(ids)`), and
        `coverage` – share of the question's index terms in the chunk (needs the lexical index's optional
        `coverage(query, ids)`). Callers such as the lookup use them to tell "nothing fits" from weak hits."""
        if not ids:
            return
        stored = getattr(self._vectors, "vectors", None)
        if qvec is not None and callable(stored):
            for cid, vec in zip(ids, stored(ids)):
                if vec is not None:
                    details[cid]["cosine"] = round(float(sum(a * b for a, b in zip(qvec, vec))), 6)
        coverage = getattr(self._lexical, "coverage", None)
        if callable(coverage):
            for cid, share in coverage(query, ids).items():
                details[cid]["coverage"] = round(share, 6)

    def _expansion_rankings(self, query: str, k: int, paths: Sequence[str] | None,
                            cancel: CancelToken | None) -> list[tuple[str, list[tuple[str, float]], float]]:
        """BM25 and dense rankings for the expander's terms; [] without expander, on failure or cancel.

        The expansion is untrusted model output: it is used only as search terms – no § or file-number boosts,
        no synonym rules – and BM25 sees it without the question, the dense side after the question."""
        self.last_expansion = ""
        if self._expander is None:
            return []
        try:
            terms = self._expander.expand(query, cancel)
        except Cancelled:
            return []
        except Exception:  # noqa: BLE001 - a failing model must not break search: fall back to the plain search
            return []
        if not isinstance(terms, str) or not terms.strip():
            return []
        terms = " ".join(terms.split())[:500]
        self.last_expansion = terms
        sides: list[tuple[str, list[tuple[str, float]], float]] = []
        lexical_weight, dense_weight = self._expander_weights
        if lexical_weight > 0:
            sides.append(("bm25_expansion", self._lexical.search(terms, k, paths), lexical_weight))
        if dense_weight > 0:
            text = f"{query} {terms}" if self._expander_dense_with_question else terms
            sides.append(("dense_expansion", self.dense_ranking(text, k, paths), dense_weight))
        return [s for s in sides if s[1]]

    def _dense_with_feedback(self, query: str, k: int, paths: Sequence[str] | None,
                             lexical: list[tuple[str, float]], qvec: list[float] | None = None
                             ) -> list[tuple[str, float]]:
        """Dense ranking with hybrid pseudo-relevance feedback (Rocchio).

        The query vector is moved towards the mean vector of the top `feedback_docs` chunks of the first dense run
        and of BM25 (q' = α·q + (1-α)·mean), then searched again. Needs the optional store method
        `vectors(ids) -> list[vector]` (stored vectors, no re-embedding); without it, the plain dense ranking.
        """
        if self._vectors is None or self._embedder is None:
            return []
        if qvec is None:
            qvec = [float(x) for x in self._embedder.query(query)]
        first = self._vectors.query(qvec, k, paths)
        stored = getattr(self._vectors, "vectors", None)
        n = self._feedback_docs
        if not first or n <= 0 or not callable(stored):
            return first
        feedback = list(dict.fromkeys([cid for cid, _ in first[:n]] + [cid for cid, _ in lexical[:n]]))
        vecs = [v for v in stored(feedback) if v is not None]
        if not vecs:
            return first
        dim = len(qvec)
        mean = [sum(v[i] for v in vecs) / len(vecs) for i in range(dim)]
        alpha = self._feedback_alpha
        moved = [alpha * q + (1 - alpha) * m for q, m in zip(qvec, mean)]
        norm = sum(x * x for x in moved) ** 0.5 or 1.0
        return self._vectors.query([x / norm for x in moved], k, paths)

    @staticmethod
    def _collapse_sections(ranked: list[tuple[str, float]], chunks: Mapping[str, Chunk]) -> list[tuple[str, float]]:
        """Keep the best chunk of each section (file + heading path), so one long § does not crowd out others.

        Later chunks of a section stay in the list, after all first chunks, so that `k` can still be filled."""
        first: list[tuple[str, float]] = []
        rest: list[tuple[str, float]] = []
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for cid, score in ranked:
            chunk = chunks.get(cid)
            if chunk is None:
                continue
            key = (chunk.path, chunk.heading_path)
            if key in seen or not chunk.heading_path:
                (rest if key in seen else first).append((cid, score))
            else:
                seen.add(key)
                first.append((cid, score))
        return first + rest

    def _boost(self, chunk: Chunk, analysis: QueryAnalysis) -> float:
        boost = 0.0
        if analysis.section_refs and _heading_refs(chunk) & set(analysis.section_refs):
            boost += self._section_boost
        if analysis.file_numbers:
            text = re.sub(r"\s+", "", chunk.embedding_text()).lower()
            if any(f in text for f in analysis.file_numbers):
                boost += self._file_number_boost
        return boost

    def _hits(self, ranked: Iterable[tuple[str, float]], mode: SearchMode,
              details: Mapping[str, dict[str, float]]) -> list[Hit]:
        ranked = list(ranked)
        chunks = {c.id: c for c in self._lexical.get([cid for cid, _ in ranked])}
        return [Hit(chunks[cid], s, mode, dict(details[cid])) for cid, s in ranked if cid in chunks]
