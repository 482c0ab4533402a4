"""The generic task runner: progress, batched text, result, failure, unknown errors, cancellation, shutdown."""

from __future__ import annotations

import threading
import time

import pytest

from app.core.errors import AktenlotseError, ModelNotFound
from app.core.progress import CancelToken, Progress
from app.ui.task_runner import BATCH_INTERVAL_MS, Outcome, TaskRunner

pytestmark = pytest.mark.gui

_pace = threading.Event()  # never set: Event.wait(t) paces a worker generator like real work would


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000)


def record(task):
    seen = {"progress": [], "text": [], "text_at": [], "result": [], "failed": [], "cancelled": 0, "finished": 0}
    task.progress_changed.connect(seen["progress"].append)
    task.partial_result.connect(lambda text: (seen["text"].append(text), seen["text_at"].append(time.monotonic())))
    task.result.connect(seen["result"].append)
    task.failed.connect(seen["failed"].append)
    task.cancelled.connect(lambda: seen.__setitem__("cancelled", seen["cancelled"] + 1))
    task.finished.connect(lambda: seen.__setitem__("finished", seen["finished"] + 1))
    return seen


def test_progress_and_return_value(runner, qtbot):
    def work(cancel: CancelToken):
        for step in range(3):
            yield Progress(step, 3, f"Schritt {step + 1}")
            _pace.wait(0.06)  # longer than a batch, so each step is delivered on its own
        yield Progress(3, 3, "fertig")
        return 42

    task = runner.start(work, name="progress")
    seen = record(task)
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert seen["result"] == [42]
    assert seen["progress"][-1] == Progress(3, 3, "fertig")
    assert len(seen["progress"]) >= 2  # spaced steps are not all coalesced into one
    assert [p.done for p in seen["progress"]] == sorted(p.done for p in seen["progress"])
    assert seen["failed"] == [] and seen["cancelled"] == 0 and seen["finished"] == 1
    assert task.outcome is Outcome.RESULT


def test_text_pieces_are_batched_and_complete(runner, qtbot):
    pieces = [f"Wort{i} " for i in range(400)]

    def stream(cancel: CancelToken):
        for piece in pieces:
            _pace.wait(0.001)
            yield piece

    task = runner.start(stream, name="stream")
    seen = record(task)
    with qtbot.waitSignal(task.finished, timeout=10000):
        pass
    assert "".join(seen["text"]) == "".join(pieces)
    assert 2 <= len(seen["text"]) <= len(pieces) // 5, "pieces arrive in batches, not one signal per piece"
    gaps = [b - a for a, b in zip(seen["text_at"], seen["text_at"][1:-1])]  # the final flush may come early
    assert all(gap >= BATCH_INTERVAL_MS / 1000 * 0.8 for gap in gaps), gaps


def test_aktenlotse_error_becomes_failed_with_german_message(runner, qtbot):
    def broken(cancel: CancelToken):
        yield "Anfang"
        raise ModelNotFound(detail="/nirgendwo/modell.gguf")

    task = runner.start(broken, name="broken")
    seen = record(task)
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        pass
    error = blocker.args[0]
    assert isinstance(error, ModelNotFound)
    assert error.user_message == "Die Modelldatei wurde nicht gefunden."
    assert seen["text"] == ["Anfang"]  # text yielded before the failure is still delivered
    qtbot.waitUntil(lambda: seen["finished"] == 1)
    assert seen["cancelled"] == 0 and seen["result"] == []


def test_unknown_exception_is_wrapped(runner, qtbot):
    def broken(cancel: CancelToken):
        raise ValueError("boom")
        yield  # pragma: no cover - makes this a generator

    task = runner.start(broken, name="wrapped")
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        pass
    error = blocker.args[0]
    assert type(error) is AktenlotseError
    assert error.user_message == "Ein unerwarteter Fehler ist aufgetreten."
    assert error.detail == "ValueError('boom')"
    assert isinstance(error.__cause__, ValueError)


def test_cancel_is_cancelled_not_failed(runner, qtbot):
    started = threading.Event()

    def waits_for_cancel(cancel: CancelToken):
        yield "erster Teil"
        started.set()
        cancel._event.wait(10)  # noqa: SLF001 - blocks until cancelled, no sleeping
        cancel.raise_if_cancelled()
        yield "nie"

    task = runner.start(waits_for_cancel, name="cancel")
    seen = record(task)
    qtbot.waitUntil(started.is_set)
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.cancel()
    qtbot.waitUntil(lambda: seen["finished"] == 1)
    assert seen["failed"] == [] and seen["result"] == []
    assert task.outcome is Outcome.CANCELLED


def test_runner_stops_a_generator_that_ignores_the_token(runner, qtbot):
    closed = threading.Event()

    def endless(cancel: CancelToken):
        try:
            while True:
                _pace.wait(0.001)
                yield "x"
        finally:
            closed.set()

    task = runner.start(endless, name="endless")
    seen = record(task)
    qtbot.waitUntil(lambda: bool(seen["text"]))
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.cancel()
    assert closed.is_set(), "the generator was closed, so its finally block ran"
    assert seen["failed"] == []


def test_plain_function_and_other_items(runner, qtbot):
    task = runner.start(lambda cancel: {"antwort": 1}, name="plain")
    with qtbot.waitSignal(task.result, timeout=5000) as blocker:
        pass
    assert blocker.args == [{"antwort": 1}]

    def mixed(cancel: CancelToken):
        yield "a"
        yield {"zitat": 1}
        yield "b"
        return None

    task = runner.start(mixed, name="mixed")
    order = []
    task.partial_result.connect(lambda text: order.append(text))
    task.item_yielded.connect(lambda item: order.append(item))
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert order == ["a", {"zitat": 1}, "b"]


def test_shutdown_cancels_running_tasks(qtbot):
    runner = TaskRunner()

    def endless(cancel: CancelToken):
        while True:
            cancel.raise_if_cancelled()
            _pace.wait(0.001)
            yield "."

    tasks = [runner.start(endless, name=f"t{i}") for i in range(2)]
    streamed = set()
    for task in tasks:
        task.partial_result.connect(lambda _text, t=task: streamed.add(t.name))
    qtbot.waitUntil(lambda: len(streamed) == 2)
    assert runner.shutdown(5000)
    assert all(t.cancel_token.cancelled for t in tasks)
    qtbot.waitUntil(lambda: not runner.active_tasks)


def test_bind_connects_exactly_the_house_named_handlers_the_owner_has(runner, qtbot):
    class Owner:
        def __init__(self) -> None:
            self.calls: list[tuple[str, object]] = []

        def _on_item(self, item):
            self.calls.append(("item", item))

        def _on_result(self, value):
            self.calls.append(("result", value))

        def _on_finished(self):
            self.calls.append(("finished", None))

    def work(cancel: CancelToken):
        yield Progress(0, 1, "x")  # no _on_progress: must not fail
        yield {"stück": 1}
        yield "Text"  # no _on_partial_result: ignored
        return 7

    owner = Owner()
    task = runner.start(work, name="bind").bind(owner)
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    qtbot.waitUntil(lambda: ("finished", None) in owner.calls, timeout=2000)
    assert owner.calls == [("item", {"stück": 1}), ("result", 7), ("finished", None)]
