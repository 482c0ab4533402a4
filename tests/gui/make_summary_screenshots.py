"""Screenshots of the Zusammenfassen page over the fake summarizer (run by hand, not a test).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.gui.make_summary_screenshots [out_dir]

Writes summary_page.png (a finished summary with flags and an omission) and summary_viewer.png (the passage
viewer opened from a citation) into out_dir (default docs/screenshots).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(out_dir: Path, size: tuple[int, int] = (1280, 800), name: str = "summary_page.png") -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.config import load_config
    from app.core.llm import ModelState
    from app.services.model_service import ModelService
    from app.ui.main_window import MainWindow
    from app.ui.style import apply_app_style
    from app.ui.task_runner import TaskRunner

    from .conftest import selection_for
    from .fakes import FAKE_INFO, FakeLanguageModel
    from .summary_fakes import AKTE, FakeSummarizer

    app = QApplication.instance() or QApplication(sys.argv)
    apply_app_style(app)

    def wait(signal, ms: int = 10000) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def settle(ms: int = 150) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    runner = TaskRunner()
    window = MainWindow(load_config(os.environ), ModelService(FakeLanguageModel(FAKE_INFO)),
                        selection_for(FAKE_INFO), runner=runner, summarizer=FakeSummarizer())
    window.resize(*size)
    window.show()
    window.start_model_loading()
    while window.model_status.state is not ModelState.READY:
        settle(20)
    window.show_workspace("zusammenfassen")
    page = window.summary_page
    page.select_folder(AKTE)
    page.focus_edit.setText("Was fehlt noch für die Entscheidung?")
    page.summarize()
    wait(page.summarizing_finished)
    settle()
    # Show the part with both marks: the invented date and the point without a source.
    view = page.result_view
    cursor = view.document().find("Fristen und Termine")
    view.verticalScrollBar().setValue(view.cursorRect(cursor).top() + view.verticalScrollBar().value() - 6)
    settle()
    out_dir.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out_dir / name))

    viewer = page.open_passage(2)
    if not viewer.is_loaded:
        wait(viewer.loaded)
    settle()
    viewer.grab().save(str(out_dir / "summary_viewer.png"))
    viewer.close()
    window.close()
    print(f"written: {out_dir / name}, {out_dir / 'summary_viewer.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
