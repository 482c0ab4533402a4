"""JsonlAuditLog (app.adapters.audit_log) on real files: damage done to the bytes on disk is named with file, line,
record number and kind; rotation by size and month keeps one chain; export; several writers (instances, threads,
a second process) keep one valid chain; an unwritable folder raises AuditWriteError.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.adapters.audit_log import HEAD_FILE, AuditWriteError, JsonlAuditLog
from app.core.audit import Damage, key_id
from tests.unit.core.test_audit import expected_kind, value_span

REPO = Path(__file__).resolve().parents[2]
KEY = b"s" * 32
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class Clock:
    """A settable clock: each call returns `now` and then advances it by `step`."""

    def __init__(self, now: datetime = T0, step: timedelta = timedelta(minutes=1)) -> None:
        self.now, self.step = now, step

    def __call__(self) -> datetime:
        now = self.now
        self.now += self.step
        return now


def make_log(folder: Path, n: int = 0, **kwargs) -> JsonlAuditLog:
    kwargs.setdefault("clock", Clock())
    log = JsonlAuditLog(folder, actor="VERWALTUNG\\j.weber", key=KEY, **kwargs)
    for i in range(n):
        log.record("draft_confirmed", {"draft": f"d-{i + 1}", "count": i, "note": "Anhörung Müller"})
    return log


def problem_of(log: JsonlAuditLog) -> tuple:
    result = log.verify()
    assert result.problem is not None, "damage not detected"
    p = result.problem
    return p.kind, p.file, p.line, p.seq


def file_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


# -- untouched ------------------------------------------------------------------------------------------------------
def test_untouched_log_verifies(tmp_path: Path) -> None:
    log = make_log(tmp_path / "audit", 20)
    result = log.verify()
    assert result.ok and result.signed
    assert (result.records, result.files, result.last_seq, result.torn_tails) == (20, 1, 20, 0)
    assert [r["seq"] for r in log.records()] == list(range(1, 21))
    head = json.loads((tmp_path / "audit" / HEAD_FILE).read_text(encoding="utf-8"))
    assert head["seq"] == 20 and head["key_id"] == key_id(KEY) and head["file"] == log.files()[0].name
    assert log.recovered_torn_tail is False
    # reopening changes nothing
    again = make_log(tmp_path / "audit")
    assert again.recovered_torn_tail is False and again.verify().records == 20


# -- damage to the bytes on disk ------------------------------------------------------------------------------------
def test_one_modified_byte_at_random_offsets_is_named(tmp_path: Path) -> None:
    rng = random.Random(20261126)
    original = make_log(tmp_path / "orig", 12)
    path = original.files()[0]
    data = path.read_bytes()
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A][:-1]  # offset where each line begins
    for offset in rng.sample(range(len(data)), 40):
        line_index = max(i for i, s in enumerate(starts) if s <= offset)
        line = data[starts[line_index]:data.index(b"\n", starts[line_index])]
        damaged = bytearray(data)
        damaged[offset] ^= 0x01
        path.write_bytes(bytes(damaged))
        try:
            kind, file, line_no, seq = problem_of(original)
        finally:
            path.write_bytes(data)
        within = offset - starts[line_index]
        if within == len(line):  # the line break itself became \x0b: two lines run together into one bad line
            assert kind == Damage.MODIFIED
        else:
            assert kind == expected_kind(line, within, damaged[offset]), (offset, kind)
        assert (file, line_no) == (path.name, line_index + 1), offset
        if within not in value_span(line, "seq"):
            assert seq in (None, line_index + 1), (offset, seq)
    assert original.verify().ok  # restored


def test_deleted_line_is_named(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    path = log.files()[0]
    lines = file_lines(path)
    path.write_bytes(b"".join(lines[:4] + lines[5:]))
    assert problem_of(log) == (Damage.DELETED, path.name, 5, 6)


def test_swapped_lines_are_named(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    path = log.files()[0]
    lines = file_lines(path)
    lines[2], lines[7] = lines[7], lines[2]
    path.write_bytes(b"".join(lines))
    assert problem_of(log) == (Damage.REORDERED, path.name, 3, 8)


def test_truncated_by_whole_lines_is_named(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    path = log.files()[0]
    path.write_bytes(b"".join(file_lines(path)[:7]))
    assert problem_of(log) == (Damage.TRUNCATED, path.name, 7, 7)


def test_truncated_by_a_partial_line_is_named(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    path = log.files()[0]
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 30])
    # line 10 lost its end (a warning on its own), but the head says 10 records were written
    assert problem_of(log) == (Damage.TRUNCATED, path.name, 10, 9)
    assert any("Zeile 10" in w for w in log.verify().warnings)


def test_truncation_stays_evident_after_the_next_record(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    path = log.files()[0]
    path.write_bytes(b"".join(file_lines(path)[:7]))
    assert problem_of(log)[0] == Damage.TRUNCATED
    log.record("draft_confirmed", {"draft": "d-new"})
    assert not log.verify().ok


def test_partial_truncation_stays_evident_after_reopening(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    path = log.files()[0]
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 30])
    assert problem_of(log)[0] == Damage.TRUNCATED
    reopened = make_log(tmp_path)
    assert not reopened.verify().ok


# -- rotation -------------------------------------------------------------------------------------------------------
def test_rotation_by_size_keeps_one_chain(tmp_path: Path) -> None:
    log = make_log(tmp_path, 15, rotate_bytes=1000)
    files = log.files()
    assert len(files) >= 4
    assert [f.name for f in files] == [f"audit-2026-11-{i:03d}.jsonl" for i in range(1, len(files) + 1)]
    result = log.verify()
    assert result.ok and result.signed and (result.records, result.files) == (15, len(files))
    first_of_second = json.loads(file_lines(files[1])[0])
    last_of_first = json.loads(file_lines(files[0])[-1])
    assert first_of_second["seq"] == last_of_first["seq"] + 1
    assert first_of_second["prev"] == last_of_first["hash"]


def test_rotation_by_month_restarts_the_file_number(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 1, 30, 12, 0, tzinfo=UTC), timedelta(days=1))
    log = make_log(tmp_path, 40, clock=clock, rotate_bytes=8000)  # Jan 30 .. Mar 10, several files in February
    names = [f.name for f in log.files()]
    assert names[0] == "audit-2026-01-001.jsonl"
    assert "audit-2026-02-001.jsonl" in names and "audit-2026-02-002.jsonl" in names
    assert names[-1] == "audit-2026-03-001.jsonl"
    result = log.verify()
    assert result.ok and result.records == 40 and result.files == len(names)
    for path in log.files():
        month = path.name[6:13]
        assert all(json.loads(line)["at"].startswith(month) for line in file_lines(path))


def test_deleted_middle_file_is_deleted_and_deleted_last_file_is_truncated(tmp_path: Path) -> None:
    log = make_log(tmp_path, 15, rotate_bytes=1000)
    files = log.files()
    first_seq = [json.loads(file_lines(f)[0])["seq"] for f in files]
    middle = files[1].read_bytes()
    files[1].unlink()
    assert problem_of(log) == (Damage.DELETED, files[2].name, 1, first_seq[2])
    files[1].write_bytes(middle)
    assert log.verify().ok
    files[-1].unlink()
    last_lines = file_lines(files[-2])
    assert problem_of(log) == (Damage.TRUNCATED, files[-2].name, len(last_lines), first_seq[-1] - 1)


# -- export ---------------------------------------------------------------------------------------------------------
def test_export_filters_by_time(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)  # records at T0, T0+1min, ..., T0+9min
    start, end = T0 + timedelta(minutes=3), T0 + timedelta(minutes=7)
    exported = json.loads(log.export(start, end, "json"))
    assert [r["seq"] for r in exported] == [4, 5, 6, 7]  # start inclusive, end exclusive
    assert exported[0]["fields"] == {"draft": "d-4", "count": 3, "note": "Anhörung Müller"}
    rows = list(csv.reader(io.StringIO(log.export(start, None, "csv"))))
    assert rows[0] == ["seq", "at", "action", "actor", "fields", "hash", "signed"]
    assert [r[0] for r in rows[1:]] == ["4", "5", "6", "7", "8", "9", "10"]
    assert rows[1][3] == "VERWALTUNG\\j.weber" and rows[1][6] == "ja"
    assert json.loads(rows[1][4])["note"] == "Anhörung Müller"
    assert len(json.loads(log.export(None, None, "json"))) == 10
    assert json.loads(log.export(T0 + timedelta(hours=1), None, "json")) == []


# -- several writers ------------------------------------------------------------------------------------------------
def test_two_instances_interleaved_keep_one_chain(tmp_path: Path) -> None:
    a = JsonlAuditLog(tmp_path, actor="a", key=KEY)
    b = JsonlAuditLog(tmp_path, actor="b", key=KEY)
    for i in range(10):
        (a if i % 2 == 0 else b).record("step", {"i": i})
    result = a.verify()
    assert result.ok and result.records == 10 and b.verify().ok
    assert [r["actor"] for r in a.records()] == ["a", "b"] * 5


@pytest.mark.parametrize("shared", [False, True], ids=["instance-per-thread", "shared-instance"])
def test_threads_appending_keep_one_chain(tmp_path: Path, shared: bool) -> None:
    common = JsonlAuditLog(tmp_path, actor="shared", key=KEY)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        log = common if shared else JsonlAuditLog(tmp_path, actor=name, key=KEY)
        barrier.wait()
        try:
            for i in range(30):
                log.record("step", {"thread": name, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = common.verify()
    assert result.ok and result.records == 90
    records = common.records()
    assert [r["seq"] for r in records] == list(range(1, 91))
    for n in range(3):
        assert [r["fields"]["i"] for r in records if r["fields"]["thread"] == f"t{n}"] == list(range(30))


CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from app.adapters.audit_log import JsonlAuditLog
log = JsonlAuditLog(Path(sys.argv[2]), actor="child", key=bytes.fromhex(sys.argv[3]))
print("READY", flush=True)
sys.stdin.readline()
for i in range(int(sys.argv[4])):
    log.record("step", {"i": i})
print("DONE", flush=True)
"""


