"""The audit log on disk: append-only JSON Lines with hash chain and HMAC (`app.core.audit`), rotated by month
and size, one head file, a lock for several processes, and recovery of a line torn by a crash.

Files in the audit folder: `audit-YYYY-MM-NNN.jsonl` (the chain runs on across them in name order),
`audit.head.json` (last record's number and hash, signed) and `audit.lock`. `record()` returns only after the line
and the head are written and fsynced, so an action reported done is on disk. Several processes (the window and a
CLI command) may write: each append takes the lock and reads the current end of the chain from the file.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from app.core.audit import (
    GENESIS,
    TORN_ACTION,
    Line,
    VerifyResult,
    encode,
    key_id,
    mac_of,
    make_head,
    make_record,
    parse,
    sha256_hex,
    verify,
)
from app.core.errors import AktenlotseError

log = logging.getLogger(__name__)

HEAD_FILE = "audit.head.json"
LOCK_FILE = "audit.lock"
DEFAULT_ROTATE_BYTES = 8 * 1024 * 1024
_TAIL_BYTES = 64 * 1024
_HEAD_BYTES = 512  # the head is padded to this size and always written whole


class AuditWriteError(AktenlotseError):
    """The record could not be written: the action it logs must not be reported as done."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (fcntl on Unix, msvcrt on Windows)."""
    handle = open(path, "a+b")  # noqa: SIM115 - held for the block
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows only
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - directories cannot be opened for fsync on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JsonlAuditLog:
    """Implements the `AuditTrail` port. `key=None`: no keyring – records are chained but not signed."""

    def __init__(self, folder: Path, *, actor: str, key: bytes | None, records_content: bool = False,
                 rotate_bytes: int = DEFAULT_ROTATE_BYTES, clock: Callable[[], datetime] | None = None,
                 read_only: bool = False) -> None:
        self.folder = Path(folder)
        self.actor = actor
        self.key = key
        self.records_content = records_content
        self.rotate_bytes = rotate_bytes
        self._clock = clock or _utc_now
        self._lock = threading.Lock()
        self.read_only = read_only  # for verifying or exporting a copied log: never written, nothing recovered
        self.recovered_torn_tail = False
        if read_only:
            if not self.folder.is_dir():
                raise AuditWriteError("Der Ordner des Prüfprotokolls existiert nicht.", str(self.folder))
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AuditWriteError("Der Ordner des Prüfprotokolls kann nicht angelegt werden.",
                                  f"{self.folder}: {exc}") from exc
        self.recovered_torn_tail = self._recover()

    # -- the port ------------------------------------------------------------------------------------------------
    def record(self, action: str, fields: Mapping[str, object]) -> None:
        if self.read_only:
            raise AuditWriteError("Dieses Prüfprotokoll ist nur zum Lesen geöffnet.", str(self.folder))
        try:
            with self._lock, _file_lock(self.folder / LOCK_FILE):
                self._append(action, fields)
        except OSError as exc:
            raise AuditWriteError("Das Prüfprotokoll kann nicht geschrieben werden; die Aktion gilt als nicht "
                                  "ausgeführt.", f"{self.folder}: {exc}") from exc

    # -- reading ---------------------------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        return sorted(self.folder.glob("audit-*.jsonl"))

    def lines(self) -> Iterator[Line]:
        for path in self.files():
            data = path.read_bytes()
            if not data:
                continue  # created, then the process died before the first byte: nothing was written
            parts = data.split(b"\n")
            complete_last = data.endswith(b"\n")
            if complete_last:
                parts = parts[:-1]
            for number, raw in enumerate(parts, start=1):
                yield Line(path.name, number, raw, complete=complete_last or number < len(parts))

    def _head_seq(self) -> int:
        head = self.head()
        try:
            return int(head["seq"]) if head else 0
        except (KeyError, TypeError, ValueError):
            return 0

    def head(self) -> dict | None:
        try:
            return json.loads((self.folder / HEAD_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"seq": "unlesbar"}

    def verify(self) -> VerifyResult:
        return verify(self.lines(), self.key, self.head(), file_count=len(self.files()))

    def records(self, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
        """Readable records with `start <= at < end` (damaged lines are left out – `verify` reports them)."""
        found = []
        for line in self.lines():
            record = parse(line.raw)
            if record is None:
                continue
            at = datetime.fromisoformat(record["at"])
            if (start is None or at >= start) and (end is None or at < end):
                found.append(record)
        return found

    def export(self, start: datetime | None, end: datetime | None, fmt: str) -> str:
        records = self.records(start, end)
        if fmt == "json":
            return json.dumps(records, ensure_ascii=False, indent=1) + "\n"
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["seq", "at", "action", "actor", "fields", "hash", "signed"])
        for r in records:
            writer.writerow([r["seq"], r["at"], r["action"], r["actor"],
                             json.dumps(r["fields"], ensure_ascii=False, sort_keys=True), r["hash"],
                             "ja" if r["mac"] else "nein"])
        return out.getvalue()

    # -- writing ---------------------------------------------------------------------------------------------------
    def _tail(self) -> tuple[int, str, Path | None]:
        """(last seq, last hash, last file) read from the files, the newest readable record."""
        for path in reversed(self.files()):
            with open(path, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - _TAIL_BYTES))
                chunk = handle.read()
            for raw in reversed(chunk.split(b"\n")):
                record = parse(raw)
                if record is not None:
                    return int(record["seq"]), str(record["hash"]), path
            if size > _TAIL_BYTES:  # a giant damaged tail: read it all
                for raw in reversed(path.read_bytes().split(b"\n")):
                    record = parse(raw)
                    if record is not None:
                        return int(record["seq"]), str(record["hash"]), path
        return 0, GENESIS, None

    def _target(self, current: Path | None, now: datetime) -> Path:
        month = now.strftime("%Y-%m")
        if current is not None and current.name.startswith(f"audit-{month}-"):
            if current.stat().st_size < self.rotate_bytes:
                return current
            number = int(current.stem.rsplit("-", 1)[1]) + 1
        else:
            same_month = [p for p in self.files() if p.name.startswith(f"audit-{month}-")]
            if same_month and same_month[-1].stat().st_size == 0:
                return same_month[-1]  # created by a process that died before writing: use it
            number = int(same_month[-1].stem.rsplit("-", 1)[1]) + 1 if same_month else 1
        return self.folder / f"audit-{month}-{number:03d}.jsonl"

    def _append(self, action: str, fields: Mapping[str, object], *, target: Path | None = None,
                prefix: bytes = b"") -> dict:
        seq, prev, current = self._tail()
        # Numbers the head has already seen are never used again: records cut off the end stay a visible gap.
        seq = max(seq, self._head_seq())
        now = self._clock()
        record = make_record(seq=seq + 1, at=now.isoformat(timespec="microseconds"), action=action,
                             actor=self.actor, fields=fields, prev=prev, key=self.key)
        target = target or self._target(current, now)
        new_file = not target.exists()
        with open(target, "ab") as handle:
            handle.write(prefix + encode(record))  # one write: closing a torn line and recording it go together
            handle.flush()
            os.fsync(handle.fileno())
        if new_file:
            _fsync_dir(self.folder)
        self._write_head(record, target.name)
        return record

    def _write_head(self, record: Mapping[str, object], file: str) -> None:
        """The record itself is durable already; a head that lags behind is fine for `verify`, so a head that
        cannot be written is logged, not raised (the action did happen and is in the log)."""
        head = self.folder / HEAD_FILE
        data = json.dumps(make_head(record, file, self.key)).encode("utf-8").ljust(_HEAD_BYTES)
        try:
            # Overwritten in place with one write of a fixed size (no rename, no fsync): a rename over the old head
            # makes ext4 flush the new file, which doubled the time per record. After a power cut an older head is
            # as good as a lagging one.
            fd = os.open(head, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                os.pwrite(fd, data, 0) if hasattr(os, "pwrite") else os.write(fd, data)
            finally:
                os.close(fd)
        except OSError as exc:
            log.warning("Kopfdatei des Prüfprotokolls nicht geschrieben (Eintrag %s ist gespeichert): %s",
                        record["seq"], exc)

    def _recover(self) -> bool:
        """After a crash: lines after the last readable record that are not records (a write torn mid-line, or a
        torn line closed by an interrupted recovery) are closed and named in one `torn_tail_recovered` record.
        A new log gets an initial head (number 0), so a crash before the first head is not taken for a cut-off."""
        try:
            with self._lock, _file_lock(self.folder / LOCK_FILE):
                files = [p for p in self.files() if p.stat().st_size]
                if not files:
                    if not (self.folder / HEAD_FILE).exists():
                        self._write_initial_head()
                    return False
                last = files[-1]
                data = last.read_bytes()
                parts = data.split(b"\n")
                if data.endswith(b"\n"):
                    parts = parts[:-1]
                torn: list[dict[str, object]] = []
                for number in range(len(parts), 0, -1):
                    if parse(parts[number - 1]) is not None:
                        break
                    raw = parts[number - 1]
                    torn.insert(0, {"file": last.name, "line": number, "sha256": sha256_hex(raw), "bytes": len(raw)})
                if not torn:
                    return False
                self._append(TORN_ACTION, {"lines": torn}, target=last,
                             prefix=b"" if data.endswith(b"\n") else b"\n")
                return True
        except OSError as exc:
            raise AuditWriteError("Das Prüfprotokoll kann nicht geöffnet werden.", f"{self.folder}: {exc}") from exc

    def _write_initial_head(self) -> None:
        head = {"seq": 0, "hash": GENESIS, "file": "", "key_id": key_id(self.key) if self.key else "",
                "mac": mac_of(self.key, f"head:0:{GENESIS}") if self.key else None}
        (self.folder / HEAD_FILE).write_text(json.dumps(head), encoding="utf-8")

class UnavailableAuditLog:
    """The audit folder cannot be used: every action that must be logged fails with that reason (fail closed)."""

    records_content = False
    read_only = True
    recovered_torn_tail = False

    def __init__(self, error: AktenlotseError) -> None:
        self.error = error
        self.folder = Path(".")

    def record(self, action: str, fields: Mapping[str, object]) -> None:
        raise AuditWriteError(self.error.user_message, self.error.detail)

    def verify(self) -> VerifyResult:
        raise AuditWriteError(self.error.user_message, self.error.detail)

    def records(self, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
        raise AuditWriteError(self.error.user_message, self.error.detail)

    def export(self, start: datetime | None, end: datetime | None, fmt: str) -> str:
        raise AuditWriteError(self.error.user_message, self.error.detail)
