"""Grab the main window (and its dialogs) offscreen into PNGs, with the fake model or the real one.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot.py                      # fake model, all scenes
    QT_QPA_PLATFORM=offscreen python scripts/screenshot.py --model models/X.gguf  # real model via llama.cpp
    python scripts/screenshot.py --scene error --out /tmp/shots

Scenes: loading, answer (prompt streamed under the draft banner), error (model unusable), policy
(broken policy), settings (dialog with locked keys), info (model information dialog), workspace
(a workspace that is not available yet), library (the Bibliothek page over a fake library: indexing under way,
per-file statuses, a search; then the embedding phase, and a folder refused outside the locked allowed roots).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app.config import load_config  # noqa: E402
from app.core.errors import ModelChecksumMismatch  # noqa: E402
from app.core.llm import ModelInfo, ModelState  # noqa: E402
from app.core.models import CheckStatus, ModelSelection  # noqa: E402
from app.services.model_service import ModelService  # noqa: E402
from app.ui.i18n import install_qt_translations  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.style import apply_app_style  # noqa: E402
from tests.gui.fakes import FAKE_INFO, FakeLanguageModel  # noqa: E402
from tests.gui.library_fakes import ROOT, FakeLibrary, events, records  # noqa: E402

SCENES = ("loading", "answer", "error", "policy", "settings", "info", "workspace", "library")
PROMPT = "Was ist eine Eingangsbestätigung? Antworte in zwei Sätzen."


def process_until(condition, timeout_s: float = 120.0) -> bool:
    """Run the event loop until `condition()` holds. A blocking loop with a 20 ms check, not a busy
    processEvents() spin, which would hog the GIL and slow llama.cpp's token loop down several times."""
    if condition():
        return True
    loop = QEventLoop()
    deadline = QDeadlineTimer(int(timeout_s * 1000))
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: loop.quit() if condition() or deadline.hasExpired() else None)
    check.start()
    loop.exec()
    check.stop()
    return condition()


def selection_for(
    info: ModelInfo, status: CheckStatus = CheckStatus.OK, source: str = "Richtlinie", sha256: str | None = None
) -> ModelSelection:
    return ModelSelection(
        path=Path(info.path), status=status, info=info, entry=None, expected_sha256=sha256,
        actual_sha256=sha256, source=source,
    )


DEMO_SHA = "3f9a1c0d5e7b2a4968c1d0e2f3a4b5c6d7e8f90112233445566778899aabbccd"  # made up, for the fake model


def real_model(path: Path):
    from app.adapters.llama_cpp_model import LlamaCppModel
    from app.adapters.model_files import GgufModelFiles

    from dataclasses import replace

    info = replace(GgufModelFiles().inspect(path), role="test")  # the small test model, not an IT-provided one
    return LlamaCppModel(info), info


def build(scene: str, model_path: Path | None, home: Path) -> MainWindow:
    os.environ["AKTENLOTSE_HOME"] = str(home / scene)
    policy = home / f"{scene}-policy.toml"
    if scene == "policy":
        policy.write_text("unbekannt = 1\n", encoding="utf-8")
    elif scene == "library":
        policy.write_text(f'allowed_roots = ["{ROOT}", "/srv/akten/Gesetze"]\nlocked = ["allowed_roots"]\n', encoding="utf-8")
    elif scene == "settings":
        policy.write_text('n_threads = 4\nmodel_sha256 = "' + "ab" * 32 + '"\nlocked = ["allowed_roots"]\n', encoding="utf-8")
    else:
        policy.write_text("", encoding="utf-8")
    os.environ["AKTENLOTSE_POLICY"] = str(policy)
    config = load_config(os.environ)

    if scene == "error":
        error = ModelChecksumMismatch(
            detail="erwartet 3f9a1c…, gefunden 77be02…: /opt/aktenlotse/models/fake-model.Q4_K_M.gguf"
        )
        selection = selection_for(FAKE_INFO, CheckStatus.MISMATCH, sha256=DEMO_SHA)
        return MainWindow(config, ModelService(None, error), selection, save_settings=None)
    if model_path is not None:
        model, info = real_model(model_path)
        selection = selection_for(info, CheckStatus.UNVERIFIED, "Kommandozeile (Screenshot)")
    else:
        gate = threading.Event() if scene == "loading" else None
        info = ModelInfo(**{**_fields(FAKE_INFO), "role": "default", "name": "Fake-Modell 7B Instruct (Demo)"})
        model = FakeLanguageModel(info, load_gate=gate, piece_delay=0.01)
        selection = selection_for(info, CheckStatus.OK, "Standardmodell (Demo)", DEMO_SHA)
    from app.config import save_user_settings

    library = library_for_screenshot() if scene == "library" else None
    return MainWindow(
        config, ModelService(model), selection, save_settings=lambda changes: save_user_settings(config, changes),
        library=library,
    )


