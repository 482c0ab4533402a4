"""Crash test of JsonlAuditLog: a process appending records is killed with SIGKILL at random moments.

Over ROUNDS rounds a child process appends records (every other one with a 1 MB field, so that a write takes long
enough to be cut) and prints "ACK <seq> <i>" right after each `record()` returns. The parent kills it with SIGKILL,
then opens the log again – which closes a torn last line and records it – and checks that every acknowledged record
is there and the log verifies (torn lines only as recorded `torn_tail_recovered`).

Two kinds of rounds alternate, both starting by waiting until the child has written a seeded random number of bytes
(none, or up to a few 1 MB records – a condition, not a fixed sleep): *random* rounds kill right then; *mid-write*
rounds then
watch the newest log file and kill the moment its last byte is not a line break (a record is being written), so that
torn tails occur in every run rather than by luck. Rounds are grouped into folders of GROUP rounds each, so that the
re-reading after each round stays fast. The counts are printed at the end.

Also: crash states found by reasoning about the code, reproduced deterministically.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.adapters.audit_log import JsonlAuditLog
from app.core.audit import TORN_ACTION, Damage

REPO = Path(__file__).resolve().parents[2]
KEY = b"c" * 32
ROUNDS = 56
GROUP = 8
SEED = 8_2026
BLOB = 1_000_000

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from app.adapters.audit_log import JsonlAuditLog
folder, rnd, blob = Path(sys.argv[2]), int(sys.argv[4]), "x" * int(sys.argv[5])
log = JsonlAuditLog(folder, actor="crash-child", key=bytes.fromhex(sys.argv[3]))
for i in range(100000):
    log.record("step", {"round": rnd, "i": i, "blob": blob if i % 2 else ""})
    seq = json.loads((folder / "audit.head.json").read_text(encoding="utf-8"))["seq"]  # sole writer: this record
    print("ACK", seq, i, flush=True)
"""


def mid_write(folder: Path) -> bool:
    """True while the newest log file ends inside a line (a record is being written)."""
    files = sorted(folder.glob("audit-*.jsonl"))
    if not files:
        return False
    try:
        with open(files[-1], "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return False
            handle.seek(size - 1)
            return handle.read(1) != b"\n"
    except OSError:
        return False


def log_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("audit-*.jsonl"))


def wait_for_growth(proc: subprocess.Popen, folder: Path, grow_by: int) -> None:
    """The random kill moment as a condition: until the child has written `grow_by` more bytes (or ended)."""
    target = log_bytes(folder) + grow_by
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and log_bytes(folder) < target:
        try:
            proc.wait(timeout=0.002)  # returns at once if the child ended
            return
        except subprocess.TimeoutExpired:
            continue


