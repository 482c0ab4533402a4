"""Audit log write cost: appends per second with fsync and the latency one `record()` adds to a user action.

    python bench/audit.py [--dir DIR] [--n 500] [--key | --no-key]

Appends N typical records (ids, a SHA-256, counts – no content) through the real JsonlAuditLog with an HMAC key
into a fresh folder under DIR (default: the system temp folder), timing every `record()` call. Each call takes the
process lock, reads the chain's end, appends the line + fsync, and writes the head (temp file + fsync + rename).
For comparison the same is done on tmpfs (/dev/shm, where fsync costs nothing) when it exists, and a bare
"open, append the same bytes, fsync" loop on DIR shows what the disk alone costs. Target: a record adds < 5 ms to
a user action (p95 compared; ratio = p95 / 5 ms, below 1 is within budget). Prints, never asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.adapters.audit_log import JsonlAuditLog
from app.core.audit import encode, make_record

BUDGET_MS = 5.0
KEY = bytes(range(32))


def fields(i: int) -> dict[str, object]:
    return {"draft": f"draft-{i:06d}", "kind": "letter", "source_sha256": f"{i:064x}", "chunks": 12, "words": 480,
            "model": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "checklist": ["frist", "quelle", "empfaenger"]}


def disk_of(path: Path) -> str:
    """Mount point, file system type and device of `path`, and whether the kernel calls the disk rotational."""
    path = path.resolve()
    best = ("?", "?", "?")
    try:
        with open("/proc/mounts", encoding="utf-8") as handle:
            for line in handle:
                device, mount, fstype = line.split()[:3]
                if (str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best[1]):
                    best = (device, mount, fstype)
    except OSError:
        return "unknown (no /proc/mounts)"
    device, mount, fstype = best
    kind = ""
    name = Path(device).name
    for candidate in (name, name.rstrip("0123456789"), name.rstrip("0123456789").rstrip("p")):
        flag = Path(f"/sys/block/{candidate}/queue/rotational")
        if flag.exists():
            kind = ", rotational (HDD)" if flag.read_text().strip() == "1" else ", non-rotational (SSD/virtual)"
            break
    return f"{fstype} on {device} mounted at {mount}{kind}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class FsyncCounter:
    """Wraps os.fsync (which the adapter calls through the `os` module) to count calls per record."""

    def __init__(self) -> None:
        self.calls = 0
        self._real = os.fsync

    def __enter__(self) -> Self:
        def counting(fd: int) -> None:
            self.calls += 1
            self._real(fd)

        os.fsync = counting
        return self

    def __exit__(self, *exc: object) -> None:
        os.fsync = self._real


FSYNCS_PER_RECORD: list[float] = []


def bench_log(base: Path, n: int, key: bytes | None) -> list[float]:
    """Milliseconds per record() call, in a fresh folder under `base`."""
    with tempfile.TemporaryDirectory(dir=base, prefix="audit-bench-") as folder:
        log = JsonlAuditLog(Path(folder), actor="VERWALTUNG\\bench", key=key)
        log.record("warm_up", {})
        times = []
        with FsyncCounter() as counter:
            for i in range(n):
                t0 = time.perf_counter()
                log.record("draft_confirmed", fields(i))
                times.append((time.perf_counter() - t0) * 1000)
        FSYNCS_PER_RECORD.append(counter.calls / n)
        result = log.verify()
        if not result.ok:
            print(f"  !! the log written by the bench does not verify: {result.problem}")
    return times


def bench_bare_fsync(base: Path, n: int) -> list[float]:
    """Milliseconds per "append one record's bytes + fsync" – the floor the disk sets, without head or lock."""
    line = encode(make_record(seq=1, at="2026-11-26T09:00:00.000000+00:00", action="draft_confirmed",
                              actor="VERWALTUNG\\bench", fields=fields(1), prev="0" * 64, key=KEY))
    with tempfile.TemporaryDirectory(dir=base, prefix="audit-bench-") as folder:
        path = Path(folder) / "bare.jsonl"
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            with open(path, "ab") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            times.append((time.perf_counter() - t0) * 1000)
    return times


def report(label: str, times: list[float]) -> None:
    total_s = sum(times) / 1000
    p50, p95 = statistics.median(times), percentile(times, 0.95)
    print(f"  {label:<44} {len(times) / total_s:8.0f} /s   median {p50:6.2f} ms   p95 {p95:6.2f} ms   "
          f"max {max(times):6.2f} ms   p95/budget {p95 / BUDGET_MS:5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()), help="where the log is written")
    parser.add_argument("--n", type=int, default=500, help="records per run")
    parser.add_argument("--no-key", action="store_true", help="also run without HMAC key (unsigned)")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"audit log: {args.n} record() calls per run, budget {BUDGET_MS:.0f} ms per user action")
    print(f"  --dir {args.dir}: {disk_of(args.dir)}")
    report("JsonlAuditLog, key, fsync  [--dir]", bench_log(args.dir, args.n, KEY))
    if args.no_key:
        report("JsonlAuditLog, no key, fsync  [--dir]", bench_log(args.dir, args.n, None))
    report("bare append + fsync of one line  [--dir]", bench_bare_fsync(args.dir, args.n))
    print(f"  fsync calls per record(): {FSYNCS_PER_RECORD[0]:.2f} (the record line; the head is "
          "overwritten in place without fsync)")
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shm.resolve() != args.dir.resolve():
        print(f"  /dev/shm: {disk_of(shm)} (fsync is free: the rest is CPU and system calls)")
        report("JsonlAuditLog, key  [tmpfs]", bench_log(shm, args.n, KEY))
    return 0


if __name__ == "__main__":
    sys.exit(main())