def test_second_process_appending_concurrently_keeps_one_chain(tmp_path: Path) -> None:
    n = 80
    log = JsonlAuditLog(tmp_path, actor="parent", key=KEY)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(REPO), str(tmp_path), KEY.hex(), str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "READY"
        proc.stdin.write("go\n")
        proc.stdin.flush()
        for i in range(n):
            log.record("step", {"i": i})
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.strip() == "DONE"
    result = log.verify()
    assert result.ok and result.records == 2 * n
    records = log.records()
    for actor in ("parent", "child"):
        assert [r["fields"]["i"] for r in records if r["actor"] == actor] == list(range(n))


# -- unwritable folder ----------------------------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="chmod does not restrict root (or Windows)")
def test_read_only_folder_raises_audit_write_error(tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    log = make_log(folder, 2)
    folder.chmod(0o500)
    try:
        with pytest.raises(AuditWriteError):
            log.record("step", {})
        with pytest.raises(AuditWriteError):
            make_log(tmp_path / "audit" / "sub")
    finally:
        folder.chmod(0o700)


def test_folder_under_a_regular_file_raises_audit_write_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(AuditWriteError) as caught:
        make_log(blocker / "audit")
    assert "Prüfprotokoll" in caught.value.user_message and str(blocker) in caught.value.detail


def test_folder_gone_after_opening_raises_audit_write_error_on_record(tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    log = make_log(folder, 3)
    moved = tmp_path / "moved"
    folder.rename(moved)
    folder.write_text("now a file", encoding="utf-8")  # works as root too: nothing can be created under a file
    with pytest.raises(AuditWriteError) as caught:
        log.record("step", {})
    assert "nicht ausgeführt" in caught.value.user_message
    assert make_log(moved).verify().records == 3  # nothing half-written elsewhere


def test_a_head_that_cannot_be_written_does_not_undo_a_durable_record(tmp_path: Path, caplog) -> None:
    """The record line is fsynced first; a head that cannot be replaced only lags behind (which verify accepts),
    so the action is reported done and its record is there – no record of an action that "did not happen"."""
    log = make_log(tmp_path, 3)
    head = tmp_path / "audit.head.json"
    head.unlink()
    head.mkdir()  # the head cannot be written (works as root too)
    log.record("draft_confirmed", {"draft": "d-4"})
    assert [r["fields"].get("draft") for r in log.records()] == ["d-1", "d-2", "d-3", "d-4"]
    assert any("Kopfdatei" in r.getMessage() for r in caplog.records)
    head.rmdir()  # once the head can be written again, the next record brings it up to date
    log.record("draft_confirmed", {"draft": "d-5"})
    assert log.verify().ok and json.loads(head.read_text())["seq"] == 5
