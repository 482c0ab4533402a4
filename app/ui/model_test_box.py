"""The "Modell testen" page: a free prompt, Senden/Abbrechen, and the streamed answer under the draft banner."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import AktenlotseError
from app.core.llm import ModelState
from app.services.model_service import ModelService
from app.ui.errors import show_error
from app.ui.i18n import tr
from app.ui.model_status import ModelStatus
from app.ui.task_runner import Task, TaskRunner

DRAFT_BANNER = "ENTWURF – KI-Vorschlag, Prüfung erforderlich"


class ModelTestBox(QWidget):
    """Sends one prompt at a time through `ModelService.test_prompt` on the task runner."""

    generation_started = Signal(object)  # Task
    generation_finished = Signal(str)  # "result" | "failed" | "cancelled"

    def __init__(
        self, service: ModelService, status: ModelStatus, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page-modell")
        self._service = service
        self._status = status
        self._runner = runner
        self._task: Task | None = None
        self._started_at = 0.0
        self._outcome = ""

        heading = QLabel(tr("Modell testen"))
        heading.setProperty("role", "heading")
        self.intro = intro = QLabel()
        intro.setObjectName("modelTestIntro")
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")
        self._say_where()
        status.backend_changed.connect(self._say_where)

        self.prompt_label = QLabel(tr("&Frage an das Modell:"))
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setObjectName("modelPrompt")
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setPlaceholderText(tr("z. B.: Was ist eine Eingangsbestätigung?"))
        self.prompt_edit.setFixedHeight(84)
        self.prompt_edit.setAccessibleName(tr("Frage an das Modell"))
        self.prompt_edit.setAccessibleDescription(tr("Mit Strg+Eingabe senden."))
        self.prompt_label.setBuddy(self.prompt_edit)

        self.send_button = QPushButton(tr("&Senden"))
        self.send_button.setObjectName("sendButton")
        self.send_button.setProperty("role", "primary")
        self.send_button.setAccessibleName(tr("Senden"))
        self.send_button.setAccessibleDescription(tr("Frage an das Sprachmodell senden (Strg+Eingabe)"))
        self.send_button.setToolTip(tr("Frage senden (Strg+Eingabe)"))
        self.cancel_button = QPushButton(tr("&Abbrechen"))
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setAccessibleName(tr("Abbrechen"))
        self.cancel_button.setAccessibleDescription(tr("Laufende Antwort abbrechen (Esc)"))
        self.cancel_button.setToolTip(tr("Antwort abbrechen (Esc)"))
        self.reason_label = QLabel()
        self.reason_label.setObjectName("sendBlockedReason")
        self.reason_label.setProperty("role", "reason")
        self.reason_label.setWordWrap(True)

        self.banner = QLabel(tr(DRAFT_BANNER))
        self.banner.setObjectName("draftBanner")
        self.banner.setProperty("role", "draft-banner")
        self.banner.setAccessibleName(tr(DRAFT_BANNER))
        self.output_label = QLabel(tr("Antwort des &Modells:"))
        self.output = QPlainTextEdit()
        self.output.setObjectName("modelOutput")
        self.output.setReadOnly(True)
        self.output.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByKeyboard | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.output.setTabChangesFocus(True)
        self.output.setPlaceholderText(tr("Die Antwort des Modells erscheint hier, sobald Sie eine Frage senden."))
        self.output.setAccessibleName(tr("Antwort des Modells"))
        self.output.setAccessibleDescription(tr(DRAFT_BANNER))
        self.output_label.setBuddy(self.output)
        self.run_status = QLabel()
        self.run_status.setObjectName("runStatus")
        self.run_status.setProperty("role", "muted")

        buttons = QHBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.cancel_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.reason_label, 1)
        buttons.addStretch(0)
        draft = QVBoxLayout()
        draft.setSpacing(0)
        draft.addWidget(self.banner)
        draft.addWidget(self.output, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 20)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addSpacing(6)
        layout.addWidget(self.prompt_label)
        layout.addWidget(self.prompt_edit)
        layout.addLayout(buttons)
        layout.addSpacing(6)
        layout.addWidget(self.output_label)
        layout.addLayout(draft, 1)
        layout.addWidget(self.run_status)

        self.setTabOrder(self.prompt_edit, self.send_button)
        self.setTabOrder(self.send_button, self.cancel_button)
        self.setTabOrder(self.cancel_button, self.output)

        self.send_button.clicked.connect(self.send)
        self.cancel_button.clicked.connect(self.cancel)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.send)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.cancel)
        status.state_changed.connect(self._on_state_changed)
        self._update_controls()

    def _say_where(self, *_: object) -> None:
        """Where the question goes: this PC, or the data centre (pseudonymised or not) – never a false promise."""
        model = self._service.model
        if model is not None and model.is_remote:
            where = tr("Ihre Eingabe geht an das Sprachmodell im Rechenzentrum ({url}){how}.").format(
                url=model.endpoint,
                how=tr(", Namen und Kennungen darin durch Platzhalter ersetzt") if self._service.pseudonymises
                else "")
            text = tr("Stellen Sie dem Sprachmodell eine freie Frage, um zu prüfen, ob es arbeitet. ") + where
        else:
            text = tr("Stellen Sie dem Sprachmodell eine freie Frage, um zu prüfen, ob es auf diesem Rechner "
                      "arbeitet. Ihre Eingabe verlässt den Rechner nicht.")
        self.intro.setText(text + " " + tr("Die Antwort ist ein unverbindlicher KI-Vorschlag."))

    # -- actions --------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._task is not None

    def send(self) -> Task | None:
        """Start a generation for the prompt; returns the task, or None if nothing was started (and why is shown)."""
        if self._task is not None or self._status.block_reason() is not None:
            return None
        prompt = self.prompt_edit.toPlainText().strip()
        if not prompt:
            self.run_status.setText(tr("Bitte geben Sie zuerst eine Frage ein."))
            self.prompt_edit.setFocus()
            return None
        self.output.clear()
        self.run_status.setText(tr("Antwort wird erzeugt …"))
        self._started_at = time.monotonic()
        task = self._runner.start(
            lambda cancel: self._service.test_prompt(prompt, cancel), name="Modell testen"
        )
        self._task = task
        task.partial_result.connect(self._on_partial_result)
        task.result.connect(self._on_result)
        task.failed.connect(self._on_failed)
        task.cancelled.connect(self._on_cancelled)
        task.finished.connect(self._on_finished)
        self._update_controls()
        self.generation_started.emit(task)
        return task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.run_status.setText(tr("Wird abgebrochen …"))

    # -- task signals ---------------------------------------------------------------------
    def _on_partial_result(self, text: str) -> None:
        bar = self.output.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.output.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if follow:
            bar.setValue(bar.maximum())

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self._started_at:.1f}".replace(".", ",")

    def _on_result(self, _value: object) -> None:
        self.run_status.setText(tr("Fertig nach {seconds} s. Bitte prüfen Sie die Antwort.").format(seconds=self._elapsed()))
        self._outcome = "result"

    def _on_failed(self, error: AktenlotseError) -> None:
        self.run_status.setText(tr("Fehlgeschlagen: {message}").format(message=error.user_message))
        self._outcome = "failed"
        show_error(self.window(), error)

    def _on_cancelled(self) -> None:
        self.run_status.setText(tr("Abgebrochen nach {seconds} s.").format(seconds=self._elapsed()))
        self._outcome = "cancelled"

    def _on_finished(self) -> None:
        self._task = None
        self._update_controls()
        self.generation_finished.emit(self._outcome)

    # -- state ----------------------------------------------------------------------------
    def _on_state_changed(self, _state: ModelState) -> None:
        self._update_controls()

    def _update_controls(self) -> None:
        reason = self._status.block_reason()
        running = self._task is not None
        self.send_button.setEnabled(reason is None and not running)
        self.cancel_button.setEnabled(running)
        self.prompt_edit.setReadOnly(running)
        if reason is not None:
            text = tr("Senden ist nicht möglich: {reason}").format(reason=reason)
        else:
            text = ""
        # Waiting for the model is no fault: muted; an error or a policy problem: the error colour.
        waiting = self._status.state in (ModelState.LOADING, ModelState.NOT_LOADED) and self._status.error is None
        self.reason_label.setProperty("role", "muted" if waiting and self._status.config.usable else "reason")
        self.reason_label.style().unpolish(self.reason_label)
        self.reason_label.style().polish(self.reason_label)
        self.reason_label.setText(text)
        self.reason_label.setVisible(bool(text))
        self.send_button.setToolTip(text or tr("Frage senden (Strg+Eingabe)"))
        self.send_button.setAccessibleDescription(text or tr("Frage an das Sprachmodell senden (Strg+Eingabe)"))
