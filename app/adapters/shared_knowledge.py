"""Departmental knowledge (*Fachbereich*) on the data centre's Chroma server: a read-only reader for the desktop app
and a separate publisher for the data-centre admins.

Both talk to `chroma run` through `chromadb.HttpClient` with telemetry off and never with chromadb's default
embedding function (collections are opened with `embedding_function=None`; every vector comes from our e5
embedder, so nothing is downloaded). The address comes from the policy through `parse_endpoint(url,
"Fachbereichswissen")`: https required except on this computer; `ca_bundle` is the CA file to verify the server
with; `token` goes out as "Authorization: Bearer …".

Chunk schema on the server (what the publisher writes and the reader expects): id = the chunk id, document = the
chunk text, metadata `path` (the path as published, relative – never a caseworker's local path), `doc_id`,
`ordinal`, `start`, `end`, optional `page`/`page_end`, `heading_path` (a JSON list, or a string joined with " › ").
The reader returns chunks with `collection` set and the id "<collection>:<chunk id>".
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.core.documents import Chunk
from app.core.endpoints import Endpoint, parse_endpoint
from app.core.errors import (
    AktenlotseError,
    RemoteConfigError,
    RemoteRejected,
    RemoteUnavailable,
)

PURPOSE = "Fachbereichswissen"
_BATCH = 256


def _import_chromadb() -> tuple[Any, Any]:
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    try:
        import chromadb
        from chromadb.config import Settings
    except ImportError as exc:  # pragma: no cover - a broken installation
        raise AktenlotseError("Die Vektordatenbank (chromadb) ist nicht installiert.", repr(exc)) from exc
    return chromadb, Settings


def heading_path_of(value: object) -> tuple[str, ...]:
    """The heading path from metadata: a JSON list (as the publisher writes it) or a " › "-joined string."""
    if not value:
        return ()
    text = str(value)
    if text.startswith("["):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return tuple(str(p) for p in parsed)
        except ValueError:
            pass
    return tuple(p.strip() for p in text.split(" › ") if p.strip())


def _int(value: object, default: int | None = 0) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """The server's metadata for a chunk (no None values: chromadb rejects them)."""
    meta: dict[str, Any] = {"path": chunk.path, "doc_id": chunk.doc_id, "ordinal": chunk.ordinal,
                            "start": chunk.start, "end": chunk.end,
                            "heading_path": json.dumps(list(chunk.heading_path), ensure_ascii=False)}
    if chunk.page is not None:
        meta["page"] = chunk.page
    if chunk.page_end is not None:
        meta["page_end"] = chunk.page_end
    return meta


