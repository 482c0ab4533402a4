"""The index manifest in SQLite (WAL): one row per file with size, mtime, content hash, status and chunk ids.

Thread use: each thread gets its own connection (thread-local), so the GUI or a CLI can read `all()`/`get()` while
the indexing owner thread writes. WAL keeps readers from blocking the writer and vice versa; every `put` commits at
once, so a kill -9 loses at most the write in flight.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from app.adapters.sqlite_connections import ThreadConnections
from app.core.documents import FileRecord, FileStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    chunk_ids TEXT NOT NULL DEFAULT '[]',
    embedded INTEGER NOT NULL DEFAULT 0,
    format TEXT NOT NULL DEFAULT '',
    page_count INTEGER,
    root TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_status ON files(status);
"""
_COLUMNS = "path, size, mtime_ns, content_hash, status, reason, chunk_ids, embedded, format, page_count, root"


def _record(row: tuple) -> FileRecord:
    path, size, mtime_ns, content_hash, status, reason, chunk_ids, embedded, fmt, page_count, root = row
    return FileRecord(
        path=path, size=size, mtime_ns=mtime_ns, content_hash=content_hash, status=FileStatus(status),
        reason=reason, chunk_ids=tuple(json.loads(chunk_ids)), embedded=bool(embedded), format=fmt,
        page_count=page_count, root=root,
    )


class SqliteManifest:
    """Implements the Manifest port on `<folder>/manifest.sqlite3`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "manifest.sqlite3"
        self._connections = ThreadConnections(self.path)
        self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    # -- Manifest port --------------------------------------------------------------------
    def get(self, path: str) -> FileRecord | None:
        row = self._conn().execute(f"SELECT {_COLUMNS} FROM files WHERE path = ?", (path,)).fetchone()
        return _record(row) if row else None

    def put(self, record: FileRecord) -> None:
        self.put_many([record])

    def put_many(self, records: list[FileRecord]) -> None:
        """Write several records in one transaction (all or none)."""
        if not records:
            return
        now = time.time()
        rows = [
            (r.path, r.size, r.mtime_ns, r.content_hash, r.status.value, r.reason, json.dumps(list(r.chunk_ids)),
             int(r.embedded), r.format, r.page_count, r.root, now)
            for r in records
        ]
        conn = self._conn()
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                f"INSERT OR REPLACE INTO files ({_COLUMNS}, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows
            )

    def delete(self, path: str) -> None:
        conn = self._conn()
        with conn:
            conn.execute("DELETE FROM files WHERE path = ?", (path,))

    def all(self) -> list[FileRecord]:
        return [_record(r) for r in self._conn().execute(f"SELECT {_COLUMNS} FROM files ORDER BY path")]

    # -- extras ---------------------------------------------------------------------------
    def counts(self) -> dict[FileStatus, int]:
        rows = self._conn().execute("SELECT status, COUNT(*) FROM files GROUP BY status").fetchall()
        return {FileStatus(status): n for status, n in rows}

    def close(self) -> None:
        self._connections.close()
