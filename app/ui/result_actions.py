"""What the workspaces Nachschlagen, Zusammenfassen and Entwerfen do with a finished AI result, in one place:
copy it as a draft, save it as a draft DOCX (file dialog, task, status and error), hand it over for review, and
say why the start button is disabled.

The pages keep their own texts (passed in already translated, so every `tr()` source text stays in the page) and
their own object names; these helpers only do what was the same on every page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton, QWidget

from app.core.errors import AktenlotseError
from app.core.llm import ModelState
from app.core.lookup import DRAFT_MARKER
from app.ui.i18n import tr
from app.ui.model_status import ModelStatus
from app.ui.task_runner import Task, TaskRunner

EXPORT_FILTER = "Word-Dokument (*.docx)"


# -- widgets --------------------------------------------------------------------------------------------------------
def repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property (`role`) changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def action_button(text: str, object_name: str, accessible_name: str, description: str) -> QPushButton:
    """A push button with its object name, accessible name and description (all texts already translated)."""
    button = QPushButton(text)
    button.setObjectName(object_name)
    button.setAccessibleName(accessible_name)
    button.setAccessibleDescription(description)
    return button


def review_button(text: str, description: str) -> QPushButton:
    """The „Zur Prüfung übergeben“ button (`submitReview`); `text` carries the page's mnemonic."""
    return action_button(text, "submitReview", tr("Zur Prüfung übergeben"), description)


def reason_label(object_name: str) -> QLabel:
    """The label beside the start button that says why it is disabled."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setProperty("role", "reason")
    label.setWordWrap(True)
    return label


# -- why a button is disabled ---------------------------------------------------------------------------------------
def model_block(status: ModelStatus, reason: str | None, blocked: str) -> tuple[str, str]:
    """(text, role) for the reason label while the model blocks the start button: `blocked` is the page's
    translated template with `{reason}`; muted while a usable model is still loading, else a reason.
    ("", "muted") when nothing blocks."""
    if reason is None:
        return "", "muted"
    waiting = status.state in (ModelState.LOADING, ModelState.NOT_LOADED) and status.error is None
    return blocked.format(reason=reason), "muted" if waiting and status.config.usable else "reason"


def show_reason(label: QLabel, button: QPushButton, text: str, role: str, *, tip: str, description: str) -> None:
    """Show (or hide, with "") why `button` is disabled; the button's tooltip and accessible description say the
    same, or `tip` / `description` when nothing is in the way."""
    label.setProperty("role", role)
    repolish(label)
    label.setText(text)
    label.setVisible(bool(text))
    button.setToolTip(text or tip)
    button.setAccessibleDescription(text or description)


# -- copy and hand over ---------------------------------------------------------------------------------------------
def copy_as_draft(status: QLabel, text: str, note: str = "") -> None:
    """Put `text` (which carries the draft marking) into the clipboard and say so; `note` is appended."""
    QGuiApplication.clipboard().setText(text)
    message = tr("In die Zwischenablage kopiert – mit dem Vermerk „{marker}“.").format(marker=DRAFT_MARKER)
    status.setText(f"{message} {note}" if note else message)


def hand_over(status: QLabel, submit: Callable[[], str],
              present: Callable[[AktenlotseError], None]) -> str | None:
    """Hand a result over to the review workflow: `submit()` returns the draft id; None if the workflow refused
    (then `present(error)` shows the error)."""
    try:
        draft_id = submit()
    except AktenlotseError as error:
        present(error)
        return None
    status.setText(tr("Zur Prüfung übergeben. Sie finden den Entwurf unter „Entwürfe“."))
    return draft_id


# -- export as a draft DOCX -----------------------------------------------------------------------------------------
def docx_path(chosen: str) -> Path:
    """The chosen file, with ".docx" added unless it ends so."""
    path = Path(chosen)
    return path if path.suffix.lower() == ".docx" else path.with_name(path.name + ".docx")


class DraftExport:
    """Mixin for a workspace page that saves its result as a draft DOCX on the TaskRunner.

    The page (a QWidget) has `runner` (a TaskRunner), `run_status`, `_update_controls()`, `_present_error(error)`
    (shows the error dialog through the page module's `show_error`) and an `export_finished` signal ("result" |
    "failed" | "cancelled"), and sets `_export_task = None`, `_export_dir = ""` and `_export_outcome = ""` in its
    `__init__`. Export, not copy or hand-over, needs this state, so only export is a mixin.
    """

    runner: TaskRunner
    run_status: QLabel
    _export_task: Task | None
    _export_dir: str
    _export_outcome: str

    def ask_docx_path(self, title: str, name: str) -> str:
        """The save dialog in the last export folder (else the home folder); "" if the person cancelled."""
        folder = self._export_dir or str(Path.home())
        path, _filter = QFileDialog.getSaveFileName(
            self, title, str(Path(folder) / name), tr(EXPORT_FILTER),  # type: ignore[arg-type]
        )
        return path

    def start_export(self, chosen: str, write: Callable[[Path], object], *, name: str, saving: str,
                     saved: Callable[[object], str], failed: str) -> Task:
        """Write to `chosen` (".docx" added) on the runner: `write(path)` returns the written path, `saved(path)`
        the status text then, `failed` the status template with `{message}`."""
        path = docx_path(chosen)
        self._export_dir = str(path.parent)
        task = self.runner.start(lambda _cancel: write(path), name=name)
        self._export_task = task
        self.run_status.setText(saving)
        task.result.connect(lambda written, fallback=path: self._on_exported(
            saved(written if isinstance(written, (str, Path)) else fallback)))
        task.failed.connect(lambda error: self._on_export_failed(error, failed))
        task.cancelled.connect(lambda: self._on_export_cancelled())
        task.finished.connect(self._on_export_finished)
        self._update_controls()  # type: ignore[attr-defined]
        return task

    def _on_exported(self, text: str) -> None:
        self.run_status.setText(text)
        self._export_outcome = "result"

    def _on_export_failed(self, error: AktenlotseError, failed: str) -> None:
        self.run_status.setText(failed.format(message=error.user_message))
        self._export_outcome = "failed"
        self._present_error(error)  # type: ignore[attr-defined]

    def _on_export_cancelled(self) -> None:
        self.run_status.setText(tr("Export abgebrochen."))
        self._export_outcome = "cancelled"

    def _on_export_finished(self) -> None:
        self._export_task = None
        self._update_controls()  # type: ignore[attr-defined]
        self.export_finished.emit(self._export_outcome)  # type: ignore[attr-defined]
