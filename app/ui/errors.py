"""The one error presenter (German message, technical detail behind "Details") and the last-resort excepthook."""

from __future__ import annotations

import datetime as _dt
import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget

from app.core.errors import AktenlotseError, Cancelled
from app.ui.i18n import tr
from app.ui.task_runner import wrap_exception

log = logging.getLogger(__name__)

MAX_OPEN_DIALOGS = 3  # an error raised in a loop must not bury the user in dialogs; the log keeps them all


def show_error(parent: QWidget | None, error: BaseException) -> QMessageBox | None:
    """Show `error` in a non-blocking message box and return it; `Cancelled` is not an error and shows nothing."""
    if isinstance(error, Cancelled):
        return None
    error = wrap_exception(error)
    box = QMessageBox(parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(tr("Aktenlotse – Hinweis"))
    box.setText(error.user_message)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if error.detail:
        box.setInformativeText(tr("Technische Einzelheiten für Ihre IT finden Sie unter „Details“."))
        box.setDetailedText(error.detail)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAccessibleName(tr("Fehlermeldung"))
    box.setAccessibleDescription(error.user_message)
    for button in box.buttons():
        button.setAccessibleName(button.text().replace("&", "") or tr("Details"))
    box.open()
    return box


class _Relay(QObject):
    """Carries an error from any thread to the GUI thread (queued when emitted elsewhere)."""

    error_raised = Signal(object)


class _MainWindowWatcher(QObject):
    """Notices the first main window being shown, so buffered errors appear without extra wiring.

    An application-wide event filter sees every event; it removes itself as soon as the window is found.
    """

    def __init__(self, hook: ExceptionHook) -> None:
        super().__init__()
        self._hook = hook

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Show and isinstance(watched, QMainWindow):
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            if self._hook.window is None:
                QTimer.singleShot(0, lambda: self._hook.set_window(watched))
        return False


class ExceptionHook:
    """Logs every uncaught exception to a file and shows it; buffers what arrives before the window is up."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = Path(log_path)
        self._window: QWidget | None = None
        self._buffer: list[AktenlotseError] = []
        self._open: list[QMessageBox] = []
        self._relay = _Relay()
        self._relay.error_raised.connect(self._on_error_raised)
        self._previous_excepthook = sys.excepthook
        self._previous_threading_hook = threading.excepthook
        self._watcher: _MainWindowWatcher | None = None

    # -- installation ---------------------------------------------------------------------
    def install(self) -> ExceptionHook:
        """Hook in; with a QApplication, the first QMainWindow shown becomes the window (see `set_window`)."""
        sys.excepthook = self._excepthook
        threading.excepthook = self._threading_hook
        app = QApplication.instance()
        if app is not None and self._window is None:
            self._watcher = _MainWindowWatcher(self)
            app.installEventFilter(self._watcher)
        return self

    def uninstall(self) -> None:
        sys.excepthook = self._previous_excepthook
        threading.excepthook = self._previous_threading_hook
        app = QApplication.instance()
        if app is not None and self._watcher is not None:
            app.removeEventFilter(self._watcher)

    @property
    def window(self) -> QWidget | None:
        return self._window

    def set_window(self, window: QWidget | None) -> None:
        """The window errors are shown over; buffered errors appear now. Done automatically for the first
        QMainWindow shown after `install()` when a QApplication existed then."""
        self._window = window
        if window is not None:
            buffered, self._buffer = self._buffer, []
            for error in buffered:
                self._present(error)

    @property
    def buffered(self) -> list[AktenlotseError]:
        return list(self._buffer)

    # -- entry points ---------------------------------------------------------------------
    def report(self, error: BaseException) -> None:
        """Show an error (e.g. one the bootstrap caught before the window existed), from any thread."""
        if isinstance(error, Cancelled):
            return
        self._relay.error_raised.emit(wrap_exception(error))

    def _excepthook(
        self, kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt) or isinstance(value, Cancelled):
            self._previous_excepthook(kind, value, tb)
            return
        self._handle(kind, value, tb, threading.current_thread().name)

    def _threading_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or isinstance(args.exc_value, Cancelled):
            return
        name = args.thread.name if args.thread else "?"
        self._handle(args.exc_type, args.exc_value, args.exc_traceback, name)

    def _handle(
        self, kind: type[BaseException], value: BaseException, tb: TracebackType | None, thread: str
    ) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        self._write_log(thread, text)
        if isinstance(value, AktenlotseError):
            error = value
        else:
            error = AktenlotseError(
                tr("Ein unerwarteter Fehler ist aufgetreten. Die technischen Einzelheiten stehen im Protokoll: {path}").format(
                    path=self.log_path
                ),
                text,
            )
        try:
            self._relay.error_raised.emit(error)
        except RuntimeError:  # the relay is gone (interpreter shutting down): the log has it
            pass

    def _write_log(self, thread: str, text: str) -> None:
        stamp = _dt.datetime.now().isoformat(timespec="seconds")
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a", encoding="utf-8") as handle:
                handle.write(f"--- {stamp} unerwarteter Fehler (Thread {thread}) ---\n{text}\n")
        except OSError:
            log.exception("Could not write the error log %s", self.log_path)
        sys.stderr.write(text)

    # -- GUI thread -----------------------------------------------------------------------
    def _on_error_raised(self, error: AktenlotseError) -> None:
        if self._window is None or QApplication.instance() is None:
            self._buffer.append(error)
            return
        self._present(error)

    def _present(self, error: AktenlotseError) -> None:
        self._open = [box for box in self._open if _alive(box)]
        if len(self._open) >= MAX_OPEN_DIALOGS:
            return
        box = show_error(self._window, error)
        if box is not None:
            self._open.append(box)


def _alive(box: QMessageBox) -> bool:
    try:
        return box.isVisible()
    except RuntimeError:  # deleted on close
        return False


def install_excepthook(log_path: Path) -> ExceptionHook:
    """Install the hook for `sys.excepthook` and `threading.excepthook`. Call it after creating the QApplication
    and before showing the main window: errors until then are buffered and shown over that window."""
    return ExceptionHook(log_path).install()
