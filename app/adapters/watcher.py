"""Watches the indexed folders (watchdog) and collects changed paths, released after a quiet period (debounce).

`FolderWatcher(folders, quiet_s=2.0)`: `start()`, `stop()`; watchdog's thread adds every created, modified,
deleted or moved path to a thread-safe set. `take_changes()` returns and clears that set once no event has arrived
for `quiet_s` seconds (else an empty set), so a burst of saves becomes one re-index. `wait_for_changes(timeout)`
blocks until such a settled batch exists (the library owner thread can loop on it, then call
`IndexService.run(folders)`). Lock and temp files are ignored.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.adapters.fs_scan import is_junk


class FolderWatcher:
    def __init__(self, folders: Sequence[Path | str], *, quiet_s: float = 2.0) -> None:
        self.folders = [str(Path(os.path.realpath(f))) for f in folders]
        self.quiet_s = quiet_s
        self._changes: set[str] = set()
        self._last_event = 0.0
        self._cond = threading.Condition()
        self._observer: Any = None

    def _on_event(self, event: Any) -> None:
        paths = [getattr(event, "src_path", ""), getattr(event, "dest_path", "")]
        paths = [os.fsdecode(p) for p in paths if p]
        paths = [p for p in paths if not is_junk(os.path.basename(p))]
        if not paths:
            return
        with self._cond:
            self._changes.update(paths)
            self._last_event = time.monotonic()
            self._cond.notify_all()

    def start(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if getattr(event, "event_type", "") in ("opened", "closed_no_write"):
                    return
                watcher._on_event(event)

        self._observer = Observer()
        handler = _Handler()
        for folder in self.folders:
            self._observer.schedule(handler, folder, recursive=True)
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None
        with self._cond:
            self._cond.notify_all()

    def pending(self) -> set[str]:
        """Changed paths seen so far (settled or not), without clearing them."""
        with self._cond:
            return set(self._changes)

    def take_changes(self) -> set[str]:
        with self._cond:
            if not self._changes or time.monotonic() - self._last_event < self.quiet_s:
                return set()
            out, self._changes = self._changes, set()
            return out

    def wait_for_changes(self, timeout: float) -> set[str]:
        """Block up to `timeout` seconds for a settled batch of changes; empty set on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                if self._changes and now - self._last_event >= self.quiet_s:
                    out, self._changes = self._changes, set()
                    return out
                if now >= deadline:
                    return set()
                wait = deadline - now
                if self._changes:
                    wait = min(wait, self.quiet_s - (now - self._last_event))
                self._cond.wait(max(0.01, wait))