class _ChromaServer:
    """Connection to a Chroma server: endpoint checks, lazy client, a timeout on every request, error mapping."""

    def __init__(self, url: str, *, token: str | None = None, ca_bundle: str | os.PathLike[str] | None = None,
                 timeout: float = 30.0) -> None:
        self.endpoint: Endpoint = parse_endpoint(url, PURPOSE)
        if self.endpoint.path:
            raise RemoteConfigError(
                f"Die Adresse für „{PURPOSE}“ darf keinen Pfad enthalten ({self.endpoint.path}); "
                "angegeben wird nur https://server:port.")
        if ca_bundle and not Path(ca_bundle).is_file():
            raise RemoteConfigError(f"Die Zertifikatsdatei für „{PURPOSE}“ fehlt: {ca_bundle}")
        self._token = token
        self._ca_bundle = str(ca_bundle) if ca_bundle else None
        self._timeout = float(timeout)
        self._lock = threading.RLock()
        self._client: Any = None

    @property
    def display(self) -> str:
        return self.endpoint.display

    def _unavailable(self, detail: str) -> RemoteUnavailable:
        return RemoteUnavailable(
            f"Der Server für Fachbereichswissen ({self.display}) ist nicht erreichbar. "
            "Bitte später erneut versuchen oder die IT verständigen.", detail)

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._probe()
                chromadb, settings_cls = _import_chromadb()
                settings = settings_cls(anonymized_telemetry=False, allow_reset=False,
                                        chroma_server_ssl_verify=self._ca_bundle or True)
                headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
                ep = self.endpoint
                self._client = self.call(lambda: chromadb.HttpClient(
                    host=ep.host, port=ep.port, ssl=ep.tls, headers=headers, settings=settings))
                self._set_timeout(self._client)
            return self._client

    def _probe(self) -> None:
        """Fail fast (within the timeout) when nothing listens: chromadb's own HTTP session has no timeout."""
        try:
            with socket.create_connection((self.endpoint.host, self.endpoint.port), timeout=min(self._timeout, 10)):
                pass
        except OSError as exc:
            raise self._unavailable(f"{type(exc).__name__}: {exc}") from exc

    def _set_timeout(self, client: Any) -> None:
        import httpx

        # other chromadb internals: the probe still bounds connection failures
        with contextlib.suppress(Exception):
            client._server._session.timeout = httpx.Timeout(self._timeout)

    def call(self, fn: Any, collection: str = "") -> Any:
        """Run one chromadb request; map its failures to RemoteUnavailable / RemoteRejected (German, naming the
        server or the collection)."""
        try:
            return fn()
        except AktenlotseError:
            raise
        except Exception as exc:  # chromadb raises plain Exception for unknown HTTP errors
            raise self._map(exc, collection) from exc

    def _map(self, exc: Exception, collection: str) -> AktenlotseError:
        name = type(exc).__name__
        text = str(exc)
        detail = f"{name}: {text}"[:500]
        try:
            import httpx

            if isinstance(exc, (httpx.TransportError, httpx.TimeoutException)):
                return self._unavailable(detail)
        except ImportError:  # pragma: no cover
            pass
        if isinstance(exc, (OSError, TimeoutError)):
            return self._unavailable(detail)
        if name in ("ChromaAuthError", "AuthorizationError") or any(
                c in text for c in ("401", "403", "Unauthorized", "Forbidden")):
            return RemoteRejected(
                f"Der Server für Fachbereichswissen ({self.display}) hat die Anmeldung abgelehnt. "
                "Bitte die IT verständigen (Zugangsschlüssel prüfen).", detail)
        if collection and (name == "NotFoundError" or "does not exist" in text or "not found" in text.lower()):
            return RemoteRejected(
                f"Die Sammlung „{collection}“ gibt es auf dem Server für Fachbereichswissen ({self.display}) nicht. "
                "Bitte die IT verständigen (Richtlinie: shared_collections).", detail)
        return RemoteUnavailable(
            f"Der Server für Fachbereichswissen ({self.display}) hat mit einem Fehler geantwortet.", detail)

    def collection_names(self) -> list[str]:
        client = self.client()
        return sorted(str(getattr(c, "name", c)) for c in self.call(client.list_collections))

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                with contextlib.suppress(Exception):  # best effort
                    self._client._server._session.close()
            self._client = None


