"""The one generic runner: any service generator runs on a worker thread and reports back through Qt signals.

A service writes long work as a generator that takes a `CancelToken` (house habit 3):

* a yielded `Progress` becomes `Task.progress_changed`,
* yielded `str` pieces (streamed model output) become `Task.partial_result`, concatenated and emitted at
  most about every `BATCH_INTERVAL_MS` so that a fast token stream cannot flood the GUI event loop,
* any other yielded object becomes `Task.item_yielded`, in order,
* the generator's return value becomes `Task.result`,
* `Cancelled` becomes `Task.cancelled` (a normal outcome), an `AktenlotseError` becomes `Task.failed`, and any
  other exception is wrapped into an `AktenlotseError` whose `detail` is its repr,
* `Task.finished` follows every outcome, exactly once.

The worker never touches a widget: it only appends to a locked buffer and emits private signals, which Qt
delivers queued to the GUI thread, where the batching timer lives.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from app.core.errors import AktenlotseError, Cancelled
from app.core.progress import CancelToken, Progress

log = logging.getLogger(__name__)

BATCH_INTERVAL_MS = 50

TaskFn = Callable[[CancelToken], Iterator[object] | object]


class Outcome(str, Enum):
    RESULT = "result"
    FAILED = "failed"
    CANCELLED = "cancelled"


def wrap_exception(exc: BaseException) -> AktenlotseError:
    """An exception of unknown type as an AktenlotseError with a German message and the repr as detail."""
    if isinstance(exc, AktenlotseError):
        return exc
    wrapped = AktenlotseError("Ein unerwarteter Fehler ist aufgetreten.", repr(exc))
    wrapped.__cause__ = exc
    return wrapped


class Task(QObject):
    """One run of one generator. Lives in the GUI thread; its work runs on a pool thread."""

    progress_changed = Signal(object)  # Progress (coalesced: the latest of a batch)
    partial_result = Signal(str)  # concatenated text pieces since the last emission
    item_yielded = Signal(object)  # anything else the generator yields, in order
    result = Signal(object)  # the generator's return value
    failed = Signal(object)  # AktenlotseError
    cancelled = Signal()
    finished = Signal()

    _pending = Signal()  # worker → GUI: the buffer went from empty to non-empty
    _done = Signal(object, object)  # worker → GUI: (Outcome, value or error)

    def __init__(self, fn: TaskFn, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.name = name
        self.cancel_token = CancelToken()
        self._fn = fn
        self._lock = threading.Lock()
        self._buffer: list[object] = []
        self._outcome: Outcome | None = None
        self._last_flush = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        self._pending.connect(self._on_pending)
        self._done.connect(self._on_done)

    # -- public -------------------------------------------------------------------------
    _HANDLERS = (("progress_changed", "_on_progress"), ("item_yielded", "_on_item"),
                 ("partial_result", "_on_partial_result"), ("result", "_on_result"), ("failed", "_on_failed"),
                 ("cancelled", "_on_cancelled"), ("finished", "_on_finished"))

    def bind(self, owner: object) -> Task:
        """Connect each signal to the owner's method of the house name (`_on_progress`, `_on_item`,
        `_on_partial_result`, `_on_result`, `_on_failed`, `_on_cancelled`, `_on_finished`) where it has one."""
        for signal_name, method_name in self._HANDLERS:
            method = getattr(owner, method_name, None)
            if callable(method):
                getattr(self, signal_name).connect(method)
        return self

    def cancel(self) -> None:
        """Ask the work to stop; it ends with `cancelled` once the generator notices (or at its next yield)."""
        self.cancel_token.cancel()

    @property
    def outcome(self) -> Outcome | None:
        """None while running, then how it ended."""
        return self._outcome

    @property
    def is_running(self) -> bool:
        return self._outcome is None

    # -- worker thread ------------------------------------------------------------------
    def _run(self) -> None:
        outcome, value = Outcome.RESULT, None
        try:
            outcome, value = self._iterate()
        except Cancelled:
            outcome, value = Outcome.CANCELLED, None
        except AktenlotseError as exc:
            outcome, value = Outcome.FAILED, exc
        except Exception as exc:  # noqa: BLE001 - the runner is the last line: nothing may escape the worker
            log.exception("Task %r failed unexpectedly", self.name)
            outcome, value = Outcome.FAILED, wrap_exception(exc)
        finally:
            try:
                self._done.emit(outcome, value)
            except RuntimeError:  # the Task was deleted at shutdown while we still ran: nobody listens
                log.info("Task %r ended after shutdown (%s)", self.name, outcome.value)

    def _iterate(self) -> tuple[Outcome, Any]:
        token = self.cancel_token
        token.raise_if_cancelled()
        produced = self._fn(token)
        if not isinstance(produced, Iterator):
            return Outcome.RESULT, produced  # a plain function: its return value is the result
        try:
            while True:
                if token.cancelled:
                    produced.close()  # runs the generator's finally blocks
                    return Outcome.CANCELLED, None
                try:
                    item = next(produced)
                except StopIteration as stop:
                    return Outcome.RESULT, stop.value
                self._put(item)
        finally:
            produced.close()

    def _put(self, item: object) -> None:
        with self._lock:
            was_empty = not self._buffer
            self._buffer.append(item)
        if was_empty:
            self._pending.emit()

    # -- GUI thread ---------------------------------------------------------------------
    def _on_pending(self) -> None:
        if self._timer.isActive():
            return
        since = (time.monotonic() - self._last_flush) * 1000
        self._timer.start(int(max(0.0, BATCH_INTERVAL_MS - since)))

    def _flush(self) -> None:
        with self._lock:
            items, self._buffer = self._buffer, []
        self._last_flush = time.monotonic()
        text: list[str] = []
        progress: Progress | None = None

        def emit_pending() -> None:
            nonlocal progress
            if progress is not None:
                self.progress_changed.emit(progress)
                progress = None
            if text:
                self.partial_result.emit("".join(text))
                text.clear()

        for item in items:
            if isinstance(item, str):
                if progress is not None:
                    emit_pending()
                text.append(item)
            elif isinstance(item, Progress):
                if text:
                    emit_pending()
                progress = item
            else:
                emit_pending()
                self.item_yielded.emit(item)
        emit_pending()

    def _on_done(self, outcome: Outcome, value: object) -> None:
        self._timer.stop()
        self._flush()
        self._outcome = outcome
        if outcome is Outcome.RESULT:
            self.result.emit(value)
        elif outcome is Outcome.FAILED:
            self.failed.emit(value)
        else:
            self.cancelled.emit()
        self.finished.emit()


def show_progress(bar, label, progress: Progress) -> None:
    """A Progress on a QProgressBar (busy when the total is unknown) and its message on a label."""
    if progress.total > 0:
        bar.setRange(0, progress.total)
        bar.setValue(max(0, min(progress.done, progress.total)))
    else:
        bar.setRange(0, 0)
    if progress.message:
        label.setText(progress.message)
        bar.setAccessibleDescription(progress.message)


class TaskRunner(QObject):
    """Starts tasks on its own thread pool and keeps them alive until they have finished."""

    task_started = Signal(object)  # Task
    task_finished = Signal(object)  # Task

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._tasks: set[Task] = set()

    def start(self, fn: TaskFn, *, name: str) -> Task:
        """Run `fn(cancel_token)` in the background. Connect to the returned task's signals right away:
        results are delivered through the event loop, so nothing is missed before control returns to it."""
        task = Task(fn, name, self)
        self._tasks.add(task)
        task.finished.connect(lambda: self._on_task_finished(task))
        self._pool.start(task._run)
        self.task_started.emit(task)
        return task

    @property
    def active_tasks(self) -> list[Task]:
        return [task for task in self._tasks if task.is_running]

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Cancel everything and wait up to `timeout_ms` for the workers; True if all of them stopped.

        Work that cannot be interrupted (a model still loading) may outlive the timeout; it then ends
        on its own and its results are dropped.
        """
        self.cancel_all()
        done = self._pool.waitForDone(timeout_ms)
        if not done:
            log.warning("Still running after %d ms: %s", timeout_ms, [t.name for t in self.active_tasks])
        return done

    def _on_task_finished(self, task: Task) -> None:
        self._tasks.discard(task)
        self.task_finished.emit(task)
        task.deleteLater()
