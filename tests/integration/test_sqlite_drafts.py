"""SqliteDrafts (app.adapters.sqlite_drafts): drafts and statistics in one real SQLite file.

Round trips, persistence across reopen, damaged records, statistics that outlive their draft, and a crash test: a
process killed with SIGKILL loses no decision it had reported done.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.adapters.sqlite_drafts import SqliteDrafts
from app.core.draft_builders import from_letter, from_lookup, from_summary, to_record
from app.core.drafts import Draft, DraftState, DraftStats
from app.core.errors import AktenlotseError
from tests.unit.services.test_review import make_answer, make_letter, make_summary

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def drafts() -> list[Draft]:
    """One draft of each kind, created a minute apart (the store lists newest first)."""
    a = from_lookup(make_answer(id="lookup-1", created=T0))
    s = from_summary(make_summary(id="summary-1", created=T0 + timedelta(minutes=1)))
    letter = make_letter(id="letter-1", created=T0 + timedelta(minutes=2))
    l = from_letter(letter, letter.body.replace("[Frist eintragen]", "15.01.2027"), now=T0 + timedelta(minutes=3))
    return [a, s, l]


@pytest.fixture
def store(tmp_path: Path):
    db = SqliteDrafts(tmp_path / "data" / "drafts.sqlite3")
    yield db
    db.close()


def test_save_get_and_list_round_trip(store: SqliteDrafts) -> None:
    originals = drafts()
    for d in originals:
        store.save(d)
    for d in originals:
        loaded = store.get(d.id)
        assert loaded is not None
        assert to_record(loaded) == to_record(d)
    listed = store.list()
    assert [d.id for d in listed] == ["letter-1", "summary-1", "lookup-1"]  # newest first
    assert [to_record(d) for d in listed] == [to_record(d) for d in reversed(originals)]
    assert store.get("gibt-es-nicht") is None


def test_list_open_only(store: SqliteDrafts) -> None:
    a, s, l = drafts()
    a.start_review(T0, "x")
    a.reject("PRUEFER\\x", T0 + timedelta(seconds=5), "passt nicht")
    s.start_review(T0, "x")
    for d in (a, s, l):
        store.save(d)
    assert {d.id for d in store.list(open_only=True)} == {"summary-1", "letter-1"}
    assert {d.id for d in store.list()} == {"lookup-1", "summary-1", "letter-1"}


def test_state_updates_persist_across_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "drafts.sqlite3"
    first = SqliteDrafts(path)
    a, s, _ = drafts()
    first.save(a)
    first.save(s)
    a.start_review(T0 + timedelta(seconds=1), "PRUEFER\\x")
    a.open_source(1)
    a.edit(a.text + " Ergänzt.", T0 + timedelta(seconds=2))
    first.save(a)
    s.discard(T0 + timedelta(seconds=3), "PRUEFER\\x")
    first.save(s)
    first.close()

    second = SqliteDrafts(path)
    try:
        again = second.get("lookup-1")
        assert again is not None
        assert again.state is DraftState.IN_REVIEW
        assert again.opened_sources == {1} and len(again.versions) == 2
        assert to_record(again) == to_record(a)
        assert second.get("summary-1").state is DraftState.DISCARDED
        assert [d.id for d in second.list(open_only=True)] == ["lookup-1"]
        # the state column the open_only filter uses is updated along with the record
        rows = dict(sqlite3.connect(path).execute("SELECT id, state FROM drafts").fetchall())
        assert rows == {"lookup-1": "in_review", "summary-1": "discarded"}
    finally:
        second.close()


def _damage(path: Path, draft_id: str, record: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        assert conn.execute("UPDATE drafts SET record = ? WHERE id = ?", (record, draft_id)).rowcount == 1
    conn.close()


DAMAGED = {
    "not_json": "{kaputt",
    "truncated": '{"record_version": 1, "id": "summary-1", "kind": "summ',
    "empty_object": "{}",
    "other_version": json.dumps({"record_version": 99, "id": "summary-1"}),
    "missing_fields": json.dumps({"record_version": 1, "id": "summary-1"}),
    "bad_state": None,  # filled in below: a real record with an unknown state
    "bad_date": None,
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_record_is_skipped(store: SqliteDrafts, case: str) -> None:
    originals = drafts()
    for d in originals:
        store.save(d)
    record = DAMAGED[case]
    if case == "bad_state":
        record = json.dumps({**to_record(originals[1]), "state": "vielleicht"})
    elif case == "bad_date":
        record = json.dumps({**to_record(originals[1]), "created": "gestern"})
    _damage(store.path, "summary-1", record)
    assert store.get("summary-1") is None
    assert [d.id for d in store.list()] == ["letter-1", "lookup-1"]
    assert [d.id for d in store.list(open_only=True)] == ["letter-1", "lookup-1"]
    assert to_record(store.get("lookup-1")) == to_record(originals[0])


@pytest.mark.parametrize("record", ["null", "[]", '"kaputt"', "42"])
def test_a_record_that_is_json_but_no_object_is_skipped(store: SqliteDrafts, record: str) -> None:
    for d in drafts():
        store.save(d)
    _damage(store.path, "summary-1", record)
    assert store.get("summary-1") is None
    assert [d.id for d in store.list()] == ["letter-1", "lookup-1"]


def test_a_record_without_versions_is_skipped(store: SqliteDrafts) -> None:
    originals = drafts()
    for d in originals:
        store.save(d)
    _damage(store.path, "summary-1", json.dumps({**to_record(originals[1]), "versions": []}))
    assert store.get("summary-1") is None
    assert [d.id for d in store.list()] == ["letter-1", "lookup-1"]


def test_a_file_that_is_not_a_database_gives_a_german_error(tmp_path: Path) -> None:
    path = tmp_path / "drafts.sqlite3"
    path.write_bytes(b"Dies ist keine Datenbank." * 200)
    with pytest.raises(AktenlotseError, match="beschädigt"):
        SqliteDrafts(path)


# -- statistics -------------------------------------------------------------------------------------------------
def test_stats_put_and_rows_round_trip(store: SqliteDrafts) -> None:
    a, s, l = drafts()
    a.start_review(T0 + timedelta(seconds=10), "x")
    a.reject("PRUEFER\\x", T0 + timedelta(seconds=70), "Grund")
    stats = {d.id: d.stats() for d in (a, s, l)}
    for draft_id, row in stats.items():
        store.put(draft_id, row)
    assert store.rows() == list(stats.values())
    assert store.rows()[0].reject_reason_given is True and store.rows()[0].review_seconds == 60.0
    updated = dataclasses.replace(stats["summary-1"], state="confirmed", edit_ratio=0.25)
    store.put("summary-1", updated)  # an update replaces the row in place
    assert store.rows() == [stats["lookup-1"], updated, stats["letter-1"]]


def test_stats_rows_survive_deleting_the_draft(tmp_path: Path) -> None:
    path = tmp_path / "drafts.sqlite3"
    db = SqliteDrafts(path)
    originals = drafts()
    for d in originals:
        db.save(d)
        db.put(d.id, d.stats())
    db.delete("lookup-1")
    assert db.get("lookup-1") is None
    assert len(db.rows()) == 3
    db.close()
    again = SqliteDrafts(path)
    try:
        assert again.rows() == [d.stats() for d in originals]
        assert [d.id for d in again.list()] == ["letter-1", "summary-1"]
    finally:
        again.close()


def test_a_damaged_stats_row_is_skipped(store: SqliteDrafts) -> None:
    a, s, _ = drafts()
    store.put(a.id, a.stats())
    store.put(s.id, s.stats())
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute("UPDATE draft_stats SET row = '{kaputt' WHERE draft_id = ?", (a.id,))
    conn.close()
    assert store.rows() == [s.stats()]


def test_stats_columns_are_the_dataclass_fields(store: SqliteDrafts) -> None:
    a = drafts()[0]
    store.put(a.id, a.stats())
    (row,) = sqlite3.connect(store.path).execute("SELECT row FROM draft_stats").fetchone()
    assert tuple(json.loads(row)) == DraftStats.columns()


# -- crash ------------------------------------------------------------------------------------------------------
CHILD = r"""
import sys
from pathlib import Path
from app.adapters.sqlite_drafts import SqliteDrafts
from app.core.documents import Chunk
from app.core.grounding import ground
from app.core.lookup import LookupAnswer, Scope, Source
from app.services.review import ReviewService


