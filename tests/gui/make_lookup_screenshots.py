"""Screenshots of the Nachschlagen page and the passage viewer over the fake lookup (run by hand, not a test).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.gui.make_lookup_screenshots [out_dir]

Writes lookup_page.png and passage_viewer.png into out_dir (default docs/screenshots).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(out_dir: Path) -> None:
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
    from .lookup_fakes import QUESTION, FakeLookup
    from .review_fakes import make_review

    app = QApplication.instance() or QApplication(sys.argv)
    apply_app_style(app)

    def wait(signal, ms: int = 5000) -> None:
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
                        selection_for(FAKE_INFO), runner=runner, lookup=FakeLookup(), review=make_review())
    window.resize(1280, 800)
    window.show()
    window.start_model_loading()
    while window.model_status.state is not ModelState.READY:
        settle(20)
    page = window.lookup_page
    page.question_edit.setPlainText(QUESTION)
    page.ask()
    wait(page.asking_finished)
    settle()
    out_dir.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out_dir / "lookup_page.png"))

    viewer = page.open_source(1)
    if not viewer.is_loaded:
        wait(viewer.loaded)
    settle()
    viewer.grab().save(str(out_dir / "passage_viewer.png"))
    viewer.close()
    window.close()
    print(f"written: {out_dir / 'lookup_page.png'}, {out_dir / 'passage_viewer.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
