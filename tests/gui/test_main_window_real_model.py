"""The real main window over the real small test model (llama.cpp): load, stream an answer, cancel a long one."""

from __future__ import annotations

import os
import time

import pytest
from PySide6.QtCore import Qt

from app.adapters.llama_cpp_model import LlamaCppModel
from app.adapters.model_files import GgufModelFiles
from app.config import load_config
from app.core.llm import ModelState
from app.core.models import CheckStatus, ModelSelection
from app.services.model_service import ModelService
from app.ui.main_window import MainWindow
from app.ui.model_test_box import DRAFT_BANNER
from app.ui.task_runner import TaskRunner

pytestmark = [pytest.mark.gui, pytest.mark.model]


@pytest.fixture
def real_window(qtbot, test_model_path):
    info = GgufModelFiles().inspect(test_model_path)
    model = LlamaCppModel(info, n_ctx=1024)
    service = ModelService(model)
    selection = ModelSelection(test_model_path, CheckStatus.UNVERIFIED, info, None, None, None, "Test")
    window = MainWindow(load_config(os.environ), service, selection, runner=TaskRunner())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()
    service.close()


def test_real_model_streams_and_cancels(real_window, qtbot):
    window = real_window
    box = window.model_test_box
    window.start_model_loading()
    assert window.model_status.state in (ModelState.NOT_LOADED, ModelState.LOADING), "shown before loaded"
    qtbot.waitUntil(lambda: window.model_status.state is ModelState.READY, timeout=120_000)
    assert window.status_area.state_label.text() == "Status: bereit"
    assert box.send_button.isEnabled()

    # 1. a short answer streams into the output under the banner
    box.prompt_edit.setPlainText("Was ist eine Behörde? Antworte in einem Satz.")
    chunks: list[str] = []
    box.generation_started.connect(lambda task: task.partial_result.connect(chunks.append))
    with qtbot.waitSignal(box.generation_finished, timeout=120_000) as finished:
        qtbot.mouseClick(box.send_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["result"]
    assert box.output.toPlainText().strip(), "the model answered"
    assert "".join(chunks) == box.output.toPlainText()
    assert box.banner.isVisible() and box.banner.text() == DRAFT_BANNER

    # 2. a long answer is cancelled as soon as its first text has arrived
    box.prompt_edit.setPlainText("Zähle von 1 bis 500, jede Zahl in einer eigenen Zeile.")
    cancel_at: list[float] = []

    def cancel_on_first_text(task) -> None:
        def on_text(_text: str) -> None:
            if not cancel_at:
                cancel_at.append(time.monotonic())
                qtbot.mouseClick(box.cancel_button, Qt.MouseButton.LeftButton)

        task.partial_result.connect(on_text)

    box.generation_started.connect(cancel_on_first_text)
    with qtbot.waitSignal(box.generation_finished, timeout=120_000) as finished:
        qtbot.mouseClick(box.send_button, Qt.MouseButton.LeftButton)
    stopped_after = time.monotonic() - cancel_at[0]
    assert finished.args == ["cancelled"]
    assert stopped_after < 30, f"cancel took {stopped_after:.2f} s"  # generous: a shared CI core; the outcome check above is the real one
    assert box.output.toPlainText(), "the text generated before the cancel stays visible"
    assert "Abgebrochen" in box.run_status.text()
    assert box.send_button.isEnabled() and not box.cancel_button.isEnabled()
