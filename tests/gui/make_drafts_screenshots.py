"""Screenshots of the Entwürfe page: a draft in review, the confirm dialog, the confirmed draft (run by hand).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.gui.make_drafts_screenshots [out_dir]

Writes drafts_review.png, drafts_confirm_dialog.png and drafts_confirmed.png into out_dir (default docs/screenshots).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(out_dir: Path) -> None:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from app.config import load_config
    from app.services.model_service import ModelService
    from app.ui.main_window import MainWindow
    from app.ui.style import apply_app_style
    from app.ui.task_runner import TaskRunner

    from .conftest import selection_for
    from .fakes import FAKE_INFO, FakeLanguageModel
    from .lookup_fakes import FakeLookup
    from .review_fakes import make_review, sample_answer, sample_letter, sample_summary

    app = QApplication.instance() or QApplication(sys.argv)
    apply_app_style(app)

    def settle(ms: int = 150) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    review = make_review()
    review.submit(sample_letter())
    review.submit(sample_summary())
    answer_id = review.submit(sample_answer())
    runner = TaskRunner()
    window = MainWindow(load_config(os.environ), ModelService(FakeLanguageModel(FAKE_INFO)),
                        selection_for(FAKE_INFO), runner=runner, lookup=FakeLookup(), review=review)
    window.resize(1280, 800)
    window.show()
    window.show_workspace("entwuerfe")
    page = window.drafts_page
    page.open_draft(answer_id)
    settle()
    out_dir.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out_dir / "drafts_review.png"))

    for i in range(page.checklist.count()):  # the reviewer works through the list
        row = page.checklist.item(i)
        if row.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            row.setCheckState(Qt.CheckState.Checked)
            settle(30)
    settle()
    dialog = page.request_confirm()
    dialog.acknowledge.setChecked(True)
    settle()
    dialog.grab().save(str(out_dir / "drafts_confirm_dialog.png"))
    dialog.confirm_button.click()
    settle()
    window.grab().save(str(out_dir / "drafts_confirmed.png"))
    window.close()
    runner.shutdown(2000)
    print(f"written into {out_dir}: drafts_review.png, drafts_confirm_dialog.png, drafts_confirmed.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
