"""The composition root: config → adapters → services → window (or a CLI command). Only this module knows everything."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app import __version__
from app.config import EffectiveConfig, load_config, paths
from app.core.errors import ModelChecksumMismatch, ModelError
from app.core.models import CheckStatus, ModelFiles, ModelSelection
from app.services.model_service import ModelService

_PROCESS_START = time.perf_counter()


@dataclass
class Container:
    """Everything a front end (GUI or CLI) needs, built once."""

    config: EffectiveConfig
    files: ModelFiles
    selection: ModelSelection | None
    model_service: ModelService


def build_container(env: Mapping[str, str] | None = None, *, verify_now: bool = False) -> Container:
    """Build the object graph. Hashing a large model is left to the model's load step unless `verify_now`.

    Nothing here raises for bad input: a broken policy or model ends up as the service's error.
    """
    from app.adapters.model_files import GgufModelFiles
    from app.services.model_selection import select_model

    config = load_config(env)
    files = GgufModelFiles(cache_dir=config.user_dirs.cache_dir)
    if config.policy_error is not None:
        reason = ModelError(
            "Die Richtlinie Ihrer IT ist fehlerhaft; die KI-Funktionen bleiben gesperrt, bis sie korrigiert ist. "
            + config.policy_error.user_message,
            config.policy_error.detail,
        )
        return Container(config, files, None, ModelService(None, reason))
    settings = config.settings
    selection = select_model(
        model_path=settings.model_path,
        model_sha256=settings.model_sha256,
        models_dir=config.models_dir,
        manifest_path=paths.model_manifest_path(),
        files=files,
        path_source="Richtlinie" if config.is_locked("model_path") else "Einstellung",
        verify=verify_now,
    )
    if not selection.usable or selection.info is None:
        return Container(config, files, selection, ModelService(None, ModelError(selection.problem or None)))

    from app.adapters.llama_cpp_model import LlamaCppModel

    model = LlamaCppModel(selection.info, n_threads=settings.n_threads, n_ctx=settings.context_length)
    return Container(config, files, selection, ModelService(model, preflight=_checksum_preflight(files, selection)))


def _checksum_preflight(files: ModelFiles, selection: ModelSelection):
    """Verify the model file's checksum before loading it (on the loading thread, not at start-up)."""
    expected = selection.expected_sha256
    if not expected or selection.path is None or selection.status is CheckStatus.OK:
        return None
    path = selection.path

    def verify() -> str:
        actual = files.sha256(path)
        if actual != expected:
            raise ModelChecksumMismatch(
                detail=f"{path}: erwartet {expected}, gefunden {actual}",
            )
        return actual

    return verify


# -- command line -------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aktenlotse",
        description="Aktenlotse – KI-Assistent für die Sachbearbeitung, offline. Ohne Unterbefehl startet die Oberfläche.",
    )
    parser.add_argument("--version", action="version", version=f"Aktenlotse {__version__}")
    parser.add_argument("--quit-after-shown", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="BEFEHL")
    doctor = sub.add_parser("doctor", help="Installation prüfen: Versionen, Richtlinie, Pfade, Modell und Prüfsumme.")
    doctor.add_argument("--json", action="store_true", help="Ausgabe als JSON")
    doctor.add_argument("--load", action="store_true", help="Das Modell zusätzlich laden und eine kurze Antwort erzeugen.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":
        from app.cli.doctor import run_doctor

        container = build_container(verify_now=True)
        return run_doctor(container.config, container.selection, container.model_service, container.files,
                          as_json=args.json, load=args.load)
    return run_gui(quit_after_shown=args.quit_after_shown)


def run_gui(*, quit_after_shown: bool = False) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.config import save_user_settings
    from app.ui.errors import install_excepthook
    from app.ui.i18n import install_qt_translations
    from app.ui.main_window import MainWindow
    from app.ui.style import apply_app_style
    from app.ui.task_runner import TaskRunner

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName(paths.APP_NAME)
    app.setApplicationDisplayName(paths.APP_NAME)
    app.setOrganizationName(paths.APP_AUTHOR)
    app.setWindowIcon(QIcon(str(paths.resources_dir() / "icons" / "aktenlotse.svg")))
    apply_app_style(app)
    container = build_container()
    translators = install_qt_translations(app, container.config.settings.language)  # kept alive while the app runs
    install_excepthook(container.config.user_dirs.log_dir / "aktenlotse.log")
    runner = TaskRunner()
    window = MainWindow(
        container.config,
        container.model_service,
        container.selection,
        runner=runner,
        save_settings=lambda changes: save_user_settings(container.config, changes),
    )
    window.show()
    window.start_model_loading()  # in the background: the window is already there
    if quit_after_shown:  # for bench/startup.py: how long until the window is up while the model loads
        app.processEvents()
        state = container.model_service.state.value
        print(f"window_shown_s={time.perf_counter() - _PROCESS_START:.3f} model_state={state}", flush=True)
        QTimer.singleShot(0, window.close)
    try:
        return app.exec()
    finally:
        del translators
        container.model_service.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
