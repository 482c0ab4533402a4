"""Retrieval evaluation: index the law corpus, run every question through BM25, dense and hybrid, score each run.

usage: python bench/eval_retrieval.py LAWS_DIR QUESTIONS [--scorer PATH] [--cache DIR] [--out DIR]
       [--expand-model GGUF [--expansions-out FILE]] [--expansions FILE]

With --expand-model the local model expands every question into statutory terms (QueryExpander) and a fourth
mode "hybrid+expansion" is scored; the added latency per question is printed. --expansions-out saves the
expansions (with their latencies) as JSON, --expansions FILE reuses such a file without loading the model.

Embeddings are cached on disk keyed by the sha1 of the embedded text (embedding ~3,000 chunks takes ~10 min
on 2 cores); the BM25 index is built in a temporary folder each run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.chunking import chunk_document
from app.core.documents import Chunk, ExtractedDocument
from app.core.text_blocks import markdown_blocks

SECTION = re.compile(r"^(§§?\s*\d+[a-z]*|Art(?:ikel|\.)\s*\d+[a-z]*)")


def load_chunks(laws_dir: Path) -> list[Chunk]:
    chunks: list[Chunk] = []
    for path in sorted(laws_dir.glob("*.md")):
        blocks = markdown_blocks(path.read_text(encoding="utf-8"))
        doc = ExtractedDocument(path=path.name, format="md", blocks=tuple(blocks), title=blocks[0].text)
        chunks.extend(chunk_document(doc, doc_id=path.name))
    return chunks


def embed_cached(embedder, texts: list[str], cache: Path, log=print) -> np.ndarray:
    """Vectors for `texts`, computing only those not yet cached (one .npy per text hash)."""
    cache.mkdir(parents=True, exist_ok=True)
    keys = [hashlib.sha1(f"{embedder.name}\x00{t}".encode()).hexdigest() for t in texts]
    missing = [i for i, k in enumerate(keys) if not (cache / f"{k}.npy").exists()]
    t0 = time.perf_counter()
    for n in range(0, len(missing), 32):
        idx = missing[n:n + 32]
        for i, vec in zip(idx, embedder.passages([texts[i] for i in idx])):
            np.save(cache / f"{keys[i]}.npy", np.asarray(vec, dtype=np.float32))
        log(f"  embedded {min(n + 32, len(missing))}/{len(missing)} ({time.perf_counter() - t0:.0f} s)")
    return np.stack([np.load(cache / f"{k}.npy") for k in keys]) if keys else np.zeros((0, embedder.dim))


def run_file(hits_per_question: dict[str, list], top: int = 10) -> dict[str, list[dict[str, str]]]:
    """RUN json: per question the distinct (file, § section) of the hits in rank order, top 10."""
    run: dict[str, list[dict[str, str]]] = {}
    for qid, hits in hits_per_question.items():
        seen: list[tuple[str, str]] = []
        for hit in hits:
            chunk = hit.chunk
            section = next((m.group(1) for h in reversed(chunk.heading_path) if (m := SECTION.match(h))),
                           chunk.heading_path[-1] if chunk.heading_path else "")
            key = (chunk.path, section)
            if key not in seen:
                seen.append(key)
        run[qid] = [{"file": f, "section": s} for f, s in seen[:top]]
    return run


def score(scorer: Path, run_path: Path, questions: Path, laws: Path) -> dict[str, str]:
    out = subprocess.run([sys.executable, str(scorer), str(run_path), str(questions), str(laws)],
                         capture_output=True, text=True, check=True).stdout
    return {line.split()[0]: line for line in out.splitlines() if line.strip()}


def metric(line: str, name: str) -> str:
    m = re.search(rf"{re.escape(name)}=([0-9.]+)", line)
    return m.group(1) if m else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("laws", type=Path)
    ap.add_argument("questions", type=Path)
    ap.add_argument("--scorer", type=Path, default=None, help="score_retrieval.py (default: next to QUESTIONS)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "aktenlotse" / "eval_embeddings",
                    help="embedding cache (one .npy per text hash; outside the repository)")
    ap.add_argument("--out", type=Path, default=None, help="folder for the RUN json files (default: temporary)")
    ap.add_argument("--synonyms", default=str(REPO / "resources" / "retrieval" / "synonyms_de.txt"),
                    help="synonym table ('' for none)")
    ap.add_argument("--no-compounds", action="store_true", help="BM25 without compound splitting")
    ap.add_argument("--title-weight", type=int, default=3, help="how often the section title counts in BM25")
    ap.add_argument("--target-chars", type=int, default=1000)
    ap.add_argument("--expand-model", type=Path, default=None, help="GGUF model for LLM query expansion")
    ap.add_argument("--expand-threads", type=int, default=None, help="llama.cpp threads for the expansion model")
    ap.add_argument("--expand-prompt", type=Path, default=None, help="prompt file (default: resources/prompts/…)")
    ap.add_argument("--expand-passage", action="store_true", help="prompt asks for a HyDE passage, not terms")
    ap.add_argument("--expansions", type=Path, default=None, help="reuse expansions saved by --expansions-out")
    ap.add_argument("--expansions-out", type=Path, default=None, help="save the expansions as JSON")
    ap.add_argument("--exp-lex-weight", type=float, default=0.5, help="RRF weight of the expansion's BM25 run")
    ap.add_argument("--exp-dense-weight", type=float, default=0.5, help="RRF weight of the expansion's dense run")
    ap.add_argument("--exp-dense-terms-only", action="store_true",
                    help="dense expansion query = terms only (default: question + terms)")
    args = ap.parse_args(argv)

    from app.adapters.bm25_index import Bm25Index
    from app.adapters.e5_embedder import E5Embedder
    from app.adapters.memory_vectors import MemoryVectorStore
    from app.services.retrieval import RetrievalService, SynonymTable

    scorer = args.scorer or args.questions.parent / "score_retrieval.py"
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]

    t0 = time.perf_counter()
    chunks = load_chunks(args.laws) if args.target_chars == 1000 else _load_chunks(args.laws, args.target_chars)
    t_chunk = time.perf_counter() - t0
    tmp = Path(tempfile.mkdtemp(prefix="eval_bm25_"))
    lexical = Bm25Index(tmp, title_weight=args.title_weight, split_compounds=not args.no_compounds)
    t0 = time.perf_counter()
    lexical.add(chunks)
    t_add = time.perf_counter() - t0
    t0 = time.perf_counter()
    lexical.flush()
    t_flush = time.perf_counter() - t0
    embedder = E5Embedder()
    t0 = time.perf_counter()
    vectors_np = embed_cached(embedder, [c.embedding_text() for c in chunks], args.cache)
    t_embed = time.perf_counter() - t0
    vectors = MemoryVectorStore(embedder.dim)
    vectors.upsert(chunks, vectors_np)
    print(f"{len(chunks)} chunks from {len(list(args.laws.glob('*.md')))} files: chunking {t_chunk:.1f} s, "
          f"BM25 add {t_add:.1f} s, flush {t_flush:.1f} s, embeddings (cached) {t_embed:.1f} s")

    synonyms = SynonymTable.parse(Path(args.synonyms).read_text(encoding="utf-8")) if args.synonyms else None
    service = RetrievalService(lexical, vectors, embedder, synonyms=synonyms)
    out = args.out or Path(tempfile.mkdtemp(prefix="eval_runs_"))
    out.mkdir(parents=True, exist_ok=True)
    runs = {"bm25": service.search_lexical, "dense": service.search_dense, "hybrid": service.search}
    expansions = _expansions(args, questions)
    if expansions is not None:
        table = {q: e for q, (e, _) in expansions.items()}
        expanded = RetrievalService(lexical, vectors, embedder, synonyms=synonyms, expander=_TableExpander(table),
                                    expander_lexical_weight=args.exp_lex_weight,
                                    expander_dense_weight=args.exp_dense_weight,
                                    expander_dense_with_question=not args.exp_dense_terms_only)
        runs["hybrid+expansion"] = expanded.search
    results = {}
    t_q = time.perf_counter()
    for name, fn in runs.items():
        run = run_file({q["id"]: fn(q["q"], 40) for q in questions})
        path = out / f"RUN_{name}.json"
        path.write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
        results[name] = score(scorer, path, args.questions, args.laws)
    t_q = time.perf_counter() - t_q
    print(f"{len(questions)} questions × {len(runs)} modes in {t_q:.1f} s; RUN files in {out}")
    if expansions is not None:
        secs = sorted(t for _, t in expansions.values())
        print(f"expansion latency per question (LLM only, added to the search): mean {sum(secs) / len(secs):.2f} s, "
              f"median {secs[len(secs) // 2]:.2f} s, max {secs[-1]:.2f} s")
    print(f"{'mode':16} {'group':7} {'n':>3} {'hit@1':>6} {'hit@5':>6} {'hit@10':>6} {'MRR@10':>7}")
    for name, res in results.items():
        for group in ("easy", "medium", "hard", "all"):
            if group in res:
                line = res[group]
                print(f"{name:16} {group:7} {line.split()[1]:>3} {metric(line, 'hit@1'):>6} "
                      f"{metric(line, 'hit@5'):>6} {metric(line, 'hit@10'):>6} {metric(line, 'MRR@10'):>7}")
    lexical.close()
    return 0


class _TableExpander:
    """Expansions computed up front (so every mode is timed on search alone)."""

    def __init__(self, table: dict[str, str]) -> None:
        self._table = table

    def expand(self, query: str, cancel=None) -> str:
        return self._table.get(query, "")


def _expansions(args, questions: list[dict]) -> dict[str, tuple[str, float]] | None:
    """{question: (expansion, seconds)} from --expansions or generated with --expand-model; None without either."""
    if args.expansions:
        data = json.loads(args.expansions.read_text(encoding="utf-8"))
        return {q: (e["expansion"], e["seconds"]) for q, e in data.items()}
    if not args.expand_model:
        return None
    from app.adapters.llama_cpp_model import LlamaCppModel
    from app.adapters.model_files import GgufModelFiles
    from app.core.llm import GenerationParams
    from app.core.progress import CancelToken
    from app.services.query_expansion import QueryExpander, load_prompt

    model = LlamaCppModel(GgufModelFiles().inspect(args.expand_model), n_threads=args.expand_threads)
    t0 = time.perf_counter()
    model.load()
    print(f"expansion model {args.expand_model.name} loaded in {time.perf_counter() - t0:.1f} s")
    prompt = load_prompt(args.expand_prompt) if args.expand_prompt else None
    expander = QueryExpander(model, prompt=prompt, passage=args.expand_passage,
                             params=GenerationParams(max_tokens=64, temperature=0.0, top_p=1.0, seed=0)
                             if args.expand_passage else None)
    result: dict[str, tuple[str, float]] = {}
    try:
        for q in questions:
            t0 = time.perf_counter()
            text = expander.expand(q["q"], CancelToken())
            result[q["q"]] = (text, time.perf_counter() - t0)
            print(f"  {q['id']} {result[q['q']][1]:5.2f} s  {text}")
    finally:
        model.close()
    if args.expansions_out:
        args.expansions_out.write_text(json.dumps(
            {q: {"expansion": e, "seconds": round(t, 3)} for q, (e, t) in result.items()}, ensure_ascii=False,
            indent=1), encoding="utf-8")
    return result


def _load_chunks(laws_dir: Path, target: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for path in sorted(laws_dir.glob("*.md")):
        blocks = markdown_blocks(path.read_text(encoding="utf-8"))
        doc = ExtractedDocument(path=path.name, format="md", blocks=tuple(blocks), title=blocks[0].text)
        chunks.extend(chunk_document(doc, doc_id=path.name, target_chars=target))
    return chunks


if __name__ == "__main__":
    raise SystemExit(main())
