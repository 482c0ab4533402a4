"""Screenshot of the Entwerfen page over the fake drafter (run by hand, not a test).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.gui.make_letter_screenshots [out_dir]

Writes letter_page.png (a finished Anhörung, bürgernah, with the Frist left open – one placeholder – and one
plain-language finding) into out_dir (default docs/screenshots).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(out_dir: Path, size: tuple[int, int] = (1280, 800), name: str = "letter_page.png") -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.config import load_config
    from app.core.letters import LetterStyle
    from app.core.llm import ModelState
    from app.services.model_service import ModelService
    from app.ui.main_window import MainWindow
    from app.ui.style import apply_app_style
    from app.ui.task_runner import TaskRunner

    from .conftest import selection_for
    from .fakes import FAKE_INFO, FakeLanguageModel
    from .letter_fakes import RECIPIENT, FakeDrafter
    from .summary_fakes import ANTRAG, NACHFORDERUNG

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
                        selection_for(FAKE_INFO), runner=runner, drafter=FakeDrafter())
    window.resize(*size)
    window.show()
    window.start_model_loading()
    while window.model_status.state is not ModelState.READY:
        settle(20)
    window.show_workspace("entwerfen")
    page = window.letter_page
    page.set_type("anhoerung")
    page.set_style(LetterStyle.BUERGERNAH)
    page.set_field("empfaenger", RECIPIENT)
    page.set_field("aktenzeichen", "50.2-WG-2024-0815")
    page.set_field("sachbearbeiter", "M. Schmidt")
    page.set_field("telefon", "0123 456-789")
    page.instructions_edit.setPlainText("Fehlende Unterlagen: Lohnabrechnungen der letzten drei Monate")
    page.set_selected_paths([ANTRAG, NACHFORDERUNG])
    page.create_draft()
    wait(page.drafting_finished)
    settle()
    out_dir.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out_dir / name))
    window.close()
    print(f"written: {out_dir / name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
