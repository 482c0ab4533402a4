"""IndexService with fakes for extractor, lexical index, vectors and embedder; real SQLite manifest and scanner."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from app.adapters.fs_scan import FolderScanner
from app.adapters.sqlite_manifest import SqliteManifest
from app.core.documents import (
    Block,
    Chunk,
    ExtractedDocument,
    FileEvent,
    FileStatus,
    IndexProgress,
)
from app.core.errors import Cancelled, PolicyViolation
from app.core.library import ExtractionError
from app.core.progress import CancelToken
from app.services.indexing import IndexLimits, IndexService


class FakeExtractor:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def extract(self, path: Path) -> ExtractedDocument:
        self.calls.append(str(path))
        text = path.read_text(encoding="utf-8")
        if text.startswith("BROKEN"):
            raise ExtractionError("error", "Die Datei ist beschädigt.", "fake")
        if text.startswith("BOOM"):
            raise RuntimeError("reader crashed")
        blocks = tuple(Block(p) for p in text.split("\n\n") if p.strip())
        return ExtractedDocument(str(path), "txt", blocks)


def fake_chunker(doc: ExtractedDocument, doc_id: str) -> list[Chunk]:
    out, pos = [], 0
    for i, block in enumerate(doc.blocks):
        cid = hashlib.sha1(f"{doc_id}\x00{i}\x00{block.text}".encode()).hexdigest()
        out.append(Chunk(cid, doc_id, doc.path, block.text, i, pos, pos + len(block.text)))
        pos += len(block.text) + 2
    return out


class FakeLexical:
    """Additions become visible (and 'durable') only at flush, like a BM25 matrix rebuild."""

    def __init__(self) -> None:
        self.durable: dict[str, Chunk] = {}
        self.staged: dict[str, Chunk] = {}
        self.deleted: set[str] = set()
        self.flushes = 0

    def add(self, chunks: Sequence[Chunk]) -> None:
        for c in chunks:
            assert c.id not in self.staged, "duplicate add"
            self.staged[c.id] = c

    def delete(self, chunk_ids: Iterable[str]) -> None:
        for cid in chunk_ids:
            self.staged.pop(cid, None)
            self.deleted.add(cid)

    def flush(self) -> None:
        for cid in self.deleted:
            self.durable.pop(cid, None)
        self.deleted.clear()
        self.durable.update(self.staged)
        self.staged.clear()
        self.flushes += 1

    def search(self, query: str, k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        return [(c.id, 1.0) for c in self.durable.values() if query in c.text][:k]

    def get(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        return [self.durable[c] for c in chunk_ids if c in self.durable]

    def ids(self) -> set[str]:
        return set(self.durable)


class FakeVectors:
    def __init__(self) -> None:
        self.data: dict[str, list[float]] = {}
        self.upserts = 0

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        self.upserts += 1
        for c, v in zip(chunks, vectors, strict=True):
            self.data[c.id] = list(v)

    def delete(self, chunk_ids: Iterable[str]) -> None:
        for cid in chunk_ids:
            self.data.pop(cid, None)

    def query(self, vector: Sequence[float], k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        return []

    def ids(self) -> set[str]:
        return set(self.data)


class FakeEmbedder:
    name, dim = "fake", 4

    def passages(self, texts: Sequence[str]) -> list[list[float]]:
        return [[float(len(t)), 1.0, 0.0, 0.0] for t in texts]

    def query(self, text: str) -> list[float]:
        return [1.0, 0.0, 0.0, 0.0]


class Env:
    def __init__(self, tmp_path: Path, **scan_kwargs) -> None:
        self.root = tmp_path / "akten"
        self.root.mkdir(exist_ok=True)
        self.index_dir = tmp_path / "index"
        self.extractor = FakeExtractor()
        self.lexical = FakeLexical()
        self.vectors = FakeVectors()
        self.manifest = SqliteManifest(self.index_dir)
        self.scanner = FolderScanner([self.root], **scan_kwargs)
        self.service = self.new_service()

    def new_service(self) -> IndexService:
        return IndexService(
            extractor=self.extractor, chunker=fake_chunker, manifest=self.manifest, lexical=self.lexical,
            vectors=self.vectors, embedder=FakeEmbedder(), scanner=self.scanner, limits=IndexLimits(embed_batch=2),
        )

    def run(self, cancel: CancelToken | None = None, embed: bool = True) -> list[object]:
        return list(self.service.run([self.root], cancel, embed=embed))

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def assert_consistent(self) -> None:
        listed: list[str] = []
        for rec in self.manifest.all():
            assert rec.status is not FileStatus.PENDING, rec
            listed.extend(rec.chunk_ids)
            if rec.status is FileStatus.INDEXED:
                assert set(rec.chunk_ids) <= set(self.lexical.durable), rec.path
                if rec.embedded:
                    assert set(rec.chunk_ids) <= set(self.vectors.data), rec.path
        assert len(listed) == len(set(listed))
        assert set(self.lexical.durable) == set(listed)
        assert set(self.vectors.data) <= set(listed)


def events(items: list[object], action: str | None = None) -> list[FileEvent]:
    return [e for e in items if isinstance(e, FileEvent) and (action is None or e.action == action)]


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def test_indexes_lexically_then_embeds_everything(env: Env) -> None:
    env.write("a.txt", "Anhörung Beteiligter\n\nZweiter Absatz")
    env.write("sub/b.txt", "Bescheid über Hundesteuer")
    out = env.run()
    assert sorted(Path(e.path).name for e in events(out, "indexed")) == ["a.txt", "b.txt"]
    assert sorted(Path(e.path).name for e in events(out, "embedded")) == ["a.txt", "b.txt"]
    phases = [p.phase for p in out if isinstance(p, IndexProgress)]
    assert phases.index("lexical") < phases.index("embed") < phases.index("done")
    # every indexed event comes before any embedded event: searchable lexically first
    kinds = [e.action for e in events(out)]
    assert kinds.index("embedded") > max(i for i, k in enumerate(kinds) if k == "indexed")
    assert env.service.summary() == {FileStatus.INDEXED: 2}
    assert all(r.embedded for r in env.service.statuses())
    assert len(env.vectors.data) == 3
    env.assert_consistent()


def test_rerun_indexes_zero_files(env: Env) -> None:
    env.write("a.txt", "eins")
    env.write("b.txt", "zwei")
    env.run()
    env.extractor.calls.clear()
    out = env.run()
    assert env.extractor.calls == []
    assert events(out) == []
    assert env.service.last_run.unchanged == 2 and env.service.last_run.indexed == 0


def test_touch_with_new_content_reindexes_exactly_that_file(env: Env) -> None:
    env.write("a.txt", "eins")
    b = env.write("b.txt", "zwei")
    env.run()
    old_ids = env.manifest.get(str(b)).chunk_ids
    env.extractor.calls.clear()
    b.write_text("zwei, geändert\n\nund länger", encoding="utf-8")
    os.utime(b, ns=(b.stat().st_atime_ns, b.stat().st_mtime_ns + 10_000_000))
    out = env.run()
    assert env.extractor.calls == [str(b)]
    assert [Path(e.path).name for e in events(out, "indexed")] == ["b.txt"]
    assert not set(old_ids) & set(env.lexical.durable)
    assert not set(old_ids) & set(env.vectors.data)
    env.assert_consistent()


def test_same_bytes_new_mtime_is_not_reindexed(env: Env) -> None:
    a = env.write("a.txt", "eins")
    env.run()
    env.extractor.calls.clear()
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 5_000_000_000))
    env.run()
    assert env.extractor.calls == []
    assert env.manifest.get(str(a)).mtime_ns == a.stat().st_mtime_ns


def test_deleted_file_leaves_both_stores(env: Env) -> None:
    env.write("a.txt", "eins")
    b = env.write("b.txt", "zwei\n\ndrei")
    env.run()
    ids = env.manifest.get(str(b)).chunk_ids
    b.unlink()
    out = env.run()
    assert [Path(e.path).name for e in events(out, "removed")] == ["b.txt"]
    assert env.manifest.get(str(b)) is None
    assert not set(ids) & set(env.lexical.durable)
    assert not set(ids) & set(env.vectors.data)
    env.assert_consistent()


def test_errors_get_status_and_reason_and_do_not_stop_the_run(env: Env) -> None:
    env.write("a.txt", "BROKEN")
    env.write("b.txt", "BOOM")
    env.write("c.txt", "gut")
    env.write("d.txt", "")
    env.run()
    by_name = {Path(r.path).name: r for r in env.service.statuses()}
    assert by_name["a.txt"].status is FileStatus.ERROR and by_name["a.txt"].reason == "Die Datei ist beschädigt."
    assert by_name["b.txt"].status is FileStatus.ERROR and "RuntimeError" in by_name["b.txt"].reason
    assert by_name["c.txt"].status is FileStatus.INDEXED
    assert by_name["d.txt"].status is FileStatus.EMPTY and by_name["d.txt"].reason
    assert {Path(r.path).name for r in env.service.problems()} == {"a.txt", "b.txt", "d.txt"}


def test_too_large_excluded_and_junk_files(tmp_path: Path) -> None:
    env = Env(tmp_path, max_file_mb=1, exclude_patterns=["Personal/*", "*.bak"])
    env.write("big.txt", "x" * (1024 * 1024 + 10))
    env.write("Personal/geheim.txt", "geheim")
    env.write("alt.bak", "alt")
    env.write("~$brief.docx", "lock")
    env.write(".~lock.brief.odt#", "lock")
    env.write("x.tmp", "tmp")
    env.write(".versteckt/a.txt", "hidden")
    env.write("ok.txt", "ok")
    env.run()
    by_name = {Path(r.path).name: r for r in env.service.statuses()}
    assert set(by_name) == {"big.txt", "alt.bak", "ok.txt"}
    assert by_name["big.txt"].status is FileStatus.REFUSED and "MB" in by_name["big.txt"].reason
    assert by_name["alt.bak"].status is FileStatus.REFUSED


def test_symlink_out_of_root_is_not_followed_and_inner_link_not_indexed_twice(tmp_path: Path) -> None:
    env = Env(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("geheim", encoding="utf-8")
    a = env.write("a.txt", "eins")
    (env.root / "link_dir").symlink_to(outside, target_is_directory=True)
    (env.root / "link_file.txt").symlink_to(outside / "secret.txt")
    (env.root / "same.txt").symlink_to(a)
    env.run()
    assert not any("outside" in c for c in env.extractor.calls)
    indexed = [r for r in env.service.statuses() if r.status is FileStatus.INDEXED]
    assert [Path(r.path).name for r in indexed] == ["a.txt"]
    refused = [r for r in env.service.statuses() if r.status is FileStatus.REFUSED]
    assert [Path(r.path).name for r in refused] == ["link_file.txt"]
    with pytest.raises(PolicyViolation):
        env.service.check_folders([outside])


def test_cancel_between_files_keeps_finished_work_and_resumes(env: Env) -> None:
    for i in range(6):
        env.write(f"f{i}.txt", f"Datei {i}")
    cancel = CancelToken()
    gen = env.service.run([env.root], cancel)
    seen = 0
    with pytest.raises(Cancelled):
        for item in gen:
            if isinstance(item, IndexProgress) and item.phase == "lexical" and item.done >= 3:
                seen = item.done
                cancel.cancel()
    assert seen == 3
    env.assert_consistent()
    assert len([r for r in env.service.statuses() if r.status is FileStatus.INDEXED]) == 3
    env.run()
    assert env.service.summary() == {FileStatus.INDEXED: 6}
    assert all(r.embedded for r in env.service.statuses())
    env.assert_consistent()


def test_recover_cleans_pending_and_orphans(env: Env) -> None:
    a = env.write("a.txt", "eins")
    env.write("b.txt", "zwei")
    env.run()
    rec = env.manifest.get(str(a))
    # simulate a crash mid-file: PENDING with planned ids, some of them already in the stores (unflushed ones lost)
    ghost = Chunk("ghost", "d", str(a), "neu", 0, 0, 3)
    env.manifest.put(replace(rec, status=FileStatus.PENDING, chunk_ids=rec.chunk_ids + ("ghost",)))
    env.vectors.data["ghost"] = [0.0]
    env.lexical.add([ghost])
    env.lexical.flush()
    env.vectors.data["orphan"] = [0.0]
    service = env.new_service()  # a fresh start
    report = service.recover()
    assert report.pending_reset == 1 and report.orphan_vectors >= 1
    assert "ghost" not in env.lexical.durable and "orphan" not in env.vectors.data
    list(service.run([env.root]))
    assert service.summary() == {FileStatus.INDEXED: 2}
    env.assert_consistent()
    assert set(env.vectors.data) == set(env.lexical.durable)


def test_embedded_flag_reset_when_vectors_missing(env: Env) -> None:
    env.write("a.txt", "eins")
    env.run()
    env.vectors.data.clear()
    service = env.new_service()
    list(service.run([env.root]))
    assert all(r.embedded for r in service.statuses())
    assert set(env.vectors.data) == set(env.lexical.durable)


def test_no_embed_leaves_vectors_for_later(env: Env) -> None:
    env.write("a.txt", "eins")
    env.run(embed=False)
    assert env.vectors.data == {} and not env.manifest.get(str(env.root / "a.txt")).embedded
    env.run()
    assert env.manifest.get(str(env.root / "a.txt")).embedded


def test_embedder_failure_keeps_the_lexical_index(env: Env) -> None:
    from app.core.errors import ModelError

    class BrokenEmbedder(FakeEmbedder):
        def passages(self, texts: Sequence[str]) -> list[list[float]]:
            raise ModelError("Das Modell für die Bedeutungssuche konnte nicht geladen werden.")

    env.write("a.txt", "eins")
    service = env.new_service()
    service.embedder = BrokenEmbedder()
    out = list(service.run([env.root]))
    assert service.last_run.embed_error.startswith("Das Modell")
    assert [Path(e.path).name for e in events(out, "indexed")] == ["a.txt"]
    assert not env.manifest.get(str(env.root / "a.txt")).embedded
    env.run()  # a later run with a working embedder fills the vectors in
    assert env.manifest.get(str(env.root / "a.txt")).embedded


def test_pending_record_of_a_vanished_file_outside_the_run_is_dropped(env: Env, tmp_path: Path) -> None:
    from app.core.documents import FileRecord

    ghost = str(tmp_path / "elsewhere" / "weg.txt")
    env.manifest.put(FileRecord(ghost, 1, 1, "", FileStatus.PENDING, chunk_ids=("x1",)))
    env.vectors.data["x1"] = [0.0]
    env.write("a.txt", "eins")
    env.run()
    assert env.manifest.get(ghost) is None and "x1" not in env.vectors.data
    env.assert_consistent()