def run_round(folder: Path, rnd: int, grow_by: int, targeted: bool) -> tuple[list[tuple[int, int]], bool]:
    """Start the child, kill it; (acknowledged (seq, i) pairs, whether the kill came while a write was seen)."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(REPO), str(folder), KEY.hex(), str(rnd), str(BLOB)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen_mid_write = False
    try:
        wait_for_growth(proc, folder, grow_by)  # the deliberate random kill moment
        if targeted:
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and proc.poll() is None:  # busy wait: no sleep, no missed window
                if mid_write(folder):
                    seen_mid_write = True
                    break
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, f"child ended by itself ({proc.returncode}): {err}"
    acked = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ACK":
            acked.append((int(parts[1]), int(parts[2])))
    return acked, seen_mid_write


def test_killed_writer_loses_no_acknowledged_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    torn_by_kind = {"random": 0, "mid-write": 0}
    rounds_with_acks = acks_total = mid_write_seen = 0
    torn_in_folder = 0
    for rnd in range(ROUNDS):
        if rnd % GROUP == 0:
            folder = tmp_path / f"group-{rnd // GROUP}"
            torn_in_folder = 0
            # the first record and head are written before any kill: a kill between a log's very first record and
            # its first head is a false alarm of its own (test_crash_between_the_first_record_and_its_head)
            JsonlAuditLog(folder, actor="parent", key=KEY).record("opened", {})
        targeted = rnd % 2 == 1
        acked, seen = run_round(folder, rnd, rng.choice([0, rng.randint(1, 4 * BLOB)]), targeted)
        mid_write_seen += seen
        rounds_with_acks += bool(acked)
        acks_total += len(acked)

        log = JsonlAuditLog(folder, actor="checker", key=KEY)  # recovers a torn tail
        if log.recovered_torn_tail:
            torn_in_folder += 1
            torn_by_kind["mid-write" if targeted else "random"] += 1
        result = log.verify()
        assert result.ok, (rnd, result.problem and result.problem.describe_de())
        assert result.torn_tails == torn_in_folder, rnd
        assert not any("unvollständige" in w for w in result.warnings), (rnd, result.warnings)
        records = {r["seq"]: r for r in log.records()}
        assert sum(r["action"] == TORN_ACTION for r in records.values()) == torn_in_folder
        for seq, i in acked:
            assert seq in records, f"round {rnd}: acknowledged record {seq} is missing"
            assert records[seq]["action"] == "step", (rnd, seq, records[seq]["action"])
            assert (records[seq]["fields"]["round"], records[seq]["fields"]["i"]) == (rnd, i), (rnd, seq)
        assert [i for _, i in acked] == list(range(len(acked)))
    elapsed = time.monotonic() - started
    torn = sum(torn_by_kind.values())
    with capsys.disabled():
        print(f"\naudit crash test: {ROUNDS} rounds in {elapsed:.1f} s, {acks_total} acknowledged records, "
              f"{ROUNDS - rounds_with_acks} kills before the first ack, torn tails recovered: {torn} "
              f"(random rounds {torn_by_kind['random']}/{ROUNDS // 2}, mid-write rounds "
              f"{torn_by_kind['mid-write']}/{ROUNDS - ROUNDS // 2}, write seen in progress {mid_write_seen})")
    assert rounds_with_acks >= ROUNDS // 4  # the waits do reach past the first records
    assert torn >= 1, "no torn tail in any round: the recovery path was not exercised"


# -- crash states reproduced deterministically ----------------------------------------------------------------------
def three_records(folder: Path, clock=None) -> JsonlAuditLog:
    log = JsonlAuditLog(folder, actor="a", key=KEY, clock=clock)
    for i in range(3):
        log.record("step", {"i": i})
    return log


def test_crash_between_the_first_record_and_its_head(tmp_path: Path) -> None:
    log = JsonlAuditLog(tmp_path, actor="a", key=KEY)  # a new log starts with an initial head (number 0)
    initial = (tmp_path / "audit.head.json").read_bytes()
    log.record("step", {"i": 0})
    (tmp_path / "audit.head.json").write_bytes(initial)  # a kill after the record's fsync, before its head
    reopened = JsonlAuditLog(tmp_path, actor="a", key=KEY)
    assert reopened.verify().ok, reopened.verify().problem
    (tmp_path / "audit.head.json").unlink()  # a head that is gone altogether is still evidence of a cut-off
    assert reopened.verify().problem.kind is Damage.TRUNCATED


def test_crash_between_closing_the_torn_line_and_recording_it(tmp_path: Path) -> None:
    log = three_records(tmp_path)
    with open(log.files()[-1], "ab") as handle:
        handle.write(b'{"action":"step","actor":"a","at":"2026-11-26T09:00\n')  # torn line, already closed
    reopened = JsonlAuditLog(tmp_path, actor="a", key=KEY)
    assert reopened.verify().ok, reopened.verify().problem


def test_crash_right_after_creating_a_new_month_file(tmp_path: Path) -> None:
    now = [datetime(2026, 1, 31, 23, 0, tzinfo=UTC)]
    three_records(tmp_path, clock=lambda: now[0])
    (tmp_path / "audit-2026-02-001.jsonl").write_bytes(b"")  # created, then the process was killed
    now[0] = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    reopened = JsonlAuditLog(tmp_path, actor="a", key=KEY, clock=lambda: now[0])
    reopened.record("step", {"i": 3})
    assert reopened.verify().ok, reopened.verify().problem
