"""LexicalIndex port: chunks in SQLite (the truth) and a bm25s matrix over German index terms, rebuilt on flush."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.adapters.german_analyzer import GermanAnalyzer, surface_tokens
from app.core.documents import Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL, path TEXT NOT NULL, text TEXT NOT NULL,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    page INTEGER, page_end INTEGER, heading_path TEXT NOT NULL, terms TEXT NOT NULL, title_terms TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', '0');
"""
_COLUMNS = 'id, doc_id, path, text, ordinal, start, "end", page, page_end, heading_path'


class Bm25Index:
    """BM25 over chunk text plus its heading path, with the section title (last heading) counted `title_weight` times.

    SQLite (`lexical.sqlite3`, WAL) holds every chunk and a generation counter bumped by each add/delete. `flush()`
    rebuilds the bm25s matrix from SQLite and saves it with the generation it was built from; on opening, a matrix
    older than the database (a crash between add and flush) is rebuilt before the first search. Deleted chunks
    never come back, even before the next flush. Thread-safe through one lock; searches are served from memory.
    """

    def __init__(self, folder: Path, *, title_weight: int = 3, split_compounds: bool = True,
                 split_documents: bool = True,
                 k1: float = 1.2, b: float = 0.75) -> None:
        self._folder = Path(folder)
        self._folder.mkdir(parents=True, exist_ok=True)
        self._title_weight = title_weight
        self._split = split_compounds
        self._split_docs = split_compounds and split_documents
        self._k1, self._b = k1, b
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self._folder / "lexical.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._retriever: Any = None
        self._ids: list[str] = []
        self._paths = np.zeros(0, dtype=object)
        self._rows_by_path: dict[str, np.ndarray] = {}
        self._analyzer = GermanAnalyzer({}, split_compounds=split_compounds)
        self._built_generation = -1
        self._load()

    # -- writing ------------------------------------------------------------------------------------------------
    def add(self, chunks: Sequence[Chunk]) -> None:
        rows = []
        for c in chunks:
            title = " ".join(c.heading_path)
            rows.append((c.id, c.doc_id, c.path, c.text, c.ordinal, c.start, c.end, c.page, c.page_end,
                         json.dumps(list(c.heading_path), ensure_ascii=False),
                         " ".join(surface_tokens(c.text, keep_case=True)),
                         " ".join(surface_tokens(title, keep_case=True)) + "\x1f"
                         + " ".join(surface_tokens(c.heading_path[-1], keep_case=True))
                         if c.heading_path else "\x1f"))
        with self._lock, self._transaction():
            self._db.executemany(
                f"INSERT OR REPLACE INTO chunks ({_COLUMNS}, terms, title_terms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                rows)
            self._bump()

    def delete(self, chunk_ids: Iterable[str]) -> None:
        ids = [(i,) for i in chunk_ids]
        with self._lock, self._transaction():
            self._db.executemany("DELETE FROM chunks WHERE id = ?", ids)
            self._bump()

    def flush(self) -> None:
        """Rebuild the BM25 matrix from SQLite and save it next to the database (atomically replaced)."""
        with self._lock:
            generation = self._generation()
            rows = self._db.execute("SELECT id, path, terms, title_terms FROM chunks ORDER BY seq").fetchall()
            bodies = [r[2].split() for r in rows]
            titles = [r[3].split("\x1f") for r in rows]
            vocabulary = GermanAnalyzer.vocabulary(
                bodies + [t[0].split() for t in titles]) if self._split else {}
            analyzer = GermanAnalyzer(vocabulary, split_compounds=self._split)
            corpus = []
            for body, (path_terms, last_terms) in zip(bodies, titles):
                sd = self._split_docs
                terms = analyzer.terms(body, split=sd) + analyzer.terms(path_terms.split(), split=sd)
                terms += analyzer.terms(last_terms.split(), split=sd) * (self._title_weight - 1)
                corpus.append(terms)
            self._build(corpus, [r[0] for r in rows], [r[1] for r in rows], analyzer, generation)
            self._save(vocabulary, generation)

    # -- reading ------------------------------------------------------------------------------------------------
    def search(self, query: str, k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        with self._lock:
            if self._built_generation != self._generation() and self._retriever is None:
                self.flush()
            if self._retriever is None or not self._ids or k <= 0:
                return []
            terms = list(dict.fromkeys(self._analyzer.terms(surface_tokens(query, keep_case=True))))
            token_ids = self._retriever.get_tokens_ids(terms)
            if not token_ids:
                return []
            scores = self._retriever.get_scores(token_ids)
            if paths is not None:
                mask = np.zeros(len(scores), dtype=bool)
                for path in set(paths):
                    rows = self._rows_by_path.get(path)
                    if rows is not None:
                        mask[rows] = True
                scores = np.where(mask, scores, 0.0)
            n = min(len(scores), max(k * 2, k + 20))
            top = np.argpartition(-scores, n - 1)[:n]
            top = top[np.argsort(-scores[top], kind="stable")]
            candidates = [(self._ids[i], float(scores[i])) for i in top if scores[i] > 0]
            alive = self._existing([cid for cid, _ in candidates])
            return [(cid, s) for cid, s in candidates if cid in alive][:k]

    def coverage(self, query: str, chunk_ids: Sequence[str]) -> dict[str, float]:
        """For each chunk: the share of the query's distinct index terms (stems, compound parts, § numbers) that
        occur in the chunk's text or headings – 1.0 when every word of the question is there. Unknown ids: left out.
        A relevance signal that does not depend on the rest of the corpus (BM25 scores do)."""
        with self._lock:
            wanted = set(self._analyzer.terms(surface_tokens(query, keep_case=True)))
            if not wanted or not chunk_ids:
                return {}
            out: dict[str, float] = {}
            for i in range(0, len(chunk_ids), 500):
                part = list(chunk_ids[i:i + 500])
                q = f"SELECT id, terms, title_terms FROM chunks WHERE id IN ({','.join('?' * len(part))})"
                for cid, body, title in self._db.execute(q, part):
                    have = set(self._analyzer.terms(body.split() + title.replace("\x1f", " ").split()))
                    out[cid] = len(wanted & have) / len(wanted)
            return out

    def get(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """Chunks in the order asked for; unknown ids are left out."""
        if not chunk_ids:
            return []
        with self._lock:
            found: dict[str, Chunk] = {}
            for i in range(0, len(chunk_ids), 500):
                part = list(chunk_ids[i:i + 500])
                q = f"SELECT {_COLUMNS} FROM chunks WHERE id IN ({','.join('?' * len(part))})"
                for r in self._db.execute(q, part):
                    found[r[0]] = Chunk(id=r[0], doc_id=r[1], path=r[2], text=r[3], ordinal=r[4], start=r[5],
                                        end=r[6], page=r[7], page_end=r[8], heading_path=tuple(json.loads(r[9])))
            return [found[i] for i in chunk_ids if i in found]

    def ids(self) -> set[str]:
        """Every stored chunk id (lets the indexing service find orphans after a crash)."""
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT id FROM chunks")}

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    @property
    def stale(self) -> bool:
        """True when chunks were added or deleted since the matrix was built."""
        with self._lock:
            return self._built_generation != self._generation()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- internals ----------------------------------------------------------------------------------------------
    def _transaction(self):
        db = self._db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, *_):
                db.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()

    def _bump(self) -> None:
        self._db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")

    def _generation(self) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def _existing(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        q = f"SELECT id FROM chunks WHERE id IN ({','.join('?' * len(ids))})"
        return {r[0] for r in self._db.execute(q, ids)}

    def _build(self, corpus: list[list[str]], ids: list[str], paths: list[str], analyzer: GermanAnalyzer,
               generation: int) -> None:
        import bm25s

        if corpus:
            retriever = bm25s.BM25(k1=self._k1, b=self._b)
            retriever.index(corpus, show_progress=False)
        else:
            retriever = None
        self._retriever, self._ids, self._analyzer = retriever, ids, analyzer
        self._set_paths(paths)
        self._built_generation = generation

    def _set_paths(self, paths: list[str]) -> None:
        self._paths = np.asarray(paths, dtype=object)
        rows: dict[str, list[int]] = {}
        for i, path in enumerate(paths):
            rows.setdefault(path, []).append(i)
        self._rows_by_path = {p: np.asarray(r, dtype=np.int64) for p, r in rows.items()}

    def _save(self, vocabulary: dict[str, int], generation: int) -> None:
        target, tmp = self._folder / "bm25", self._folder / "bm25.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        if self._retriever is not None:
            self._retriever.save(str(tmp), show_progress=False)
        state = {"generation": generation, "ids": self._ids, "paths": list(self._paths),
                 "vocabulary": vocabulary, "split_compounds": self._split, "split_documents": self._split_docs, "title_weight": self._title_weight}
        (tmp / "state.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        old = self._folder / "bm25.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)

    def _load(self) -> None:
        target = self._folder / "bm25"
        try:
            state = json.loads((target / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if (state.get("generation") != self._generation() or state.get("split_compounds") != self._split
                or state.get("split_documents") != self._split_docs
                or state.get("title_weight") != self._title_weight):
            return  # stale: rebuilt by the first search
        import bm25s

        retriever = bm25s.BM25.load(str(target), show_progress=False) if state["ids"] else None
        analyzer = GermanAnalyzer(state["vocabulary"], split_compounds=self._split)
        self._retriever, self._ids, self._analyzer = retriever, state["ids"], analyzer
        self._set_paths(state["paths"])
        self._built_generation = state["generation"]