class ChromaSharedKnowledge:
    """Implements the `SharedKnowledge` port: read-only by construction – it can list counts and query vectors,
    nothing else (no upsert, no delete, no collection creation)."""

    def __init__(self, url: str, collections: Sequence[str], *, token: str | None = None,
                 ca_bundle: str | os.PathLike[str] | None = None, timeout: float = 30.0) -> None:
        self._server = _ChromaServer(url, token=token, ca_bundle=ca_bundle, timeout=timeout)
        self.collections = tuple(dict.fromkeys(c.strip() for c in collections if c and c.strip()))
        if not self.collections:
            raise RemoteConfigError(f"Für „{PURPOSE}“ nennt die Richtlinie keine Sammlung (shared_collections).")
        self._opened: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def display(self) -> str:
        return self._server.display

    def _collection(self, name: str) -> Any:
        with self._lock:
            if name not in self._opened:
                client = self._server.client()
                # embedding_function=None: chromadb must never load (download) its default model
                self._opened[name] = self._server.call(
                    lambda: client.get_collection(name, embedding_function=None), name)
            return self._opened[name]

    def describe(self) -> list[tuple[str, int]]:
        out = []
        for name in self.collections:
            coll = self._collection(name)
            out.append((name, int(self._server.call(coll.count, name))))
        return out

    def query(self, vector: Sequence[float], k: int) -> list[tuple[Chunk, float]]:
        if k <= 0:
            return []
        embedding = [float(x) for x in vector]
        found: list[tuple[Chunk, float]] = []
        for name in self.collections:
            coll = self._collection(name)
            result = self._server.call(lambda coll=coll: coll.query(
                query_embeddings=[embedding], n_results=k, include=["documents", "metadatas", "distances"]), name)
            space = str((getattr(coll, "metadata", None) or {}).get("hnsw:space", "cosine"))
            for cid, text, meta, dist in zip(result["ids"][0], result["documents"][0], result["metadatas"][0],
                                             result["distances"][0]):
                found.append((self._chunk(name, cid, text, meta or {}), _similarity(float(dist), space)))
        found.sort(key=lambda x: -x[1])
        return found[:k]

    @staticmethod
    def _chunk(collection: str, cid: str, text: str | None, meta: dict[str, Any]) -> Chunk:
        text = text or ""
        start = _int(meta.get("start"), 0) or 0
        return Chunk(
            id=f"{collection}:{cid}", doc_id=str(meta.get("doc_id", "")), path=str(meta.get("path", "")),
            text=text, ordinal=_int(meta.get("ordinal"), 0) or 0, start=start,
            end=_int(meta.get("end"), start + len(text)) or start + len(text),
            page=_int(meta.get("page"), None), page_end=_int(meta.get("page_end"), None),
            heading_path=heading_path_of(meta.get("heading_path")), collection=collection)

    def close(self) -> None:
        with self._lock:
            self._opened.clear()
        self._server.close()


def _similarity(distance: float, space: str) -> float:
    """Cosine similarity from chromadb's distance (vectors are normalised, so l2 and ip convert too)."""
    if space == "l2":
        return 1.0 - distance / 2.0
    return 1.0 - distance  # "cosine": 1 - cos; "ip": 1 - dot


class ChromaSharedPublisher:
    """For the data-centre admins (`aktenlotse shared publish/list`), never used by the desktop search: creates a
    collection (cosine space, no embedding function) and replaces a document's chunks."""

    def __init__(self, url: str, *, token: str | None = None, ca_bundle: str | os.PathLike[str] | None = None,
                 timeout: float = 60.0) -> None:
        self._server = _ChromaServer(url, token=token, ca_bundle=ca_bundle, timeout=timeout)

    @property
    def display(self) -> str:
        return self._server.display

    def list(self) -> list[tuple[str, int]]:
        client = self._server.client()
        out = []
        for name in self._server.collection_names():
            coll = self._server.call(lambda n=name: client.get_collection(n, embedding_function=None), name)
            out.append((name, int(self._server.call(coll.count, name))))
        return out

    def publish(self, collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> int:
        """Replace the chunks of every document in `chunks` (by doc_id) with these; returns the count written."""
        if len(chunks) != len(vectors):
            raise ValueError("chunks and vectors differ in length")
        client = self._server.client()
        coll = self._server.call(lambda: client.get_or_create_collection(
            collection, embedding_function=None, metadata={"hnsw:space": "cosine"}), collection)
        for doc_id in dict.fromkeys(c.doc_id for c in chunks):
            self._server.call(lambda d=doc_id: coll.delete(where={"doc_id": d}), collection)
        for i in range(0, len(chunks), _BATCH):
            part = chunks[i:i + _BATCH]
            self._server.call(lambda part=part, i=i: coll.upsert(
                ids=[c.id for c in part], documents=[c.text for c in part],
                embeddings=[[float(x) for x in v] for v in vectors[i:i + _BATCH]],
                metadatas=[chunk_metadata(c) for c in part]), collection)
        return len(chunks)

    def close(self) -> None:
        self._server.close()
