"""The library with real components on tmp_path: SQLite manifest, BM25 index, chromadb, sandboxed extractor, e5.

Covers: re-run indexes nothing, a changed file is re-indexed alone, a deleted one leaves both stores, symlinks out
of the root are not followed, the CLI refuses a path outside the policy, kill -9 during indexing leaves an index
that heals to a consistent state, chromadb opens no network socket, and the watcher notices a new file.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.adapters.bm25_index import Bm25Index
from app.adapters.chroma_store import ChromaVectorStore
from app.adapters.e5_embedder import E5Embedder
from app.adapters.extract import SandboxedExtractor
from app.adapters.fs_scan import FolderScanner
from app.adapters.sqlite_manifest import SqliteManifest
from app.core.chunking import chunk_document
from app.core.documents import FileEvent, FileStatus
from app.services.indexing import IndexService

REPO = Path(__file__).resolve().parents[3]

_WORDS = ["Bescheid", "Antrag", "Gemeinde", "Verwaltung", "Anhörung", "Frist", "Widerspruch", "Gebühr", "Hundesteuer", "Gewerbeanmeldung", "Sachbearbeitung", "Aktenzeichen", "Zuständigkeit", "Verfahren", "Beteiligter", "Landkreis", "Ordnungsamt", "Satzung"]


def german_text(seed: int, paragraphs: int = 3) -> str:
    out = []
    for p in range(paragraphs):
        words = [_WORDS[(seed * 7 + p * 3 + i * 5) % len(_WORDS)] for i in range(60)]
        out.append(" ".join(words) + f". Absatz {p} von Dokument {seed}.")
    return f"# Dokument {seed}\n\n" + "\n\n".join(out) + "\n"


class Library:
    """The real object graph on a tmp folder (what bootstrap.build_library builds from a config)."""

    def __init__(self, root: Path, index_dir: Path, *, embed: bool = True) -> None:
        self.root, self.index_dir = root, index_dir
        self.manifest = SqliteManifest(index_dir)
        self.lexical = Bm25Index(index_dir / "lexical")
        self.vectors = ChromaVectorStore(index_dir / "vectors")
        self.extractor = SandboxedExtractor(timeout_s=30)
        self.service = IndexService(
            extractor=self.extractor, chunker=lambda d, i: chunk_document(d, i), manifest=self.manifest,
            lexical=self.lexical, vectors=self.vectors, embedder=E5Embedder() if embed else None,
            scanner=FolderScanner([root]),
        )

    def run(self) -> list[object]:
        return list(self.service.run([self.root]))

    def close(self) -> None:
        self.extractor.close()
        self.vectors.close()
        self.lexical.close()
        self.manifest.close()

    def assert_consistent(self, *, embedded: bool = True) -> None:
        records = self.manifest.all()
        listed: list[str] = []
        for rec in records:
            assert rec.status is not FileStatus.PENDING, rec
            if rec.status is FileStatus.INDEXED:
                assert rec.embedded is embedded, rec.path
            listed.extend(rec.chunk_ids)
        assert len(listed) == len(set(listed)), "a chunk id listed twice"
        assert self.lexical.count() == len(listed), "lexical store has orphans or misses chunks"
        assert {c.id for c in self.lexical.get(listed)} == set(listed)
        if embedded:
            assert self.vectors.count() == len(listed)
            assert self.vectors.ids() == set(listed)
        else:
            assert self.vectors.ids() <= set(listed)


@pytest.fixture
def lib(tmp_path: Path):
    root = tmp_path / "akten"
    root.mkdir()
    library = Library(root, tmp_path / "index")
    yield library
    library.close()


def indexed(items: list[object]) -> list[str]:
    return sorted(Path(e.path).name for e in items if isinstance(e, FileEvent) and e.action == "indexed")


def test_rerun_touch_and_delete(lib: Library) -> None:
    for i in range(4):
        (lib.root / f"d{i}.md").write_text(german_text(i), encoding="utf-8")
    (lib.root / "sub").mkdir()
    (lib.root / "sub" / "notiz.txt").write_text("Die Hundesteuer ist bis zum 1. Juli zu zahlen.", encoding="utf-8")
    assert indexed(lib.run()) == ["d0.md", "d1.md", "d2.md", "d3.md", "notiz.txt"]
    lib.assert_consistent()
    hits = lib.lexical.search("Hundesteuer Juli", 3)
    assert lib.lexical.get([hits[0][0]])[0].path.endswith("notiz.txt")

    assert indexed(lib.run()) == []  # re-running indexes zero files
    assert lib.service.last_run.unchanged == 5

    target = lib.root / "d2.md"
    old_ids = set(lib.manifest.get(str(target)).chunk_ids)
    target.write_text(german_text(99), encoding="utf-8")
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert indexed(lib.run()) == ["d2.md"]  # exactly that one
    assert not old_ids & lib.vectors.ids()
    lib.assert_consistent()

    gone = lib.root / "d0.md"
    gone_ids = list(lib.manifest.get(str(gone)).chunk_ids)
    gone.unlink()
    out = lib.run()
    assert [Path(e.path).name for e in out if isinstance(e, FileEvent) and e.action == "removed"] == ["d0.md"]
    assert lib.lexical.get(gone_ids) == []
    assert not set(gone_ids) & lib.vectors.ids()
    assert lib.vectors.query([0.1] * 384, 50, paths=[str(gone)]) == []
    lib.assert_consistent()


def test_symlink_leading_out_is_not_followed(tmp_path: Path, lib: Library) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "geheim.txt").write_text("Streng geheime Personalakte", encoding="utf-8")
    (lib.root / "ok.txt").write_text("Bescheid über die Gebühr", encoding="utf-8")
    (lib.root / "raus").symlink_to(outside, target_is_directory=True)
    (lib.root / "raus.txt").symlink_to(outside / "geheim.txt")
    lib.run()
    assert all("outside" not in r.path for r in lib.manifest.all())
    assert lib.lexical.search("Personalakte geheim", 5) == []
    statuses = {Path(r.path).name: r.status for r in lib.manifest.all()}
    assert statuses == {"ok.txt": FileStatus.INDEXED, "raus.txt": FileStatus.REFUSED}


def _cli_env(tmp_path: Path, root: Path) -> dict[str, str]:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'allowed_roots = ["{root.as_posix()}"]\n', encoding="utf-8")
    return {**os.environ, "AKTENLOTSE_HOME": str(tmp_path / "home"), "AKTENLOTSE_POLICY": str(policy),
            "PYTHONPATH": str(REPO)}


def test_cli_refuses_a_path_outside_the_allowed_roots(tmp_path: Path) -> None:
    root = tmp_path / "akten"
    root.mkdir()
    elsewhere = tmp_path / "woanders"
    elsewhere.mkdir()
    result = subprocess.run([sys.executable, "-m", "app", "index", str(elsewhere)], cwd=REPO,
                            env=_cli_env(tmp_path, root), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "außerhalb der freigegebenen Ordner" in result.stderr


def test_cli_index_and_search_json(tmp_path: Path) -> None:
    root = tmp_path / "akten"
    root.mkdir()
    (root / "a.md").write_text("# Satzung\n\n## § 4 Hundesteuer\n\nDie Steuer beträgt 90 Euro im Jahr.\n",
                               encoding="utf-8")
    env = _cli_env(tmp_path, root)
    result = subprocess.run([sys.executable, "-m", "app", "index", str(root), "--json"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"] == {"indexed": 1} and report["run"]["indexed"] == 1
    assert "Dateien" in result.stderr  # the progress bar
    result = subprocess.run([sys.executable, "-m", "app", "search", "Hundesteuer", "--json"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    hit = json.loads(result.stdout)["hits"][0]
    assert hit["file"] == str(root / "a.md") and "§ 4 Hundesteuer" in hit["heading"]
    assert hit["end"] > hit["start"] and hit["mode"] in ("lexical", "dense", "hybrid")


def _kill_when(proc: subprocess.Popen, manifest_file: Path, sql: str, at_least: int) -> None:
    """SIGKILL `proc` as soon as `sql` counts `at_least` rows in the manifest (polled, no fixed sleep)."""
    deadline = time.monotonic() + 120
    try:
        while True:
            assert time.monotonic() < deadline, "indexing never showed progress"
            assert proc.poll() is None, "indexing finished before it could be killed: give it more work"
            n = 0
            if manifest_file.exists():
                try:
                    with sqlite3.connect(manifest_file, timeout=1) as db:
                        n = db.execute(sql).fetchone()[0]
                except sqlite3.Error:
                    n = 0
            if n >= at_least:
                break
            try:  # wait on the process itself between polls of the manifest
                proc.wait(timeout=0.01)
            except subprocess.TimeoutExpired:
                pass
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("phase", ["lexical", "embed"])
def test_kill_9_during_indexing_then_restart_is_consistent(tmp_path: Path, phase: str) -> None:
    root = tmp_path / "akten"
    root.mkdir()
    if phase == "embed":  # short texts: the real embedder does ~3 chunks of 700 characters per second on 2 cores
        files, args = 60, []
        sql, at_least = "SELECT COUNT(*) FROM files WHERE embedded = 1", 3
    else:  # many files, lexical only: killed while files are being extracted and flushed
        files, args = 800, ["--no-embed"]
        sql, at_least = "SELECT COUNT(*) FROM files", 1
    for i in range(files):
        (root / f"akte_{i:03d}.md").write_text(f"# Akte {i}\n\n" + german_text(i, 1)[-200:], encoding="utf-8")
    index_dir = tmp_path / "home" / "data" / "index"
    proc = subprocess.Popen([sys.executable, "-m", "app", "index", str(root), *args], cwd=REPO,
                            env=_cli_env(tmp_path, root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_when(proc, index_dir / "manifest.sqlite3", sql, at_least)

    library = Library(root, index_dir, embed=phase == "embed")
    try:
        library.run()
        library.assert_consistent(embedded=phase == "embed")
        assert library.service.summary() == {FileStatus.INDEXED: files}
        assert indexed(library.run()) == []
    finally:
        library.close()


_PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from tests.integration.offline_probe import ATTEMPTS, install_guard
install_guard()
from app.adapters.chroma_store import ChromaVectorStore
from app.core.documents import Chunk
store = ChromaVectorStore(sys.argv[2])
chunks = [Chunk(f"c{i}", "d", "/a.txt", "t", i, 0, 1) for i in range(20)]
store.upsert(chunks, [[float(i == j) for j in range(384)] for i in range(20)])
hits = store.query([1.0] + [0.0] * 383, 3, paths=["/a.txt"])
store.delete(["c1"])
store.close()
store = ChromaVectorStore(sys.argv[2])
print(json.dumps({"attempts": ATTEMPTS, "top": hits[0][0], "count": store.count()}))
"""


