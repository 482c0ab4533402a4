"""Screenshot of the Prüfprotokoll page: a month of records, one selected, after "Protokoll prüfen" (run by hand).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.gui.make_audit_screenshots [out_dir]

Writes audit_page.png into out_dir (default docs/screenshots). The log lives in a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

ACTOR = "VERWALTUNG\\j.weber"
ENTRIES = [
    (14, 8, "app_started", {"version": "0.5.0"}),
    (14, 8, "policy_loaded", {"source": "registry", "sha256": "3f9a" * 16}),
    (14, 8, "model_loaded", {"model": "qwen2.5-3b-instruct-q4_k_m.gguf", "sha256": "a41c" * 16}),
    (13, 9, "index_run", {"files": 1284, "indexed": 37, "skipped": 2, "errors": 0}),
    (12, 10, "ai_request", {"feature": "lookup", "outcome": "done", "sources": 3, "model": "qwen2.5-3b"}),
    (12, 10, "draft_created", {"draft_id": "a7c2e1", "kind": "lookup", "sources": 3}),
    (12, 11, "draft_confirmed", {"draft_id": "a7c2e1", "reviewer": ACTOR, "edited": True,
                                 "output_sha256": "9be0" * 16}),
    (11, 9, "ai_request", {"feature": "summary", "outcome": "done", "sources": 12, "length": "kurz"}),
    (11, 9, "draft_created", {"draft_id": "51d0f4", "kind": "summary", "sources": 12}),
    (11, 10, "draft_rejected", {"draft_id": "51d0f4", "reviewer": ACTOR, "reason_given": True}),
    (8, 14, "policy_violation", {"key": "allowed_roots", "path_sha256": "c0de" * 16}),
    (7, 9, "ai_request", {"feature": "letter", "outcome": "done", "template": "Eingangsbestätigung"}),
    (7, 9, "draft_created", {"draft_id": "e93b77", "kind": "letter", "placeholders": 2}),
    (7, 10, "draft_confirmed", {"draft_id": "e93b77", "reviewer": ACTOR, "edited": False,
                                "output_sha256": "77aa" * 16}),
    (7, 10, "draft_exported", {"draft_id": "e93b77", "format": "docx", "final": True}),
    (3, 15, "ai_request", {"feature": "lookup", "outcome": "cancelled", "sources": 0}),
    (2, 16, "app_stopped", {"uptime_s": 28140}),
]


def main(out_dir: Path) -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.adapters.audit_log import JsonlAuditLog
    from app.config import load_config
    from app.services.model_service import ModelService
    from app.ui.main_window import MainWindow
    from app.ui.style import apply_app_style
    from app.ui.task_runner import TaskRunner

    from .conftest import selection_for
    from .fakes import FAKE_INFO, FakeLanguageModel
    from .lookup_fakes import FakeLookup

    app = QApplication.instance() or QApplication(sys.argv)
    apply_app_style(app)

    def settle(ms: int = 150) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    folder = Path(tempfile.mkdtemp(prefix="aktenlotse-audit-"))
    moments: list[datetime] = []
    writer = JsonlAuditLog(folder, actor=ACTOR, key=b"k" * 32, clock=lambda: moments[-1])
    for minute, (days_ago, hour, action, fields) in enumerate(ENTRIES):
        day = date.today() - timedelta(days=days_ago)
        moments.append(datetime.combine(day, clock_time(hour, minute * 3 % 60)).astimezone().astimezone(UTC))
        writer.record(action, fields)
    log = JsonlAuditLog(folder, actor=ACTOR, key=b"k" * 32)

    runner = TaskRunner()
    window = MainWindow(load_config(os.environ), ModelService(FakeLanguageModel(FAKE_INFO)),
                        selection_for(FAKE_INFO), runner=runner, lookup=FakeLookup(), audit_view=log)
    window.resize(1280, 800)
    window.show()
    window.show_workspace("pruefprotokoll")
    page = window.audit_page
    loop = QEventLoop()
    page.verify_finished.connect(lambda _outcome: loop.quit())
    page.verify()
    loop.exec()
    settle(300)
    page.select_seq(7)
    settle()
    out_dir.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out_dir / "audit_page.png"))
    window.close()
    runner.shutdown(2000)
    print(f"written into {out_dir}: audit_page.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