def library_for_screenshot() -> FakeLibrary:
    """Earlier runs left most files indexed; this run has read 123 of 400 files and waits until cancelled."""
    from app.core.documents import IndexProgress

    first = records()
    return FakeLibrary(
        progress=[IndexProgress(123, 400, "123/400 Dateien geprüft", phase="lexical", eta_s=118.0)],
        file_events=events()[:8],
        manifest=first,
        block_until_cancelled=True,
    )


def shoot_library(window: MainWindow, out_dir: Path) -> None:
    from app.core.documents import IndexProgress

    page = window.library_page
    window.show_workspace("bibliothek")
    process_until(lambda: page.file_model.rowCount() > 0, 5)
    page.start_indexing()
    library = page.library
    process_until(lambda: library.yielded_all.is_set() and page.file_model.rowCount() >= 10, 5)
    page.search_box.search_edit.setText("Hundesteuer Ermäßigung Bewachung")
    page.search_box.search()
    process_until(lambda: page.search_box.hits.topLevelItemCount() > 0, 5)
    process_until(lambda: "123 von 400" in page.progress_label.text(), 5)
    grab(window, out_dir / "library.png")

    page._on_progress_changed(IndexProgress(212, 640, "Bedeutungssuche: 212/640 Abschnitte", phase="embed",  # noqa: SLF001
                                            eta_s=145.0))
    page.filter_combo.setCurrentIndex(page.filter_combo.findData("skipped"))
    grab(window, out_dir / "library_embedding.png")

    page.cancel_indexing()
    process_until(lambda: not page.is_indexing, 5)
    page.filter_combo.setCurrentIndex(0)
    page._choose_folder = lambda _parent: "/home/mmustermann/Privat/Steuer"  # noqa: SLF001 - no dialog offscreen
    page.add_folder()
    grab(window, out_dir / "library_refused.png")


def _fields(info: ModelInfo) -> dict:
    return {name: getattr(info, name) for name in info.__dataclass_fields__}


def grab(widget: QWidget, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    QCoreApplication.processEvents()
    if not widget.grab().save(str(out)):
        raise SystemExit(f"could not write {out}")
    print(out)


def shoot(scene: str, model_path: Path | None, out_dir: Path, home: Path) -> None:
    window = build(scene, model_path, home)
    tag = "_real_model" if model_path is not None and scene not in ("error", "policy") else ""
    window.show()
    window.start_model_loading()
    if scene == "loading":
        process_until(lambda: window.model_status.state is ModelState.LOADING)
        grab(window, out_dir / f"main_window_loading{tag}.png")
    elif scene == "answer":
        process_until(lambda: window.model_status.state is ModelState.READY)
        box = window.model_test_box
        box.prompt_edit.setPlainText(PROMPT)
        box.send()
        process_until(lambda: not box.is_running)
        grab(window, out_dir / f"main_window{tag}.png")
    elif scene in ("error", "policy"):
        process_until(lambda: window.model_status.state is not ModelState.LOADING, 5)
        grab(window, out_dir / f"main_window_{scene}.png")
    elif scene == "settings":
        dialog = window.open_settings()
        grab(dialog, out_dir / f"settings_dialog{tag}.png")
        dialog.close()
    elif scene == "workspace":
        process_until(lambda: window.model_status.state is ModelState.READY)
        window.show_workspace("nachschlagen")
        grab(window, out_dir / f"main_window_nachschlagen{tag}.png")
    elif scene == "library":
        shoot_library(window, out_dir)
    elif scene == "info":
        dialog = window.show_model_info()
        grab(dialog, out_dir / f"model_info_dialog{tag}.png")
        dialog.close()
    load = window._load_task  # noqa: SLF001 - a script: release a model still loading before closing
    if load is not None and window.model_service.model is not None:
        gate = getattr(window.model_service.model, "load_gate", None)
        if gate is not None:
            gate.set()
    window.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="real GGUF model (default: the fake model)")
    parser.add_argument("--scene", choices=SCENES, action="append", help="default: all scenes")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_app_style(app)
    translators = install_qt_translations(app)  # noqa: F841 - kept alive while the app runs
    with tempfile.TemporaryDirectory() as home:
        for scene in args.scene or SCENES:
            shoot(scene, args.model, args.out, Path(home))
    return 0


if __name__ == "__main__":
    sys.exit(main())
