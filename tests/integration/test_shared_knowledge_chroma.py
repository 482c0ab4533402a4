"""Departmental knowledge on a real Chroma server (`chroma run` on 127.0.0.1) fused with a real local library.

Publishes two law fixtures into the collection "Gewerberecht" through the publisher, builds a real local library
(SQLite manifest, BM25, chromadb persistent store, e5, sandboxed extractor) over the Sondernutzung case file and
checks: fused hits from both origins with the shared ones marked; the server holds only the published collection
and nothing of the local files; no chromadb default model is downloaded; an unknown collection and a stopped
server give German errors/notices while the local hits still come back.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from app.adapters.bm25_index import Bm25Index
from app.adapters.chroma_store import ChromaVectorStore
from app.adapters.e5_embedder import E5Embedder
from app.adapters.extract import SandboxedExtractor
from app.adapters.fs_scan import FolderScanner
from app.adapters.shared_knowledge import ChromaSharedKnowledge, ChromaSharedPublisher
from app.adapters.sqlite_manifest import SqliteManifest
from app.cli.shared import publish_folders
from app.core.chunking import chunk_document
from app.core.errors import RemoteRejected, RemoteUnavailable
from app.services.indexing import IndexService
from app.services.library import LibraryService
from app.services.retrieval import RetrievalService
from app.services.shared_search import SharedSearch
from tests.servers.servers import start_chroma_server

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SHARED_FILES = [FIXTURES / "laws" / "vwvfg_auszug.md", FIXTURES / "lookup" / "merkblatt_akteneinsicht.md"]
LOCAL_FOLDER = FIXTURES / "akte_sondernutzung"
CHROMA_MODEL_DIR = Path.home() / ".cache" / "chroma" / "onnx_models"


@pytest.fixture(scope="module")
def embedder() -> E5Embedder:
    return E5Embedder()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    had_model_dir = CHROMA_MODEL_DIR.exists()
    running = start_chroma_server(tmp_path_factory.mktemp("chroma-server"))
    yield running
    running.stop()
    if not had_model_dir:
        assert not CHROMA_MODEL_DIR.exists(), "chromadb downloaded its default embedding model"


@pytest.fixture(scope="module")
def published(server, embedder, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("gewerberecht")
    for f in SHARED_FILES:
        shutil.copy(f, folder / f.name)
    publisher = ChromaSharedPublisher(server.base_url)
    extractor = SandboxedExtractor(timeout_s=30)
    log = io.StringIO()
    try:
        report = publish_folders([folder], "Gewerberecht", publisher, extractor, embedder, batch=16, err=log)
        assert report.files == 2 and report.chunks > 2 and not report.skipped
        # publishing again replaces the documents instead of adding duplicates
        again = publish_folders([folder], "Gewerberecht", publisher, extractor, embedder)
        assert again.chunks == report.chunks
        assert publisher.list() == [("Gewerberecht", report.chunks)]
    finally:
        extractor.close()
        publisher.close()
    return {"folder": folder, "chunks": report.chunks}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, embedder):
    root = tmp_path_factory.mktemp("akten")
    shutil.copytree(LOCAL_FOLDER, root / "akte_sondernutzung")
    index_dir = tmp_path_factory.mktemp("index")
    manifest, lexical = SqliteManifest(index_dir), Bm25Index(index_dir / "lexical")
    vectors, extractor = ChromaVectorStore(index_dir / "vectors"), SandboxedExtractor(timeout_s=30)
    indexing = IndexService(extractor=extractor, chunker=lambda d, i: chunk_document(d, i), manifest=manifest,
                            lexical=lexical, vectors=vectors, embedder=embedder, scanner=FolderScanner([root]))
    retrieval = RetrievalService(lexical, vectors, embedder)
    library = LibraryService(indexing, retrieval, closers=[extractor.close, vectors.close, lexical.close,
                                                           manifest.close])
    list(library.index([root]))
    yield library, root
    library.close()


def library_with_shared(local_library: LibraryService, shared: ChromaSharedKnowledge, embedder) -> LibraryService:
    return LibraryService(local_library.indexing, local_library.retrieval, shared=SharedSearch(shared, embedder))


def test_fused_search_returns_both_origins(server, published, local, embedder) -> None:
    local_library, root = local
    shared = ChromaSharedKnowledge(server.base_url, ["Gewerberecht"], timeout=10)
    assert shared.describe() == [("Gewerberecht", published["chunks"])]
    library = library_with_shared(local_library, shared, embedder)

    hits = library.search("Anhörung Beteiligter vor Erlass eines Verwaltungsakts und Sondernutzung Gehweg", k=8)
    assert library.last_notice == ""
    shared_hits = [h for h in hits if h.chunk.is_shared]
    local_hits = [h for h in hits if not h.chunk.is_shared]
    assert shared_hits and local_hits
    assert all(h.chunk.collection == "Gewerberecht" for h in shared_hits)
    assert all(h.chunk.id.startswith("Gewerberecht:") and "shared_rank" in h.details and "cosine" in h.details
               for h in shared_hits)
    assert all(h.chunk.path in {"vwvfg_auszug.md", "merkblatt_akteneinsicht.md"} for h in shared_hits)
    assert all(h.chunk.path.startswith(str(root)) for h in local_hits)
    assert any("§ 28" in h.chunk.location_de() for h in shared_hits)
    assert all(h.chunk.location_de().startswith("Fachbereich „Gewerberecht“: ") for h in shared_hits)
    # the best shared hit for an Anhörung question is the § 28 passage and fits the lookup's similarity gate
    top = library.search("Wann muss ein Beteiligter angehört werden?", k=5)
    best_shared = next(h for h in top if h.chunk.is_shared)
    assert "Anhörung" in best_shared.chunk.heading and best_shared.details["cosine"] > 0.8
    # a shared passage is never opened as a local file
    with pytest.raises(Exception, match="Fachbereichswissen"):
        library.document_text(best_shared.chunk.path)
    # a scope of local files searches those files only
    scoped = library.search("Anhörung Beteiligter", k=8, paths=[h.chunk.path for h in local_hits[:1]])
    assert scoped and not any(h.chunk.is_shared for h in scoped)
    shared.close()


def test_server_holds_only_the_published_collection(server, published, local) -> None:
    local_library, root = local
    import chromadb
    from chromadb.config import Settings

    client = chromadb.HttpClient(host="127.0.0.1", port=server.port, settings=Settings(anonymized_telemetry=False))
    names = [c.name for c in client.list_collections()]
    assert names == ["Gewerberecht"]
    got = client.get_collection("Gewerberecht", embedding_function=None).get(include=["documents", "metadatas"])
    assert len(got["ids"]) == published["chunks"]
    server_text = "\n".join(got["documents"]) + "\n" + "\n".join(str(m) for m in got["metadatas"])
    assert str(root) not in server_text and str(published["folder"]) not in server_text
    assert {m["path"] for m in got["metadatas"]} == {"vwvfg_auszug.md", "merkblatt_akteneinsicht.md"}
    for record in local_library.statuses():
        assert Path(record.path).name not in server_text
    for f in sorted(LOCAL_FOLDER.iterdir()):
        for line in f.read_text(encoding="utf-8").splitlines():
            if len(line) > 40:
                assert line not in server_text, f"local text on the server: {line[:60]}"


def test_unknown_collection_is_rejected_and_local_hits_stay(server, published, local, embedder) -> None:
    local_library, _ = local
    shared = ChromaSharedKnowledge(server.base_url, ["Gewerberecht", "Baurecht"], timeout=10)
    with pytest.raises(RemoteRejected) as err:
        shared.describe()
    assert "„Baurecht“" in err.value.user_message and "nicht" in err.value.user_message
    library = library_with_shared(local_library, shared, embedder)
    hits = library.search("Sondernutzung Gehweg Tische", k=5)
    assert hits and not any(h.chunk.is_shared for h in hits)
    assert "Baurecht" in library.last_notice and "eigenen Dokumenten" in library.last_notice
    shared.close()


def test_stopped_server_gives_local_hits_and_a_notice(tmp_path: Path, published, local, embedder) -> None:
    local_library, _ = local
    second = start_chroma_server(tmp_path / "second")
    url = second.base_url
    publisher = ChromaSharedPublisher(url)
    extractor = SandboxedExtractor(timeout_s=30)
    try:
        publish_folders([published["folder"]], "Gewerberecht", publisher, extractor, embedder)
    finally:
        extractor.close()
        publisher.close()
    shared = ChromaSharedKnowledge(url, ["Gewerberecht"], timeout=5)
    library = library_with_shared(local_library, shared, embedder)
    assert any(h.chunk.is_shared for h in library.search("Anhörung Beteiligter", k=8))
    second.stop()
    hits = library.search("Anhörung Beteiligter Sondernutzung", k=8)
    assert hits and not any(h.chunk.is_shared for h in hits)
    assert "127.0.0.1" in library.last_notice and "nicht erreichbar" in library.last_notice
    with pytest.raises(RemoteUnavailable, match="127.0.0.1"):
        ChromaSharedKnowledge(url, ["Gewerberecht"], timeout=5).describe()
    shared.close()


def test_cli_publish_and_list(server, published, embedder, tmp_path: Path) -> None:
    import argparse

    from app.cli.shared import add_shared_parser, run_shared

    parser = argparse.ArgumentParser()
    add_shared_parser(parser.add_subparsers(dest="command"))
    folder = tmp_path / "bau"
    folder.mkdir()
    (folder / "hinweis.md").write_text("# Hinweis\n\n## § 1 Bauantrag\n\nDer Bauantrag ist schriftlich zu stellen.\n",
                                       encoding="utf-8")
    extractor = SandboxedExtractor(timeout_s=30)
    out, err = io.StringIO(), io.StringIO()
    try:
        args = parser.parse_args(["shared", "publish", "--url", server.base_url, "--collection", "Baurecht-Test",
                                  str(folder)])
        assert run_shared(args, publisher_factory=ChromaSharedPublisher, extractor=extractor, embedder=embedder,
                          out=out, err=err) == 0
    finally:
        extractor.close()
    assert "Sammlung „Baurecht-Test“" in out.getvalue() and "Dateien: 1, Abschnitte: 1." in out.getvalue()
    out = io.StringIO()
    args = parser.parse_args(["shared", "list", "--url", server.base_url])
    assert run_shared(args, publisher_factory=ChromaSharedPublisher, out=out, err=err) == 0
    assert "Baurecht-Test: 1 Abschnitt\n" in out.getvalue()
    assert f"Gewerberecht: {published['chunks']} Abschnitte" in out.getvalue()
    # https is required for anything but this computer
    args = parser.parse_args(["shared", "list", "--url", "http://wissen.rz.example.de:8000"])
    err = io.StringIO()
    assert run_shared(args, publisher_factory=ChromaSharedPublisher, out=io.StringIO(), err=err) == 2
    assert "https://" in err.getvalue()
    # clean up, so the other tests still see only the published collection
    import chromadb
    from chromadb.config import Settings

    chromadb.HttpClient(host="127.0.0.1", port=server.port,
                        settings=Settings(anonymized_telemetry=False)).delete_collection("Baurecht-Test")
