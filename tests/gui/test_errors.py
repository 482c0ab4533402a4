"""The error presenter and the last-resort excepthook (log file, buffering until the window is up)."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from app.core.errors import Cancelled, ConfigError, ModelChecksumMismatch
from app.ui.errors import ExceptionHook, install_excepthook, show_error

pytestmark = pytest.mark.gui


def test_show_error_has_german_message_and_details(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    error = ModelChecksumMismatch(detail="erwartet 3f9a…, gefunden 77be…")
    box = show_error(parent, error)
    qtbot.addWidget(box)
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert box.text() == error.user_message
    assert box.detailedText() == "erwartet 3f9a…, gefunden 77be…"
    assert box.windowTitle() == "Aktenlotse – Hinweis"


def test_show_error_ignores_cancelled(qtbot):
    assert show_error(None, Cancelled()) is None


def test_show_error_wraps_unknown_exceptions(qtbot):
    box = show_error(None, KeyError("x"))
    qtbot.addWidget(box)
    assert box.text() == "Ein unerwarteter Fehler ist aufgetreten."
    assert box.detailedText() == "KeyError('x')"


def test_errors_before_the_window_are_buffered_then_shown(qtbot, tmp_path):
    hook = ExceptionHook(tmp_path / "logs" / "aktenlotse.log")
    hook.report(ConfigError("Ihre Einstellungen sind beschädigt; es gelten die Voreinstellungen."))
    hook.report(Cancelled())
    assert [e.user_message for e in hook.buffered] == ["Ihre Einstellungen sind beschädigt; es gelten die Voreinstellungen."]
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    hook.set_window(window)
    assert hook.buffered == []
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert [b.text() for b in boxes] == ["Ihre Einstellungen sind beschädigt; es gelten die Voreinstellungen."]


def test_unexpected_exception_is_logged_and_shown(qtbot, tmp_path):
    log = tmp_path / "logs" / "aktenlotse.log"
    hook = ExceptionHook(log)
    window = QWidget()
    qtbot.addWidget(window)
    hook.set_window(window)
    try:
        raise RuntimeError("kaputt")
    except RuntimeError:
        hook._excepthook(*sys.exc_info())  # noqa: SLF001 - what sys.excepthook would call
    text = log.read_text(encoding="utf-8")
    assert "RuntimeError: kaputt" in text and "Traceback" in text
    boxes = window.findChildren(QMessageBox)
    assert len(boxes) == 1
    assert str(log) in boxes[0].text()
    assert "RuntimeError: kaputt" in boxes[0].detailedText()


def test_exception_in_a_thread_reaches_the_gui_thread(qtbot, tmp_path):
    hook = ExceptionHook(tmp_path / "a.log")
    window = QWidget()
    qtbot.addWidget(window)
    hook.set_window(window)

    def worker() -> None:
        try:
            raise ValueError("im Hintergrund")
        except ValueError as exc:
            hook._threading_hook(  # noqa: SLF001 - what threading.excepthook would call
                threading.ExceptHookArgs((ValueError, exc, exc.__traceback__, threading.current_thread()))
            )

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(window.findChildren(QMessageBox)) == 1)
    assert "ValueError: im Hintergrund" in window.findChildren(QMessageBox)[0].detailedText()


def test_install_finds_the_main_window_by_itself(qtbot, tmp_path):
    before = sys.excepthook, threading.excepthook
    hook = install_excepthook(tmp_path / "x.log")
    try:
        assert sys.excepthook == hook._excepthook  # noqa: SLF001
        hook.report(ConfigError("Vor dem Fenster passiert."))
        window = QMainWindow()
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: hook.window is window)
        boxes = window.findChildren(QMessageBox)
        assert [b.text() for b in boxes] == ["Vor dem Fenster passiert."]
    finally:
        hook.uninstall()
    assert (sys.excepthook, threading.excepthook) == before


def test_qt_translations_give_german_standard_texts(qtbot):
    from PySide6.QtWidgets import QApplication

    from app.ui.i18n import install_qt_translations

    app = QApplication.instance()
    translators = install_qt_translations(app)
    try:
        assert translators, "qtbase_de.qm ships with PySide6"
        box = QMessageBox(QMessageBox.Icon.Warning, "t", "x", QMessageBox.StandardButton.Cancel)
        qtbot.addWidget(box)
        assert box.button(QMessageBox.StandardButton.Cancel).text().replace("&", "") == "Abbrechen"
    finally:
        for translator in translators:
            app.removeTranslator(translator)