class NoAudit:
    def record(self, action, fields):
        pass


store = SqliteDrafts(Path(sys.argv[1]))
review = ReviewService(store, NoAudit(), reviewer="PRUEFER\\absturz", stats=store)
chunk = Chunk(id="c1", doc_id="d1", path="/akten/a.txt", text="Die Frist beträgt einen Monat.", ordinal=0,
              start=0, end=30)
i = 0
while True:
    text = f"Die Frist beträgt einen Monat [1]. Lauf {i}."
    sources = [Source(1, chunk)]
    answer = LookupAnswer("Frage?", Scope.everything(), sources, text=text,
                          grounding=ground(text, {1: chunk.citable_text()}), id=f"crash-{i:05d}")
    draft_id = review.submit(answer)
    print(draft_id, "generated", flush=True)
    if i % 3 == 0:
        review.start_review(draft_id)
        print(draft_id, "in_review", flush=True)
        review.open_source(draft_id, 1)
        for item in review.get(draft_id).checklist(review.policy):
            if not item.resolved:
                review.tick(draft_id, item.key)
        review.confirm(draft_id)
        print(draft_id, "confirmed", flush=True)
    elif i % 3 == 1:
        review.reject(draft_id, "Grund")
        print(draft_id, "rejected", flush=True)
    else:
        review.start_review(draft_id)
        print(draft_id, "in_review", flush=True)
    i += 1
"""

#: What may follow an acknowledged state in the child's sequence (a call may complete between print and kill).
LATER = {"generated": {"generated", "in_review", "rejected", "confirmed"},
         "in_review": {"in_review", "confirmed"}, "confirmed": {"confirmed"}, "rejected": {"rejected"}}


def test_a_killed_process_loses_no_acknowledged_decision(tmp_path: Path) -> None:
    path = tmp_path / "crash" / "drafts.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    acked: dict[str, str] = {}
    deadline = time.monotonic() + 60
    try:
        while len(acked) < 15:
            assert time.monotonic() < deadline, "child too slow"
            line = proc.stdout.readline()
            if not line:
                pytest.fail("child ended early: " + proc.stderr.read())
            draft_id, state = line.split()
            acked[draft_id] = state
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= 15
    assert {"confirmed", "rejected", "in_review"} <= set(acked.values())

    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    reopened = SqliteDrafts(path)
    try:
        for draft_id, state in acked.items():
            draft = reopened.get(draft_id)
            assert draft is not None, draft_id
            assert draft.state.value in LATER[state], (draft_id, state, draft.state)
        # every draft but the last one the child touched was finished before the kill: exact state
        for draft_id, state in list(acked.items())[:-1]:
            assert reopened.get(draft_id).state.value == state, draft_id
        listed = {d.id for d in reopened.list()}
        assert set(acked) <= listed
        # the statistics row is written before submit() returns, so every acknowledged draft has one
        assert len(reopened.rows()) >= len(acked)
    finally:
        reopened.close()
