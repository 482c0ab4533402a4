"""SandboxedExtractor: runs the readers in a reusable worker process with a time limit and a memory cap.

The worker is `python -m app.adapters.extract.worker`, spoken to over its stdin/stdout. A hang is answered by
killing it after `timeout_s`; a crash (segfault, abort, out of memory) by restarting it. Either way the file gets
ERROR with a German reason and the caller carries on with the next file. The parent never blocks without a bound.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.adapters.extract.limits import Limits
from app.adapters.extract.protocol import read_frame, write_frame
from app.adapters.extract.reader import check_size
from app.core.documents import ExtractedDocument, FileStatus
from app.core.library import ExtractionError

CRASH_REASON = "Der Leser ist bei dieser Datei abgestürzt"
START_TIMEOUT_S = 60.0
_EOF = object()
_PROJECT_ROOT = str(Path(__file__).resolve().parents[3])


class _Worker:
    """One worker process plus a thread that turns its stdout into a queue (portable timed waits)."""

    def __init__(self, limits: Limits, memory_mb: int, command: Sequence[str]) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PROJECT_ROOT, env.get("PYTHONPATH", "")) if p)
        env.setdefault("PYTHONIOENCODING", "utf-8")
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        self.proc = subprocess.Popen(
            [*command, str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            creationflags=flags)
        self.replies: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, name="aktenlotse-extract-reader", daemon=True)
        self._thread.start()
        write_frame(self.proc.stdin, limits)

    def _pump(self) -> None:
        try:
            while True:
                self.replies.put(read_frame(self.proc.stdout))
        except Exception:  # noqa: BLE001 - EOF, broken pipe, garbage: the worker is gone
            self.replies.put(_EOF)

    def send(self, obj: Any) -> None:
        write_frame(self.proc.stdin, obj)

    def receive(self, timeout: float) -> Any:
        """The next reply, _EOF if the worker died, or raises queue.Empty on timeout."""
        return self.replies.get(timeout=timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, kill: bool) -> None:
        if not kill and self.alive():
            try:
                self.send(None)
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                pass
        if self.alive():
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


def default_worker_command() -> list[str]:
    """How to start the worker. A frozen build has no `-m`: its entry point must dispatch `--extract-worker`
    to `app.adapters.extract.worker.main()` (the composition root can pass its own command instead)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--extract-worker"]
    return [sys.executable, "-m", "app.adapters.extract.worker"]


class SandboxedExtractor:
    """Implements the Extractor port. Calls are serialised; use it from one owner thread."""

    def __init__(self, timeout_s: float = 30.0, memory_mb: int = 1024, max_bytes: int | None = None,
                 limits: Limits | None = None, worker_command: Sequence[str] | None = None) -> None:
        limits = limits or Limits()
        if max_bytes is not None:
            limits = Limits(**{**{f: getattr(limits, f) for f in limits.__slots__}, "max_bytes": max_bytes})
        self.limits = limits
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.worker_command = list(worker_command or default_worker_command())
        self.restarts = 0  # how often a worker had to be replaced (hang or crash)
        self._worker: _Worker | None = None
        self._lock = threading.Lock()

    def extract(self, path: Path) -> ExtractedDocument:
        path = Path(path)
        check_size(path, self.limits)  # cheap, and spares the worker files it would refuse anyway
        with self._lock:
            worker = self._ensure_worker()
            try:
                worker.send(str(path))
            except (OSError, ValueError):
                self._drop(worker)
                worker = self._ensure_worker()
                worker.send(str(path))
            try:
                reply = worker.receive(self.timeout_s)
            except queue.Empty:
                self._drop(worker)
                raise ExtractionError(FileStatus.ERROR.value,
                                      f"Zeitlimit beim Lesen überschritten ({self.timeout_s:g} s)", str(path)) from None
            if reply is _EOF:
                worker.stop(kill=True)
                code = worker.proc.returncode
                self._drop(worker)
                raise ExtractionError(FileStatus.ERROR.value, CRASH_REASON, f"Leseprozess beendet (Exitcode {code})")
        if reply[0] == "ok":
            return reply[1]
        _, status, reason, detail = reply
        raise ExtractionError(status, reason, detail)

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.stop(kill=False)
                self._worker = None

    def __enter__(self) -> SandboxedExtractor:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        worker = getattr(self, "_worker", None)
        if worker is not None:
            try:
                if sys.is_finalizing():  # closing the pipes now can deadlock with the reader thread: just kill
                    worker.proc.kill()
                else:
                    worker.stop(kill=True)
            except Exception:  # noqa: BLE001, S110 - interpreter shutdown
                pass

    def _ensure_worker(self) -> _Worker:
        if self._worker is not None and self._worker.alive():
            return self._worker
        if self._worker is not None:
            self._drop(self._worker)
        worker = _Worker(self.limits, self.memory_mb, self.worker_command)
        try:
            hello = worker.receive(max(START_TIMEOUT_S, self.timeout_s))
        except queue.Empty:
            hello = None
        if hello != ("ready",):
            worker.stop(kill=True)
            raise ExtractionError(FileStatus.ERROR.value, "Der Leseprozess ließ sich nicht starten",
                                  f"Antwort: {hello!r}, Exitcode {worker.proc.returncode}")
        self._worker = worker
        return worker

    def _drop(self, worker: _Worker) -> None:
        worker.stop(kill=True)
        if self._worker is worker:
            self._worker = None
            self.restarts += 1