def test_chroma_store_opens_no_network_socket(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", _PROBE, str(REPO), str(tmp_path / "vectors")], cwd=REPO,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"attempts": [], "top": "c0", "count": 19}


def test_watcher_picks_up_a_new_file(tmp_path: Path) -> None:
    from app.adapters.watcher import FolderWatcher

    root = tmp_path / "akten"
    root.mkdir()
    watcher = FolderWatcher([root], quiet_s=0.2)
    watcher.start()
    try:
        new = root / "neu.txt"
        new.write_text("Neuer Antrag", encoding="utf-8")
        (root / "~$neu.docx").write_text("lock", encoding="utf-8")
        changes: set[str] = set()
        deadline = time.monotonic() + 20
        while str(new.resolve()) not in changes and time.monotonic() < deadline:
            changes |= watcher.wait_for_changes(timeout=1.0)
        assert str(new.resolve()) in changes
        assert not any("~$" in c for c in changes)
    finally:
        watcher.stop()


def test_library_service_watch_then_reindex_picks_up_the_new_file(lib: Library) -> None:
    from app.adapters.watcher import FolderWatcher
    from app.services.library import LibraryService

    service = LibraryService(lib.service, watcher_factory=lambda folders: FolderWatcher(folders, quiet_s=0.2))
    (lib.root / "alt.txt").write_text("Alter Vermerk", encoding="utf-8")
    list(service.index([lib.root]))
    service.watch([lib.root])
    try:
        new = lib.root / "neu.txt"
        new.write_text("Neuer Widerspruch gegen den Gebührenbescheid", encoding="utf-8")
        changes: set[str] = set()
        deadline = time.monotonic() + 20
        while str(new.resolve()) not in changes and time.monotonic() < deadline:
            changes |= service.changes(timeout=1.0)
        assert str(new.resolve()) in changes
        assert indexed(list(service.index([lib.root]))) == ["neu.txt"]
        assert service.search("Widerspruch", k=3)[0].chunk.path == str(new.resolve())
    finally:
        service.unwatch()
