"""Drafts and the content-free review statistics in one SQLite file (`<data_dir>/drafts.sqlite3`, WAL).

`drafts` holds each draft as a JSON record (its text, sources and history: user data, kept on this PC only);
`draft_stats` holds one row of numbers per draft for the scientific evaluation and never any text. Every write
commits at once (synchronous=FULL), so a decision that was reported done survives a crash. A record that cannot be
read (damaged, or from another version) is skipped with a log line rather than breaking the Entwürfe list.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from app.adapters.sqlite_connections import ThreadConnections
from app.core.draft_builders import from_record, to_record
from app.core.drafts import Draft, DraftStats
from app.core.errors import AktenlotseError

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS drafts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    created TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS drafts_state ON drafts(state);
CREATE TABLE IF NOT EXISTS draft_stats (
    draft_id TEXT PRIMARY KEY,
    row TEXT NOT NULL
);
"""
_OPEN_STATES = ("generated", "in_review")


class SqliteDrafts:
    """Implements the `DraftStore` and `StatsStore` ports."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connections = ThreadConnections(self.path, synchronous="FULL")
        try:
            self._conn().executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise AktenlotseError("Die Entwurfsablage ist beschädigt und kann nicht geöffnet werden.",
                                  f"{self.path}: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    # -- DraftStore ----------------------------------------------------------------------------------------
    def save(self, draft: Draft) -> None:
        record = json.dumps(to_record(draft), ensure_ascii=False)
        self._conn().execute(
            "INSERT INTO drafts (id, kind, state, created, record) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET state = excluded.state, record = excluded.record",
            (draft.id, draft.kind.value, draft.state.value, draft.created.isoformat(), record))

    def get(self, draft_id: str) -> Draft | None:
        row = self._conn().execute("SELECT record FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        return None if row is None else self._decode(draft_id, row[0])

    def list(self, *, open_only: bool = False) -> list[Draft]:
        sql = "SELECT id, record FROM drafts"
        if open_only:
            sql += f" WHERE state IN ({', '.join('?' * len(_OPEN_STATES))})"
        rows = self._conn().execute(sql + " ORDER BY created DESC", _OPEN_STATES if open_only else ()).fetchall()
        return [d for draft_id, record in rows if (d := self._decode(draft_id, record)) is not None]

    def delete(self, draft_id: str) -> None:
        """Remove a draft's content; its statistics row stays."""
        self._conn().execute("DELETE FROM drafts WHERE id = ?", (draft_id,))

    @staticmethod
    def _decode(draft_id: str, record: str) -> Draft | None:
        try:
            return from_record(json.loads(record))
        except (ValueError, KeyError, TypeError, AttributeError, AktenlotseError) as exc:
            log.warning("Entwurf %s kann nicht gelesen werden und wird übersprungen: %s", draft_id, exc)
            return None

    # -- StatsStore ----------------------------------------------------------------------------------------
    def put(self, draft_id: str, stats: DraftStats) -> None:
        row = json.dumps({c: getattr(stats, c) for c in DraftStats.columns()})
        self._conn().execute("INSERT INTO draft_stats (draft_id, row) VALUES (?, ?) "
                             "ON CONFLICT(draft_id) DO UPDATE SET row = excluded.row", (draft_id, row))

    def rows(self) -> list[DraftStats]:
        result = []
        for (row,) in self._conn().execute("SELECT row FROM draft_stats ORDER BY rowid").fetchall():
            try:
                values = json.loads(row)
                result.append(DraftStats(**{c: values[c] for c in DraftStats.columns()}))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("Statistikzeile übersprungen: %s", exc)
        return result

    def close(self) -> None:
        self._connections.close()
