"""Einstellungen: every settings key with its German description; keys the policy sets are shown locked."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.config import EffectiveConfig, Settings
from app.config.schema import describe
from app.core.errors import AktenlotseError
from app.ui.i18n import tr
from app.ui.style import lock_icon

SaveSettings = Callable[[dict[str, Any]], EffectiveConfig]

LOCKED_TEXT = "durch Ihre IT festgelegt"

# Short German names for the form. TODO(schema): move into the schema as Field(title=...) so docs and ADMX share them.
TITLES = {
    "allowed_roots": "Freigegebene Ordner",
    "model_path": "Modelldatei",
    "model_sha256": "Prüfsumme der Modelldatei",
    "models_dir": "Modellordner",
    "data_dir": "Datenordner",
    "index_dir": "Indexordner",
    "audit_dir": "Ordner des Prüfprotokolls",
    "language": "Sprache",
    "n_threads": "Rechenthreads",
    "context_length": "Kontextlänge",
    "letter_types_dir": "Eigene Brieftypen",
    "text_blocks_dir": "Eigene Textbausteine",
    "letterhead_path": "Briefvorlage",
    "sender_line": "Absenderzeile",
    "authority_name": "Name der Behörde",
    "review_require_source_opened": "Quelle vor Bestätigung öffnen",
    "review_no_open_placeholders": "Keine offenen Platzhalter",
    "review_min_seconds": "Mindestprüfzeit (Sekunden)",
    "review_long_draft_chars": "Langer Entwurf ab Zeichen",
    "review_stats": "Nutzungsstatistik führen",
    "audit_content": "Inhalte im Prüfprotokoll",
    "security_officers": "Sicherheitsbeauftragte",
    "remote_model_url": "Rechenzentrum: Sprachmodell",
    "remote_model_name": "Rechenzentrum: Modellname",
    "remote_ca_bundle": "Rechenzentrum: Zertifikatskette",
    "remote_timeout_seconds": "Rechenzentrum: Zeitlimit (Sekunden)",
    "remote_retries": "Rechenzentrum: Wiederholungen",
    "remote_fallback_local": "Rechenzentrum: lokales Modell als Ersatz",
    "remote_pseudonymise": "Rechenzentrum: Pseudonymisierung",
    "shared_knowledge_url": "Fachbereichswissen: Server",
    "shared_collections": "Fachbereichswissen: Sammlungen",
}
CHOICE_LABELS = {"de": "Deutsch", "en": "Englisch"}


def field_kind(key: str) -> tuple[str, tuple[Any, ...]]:
    """("paths" | "path" | "int" | "choice" | "text", choices) from the schema's type annotation."""
    annotation = Settings.model_fields[key].annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "choice", typing.get_args(annotation)
    if origin is list:
        return "paths", ()
    args = typing.get_args(annotation) if origin in (typing.Union, types.UnionType) else (annotation,)
    if bool in args:
        return "bool", ()
    if Path in args:
        return "path", ()
    if int in args:
        return "int", ()
    return "text", ()


def display_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


class SettingsDialog(QDialog):
    """Changes go through `save_settings(changes)`; its ConfigError or PolicyViolation is shown in the dialog."""

    settings_saved = Signal(object)  # the new EffectiveConfig

    def __init__(
        self, config: EffectiveConfig, save_settings: SaveSettings | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(tr("Einstellungen"))
        self.setAccessibleName(tr("Einstellungen"))
        self.resize(760, 620)
        self._config = config
        self._save = save_settings
        self.editors: dict[str, QWidget] = {}
        self.saved_config: EffectiveConfig | None = None

        intro = QLabel(
            tr("Richtlinie: {source}. Mit einem Schloss markierte Einstellungen sind {locked} und können hier nicht geändert werden.").format(
                source=config.policy.description, locked=tr(LOCKED_TEXT)
            )
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")
        self.error_label = QLabel()
        self.error_label.setObjectName("settingsError")
        self.error_label.setProperty("role", "reason")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        row = 0
        for key in Settings.model_fields:
            row = self._add_row(grid, row, key)
        form = QWidget()
        form.setLayout(grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(form)
        scroll.setAccessibleName(tr("Liste der Einstellungen"))

        buttons = QDialogButtonBox()
        self.save_button = QPushButton(tr("&Speichern"))
        self.save_button.setAccessibleName(tr("Einstellungen speichern"))
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        close = QPushButton(tr("Abbre&chen"))
        close.setAccessibleName(tr("Abbrechen, ohne zu speichern"))
        close.clicked.connect(self.reject)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(close, QDialogButtonBox.ButtonRole.RejectRole)
        if save_settings is None:
            self.save_button.setEnabled(False)
            self.save_button.setToolTip(tr("Speichern ist in dieser Sitzung nicht möglich."))
        note = QLabel(tr("Änderungen an Modell, Ordnern und Rechenleistung gelten ab dem nächsten Start."))
        note.setProperty("role", "muted")
        note.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.addWidget(intro)
        layout.addWidget(self.error_label)
        layout.addWidget(scroll, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)

    # -- building -------------------------------------------------------------------------
    def _add_row(self, grid: QGridLayout, row: int, key: str) -> int:
        title = tr(TITLES.get(key, key))
        description = describe(key)
        locked = self._config.is_locked(key)
        value = getattr(self._config.settings, key)
        kind, choices = field_kind(key)

        label = QLabel(f"<b>{title}</b><br><span style='color:#4a525c'>{key}</span>")
        label.setTextFormat(Qt.TextFormat.RichText)
        editor: QWidget
        if kind == "bool":
            box = QCheckBox(tr("ja"))
            box.setChecked(bool(value))
            box.setEnabled(not locked)
            editor = box
        elif kind == "choice" and not locked:
            combo = QComboBox()
            for choice in choices:
                combo.addItem(tr(CHOICE_LABELS.get(str(choice), str(choice))), choice)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            editor = combo
        else:
            line = QLineEdit(
                tr(CHOICE_LABELS[value]) if kind == "choice" and value in CHOICE_LABELS else display_value(value)
            )
            line.setReadOnly(locked)
            if locked:
                line.setPlaceholderText(tr("Voreinstellung"))
            else:
                line.setPlaceholderText(
                    tr("leer: automatisch") if kind == "int" else tr("leer: Voreinstellung")
                )
                if kind == "paths":
                    line.setToolTip(tr("Mehrere Ordner durch Semikolon trennen."))
            editor = line
        editor.setObjectName(f"setting-{key}")
        editor.setAccessibleName(title)
        editor.setAccessibleDescription(
            (tr(LOCKED_TEXT) + ", " + tr("nicht änderbar") + ". " if locked else "") + description
        )
        editor.setProperty("locked", locked)
        self.editors[key] = editor

        cell = QHBoxLayout()
        cell.addWidget(editor, 1)
        if locked:
            lock = QLabel()
            lock.setPixmap(lock_icon(16).pixmap(16, 16))
            lock.setAccessibleName(tr("gesperrt"))
            lock_text = QLabel(tr(LOCKED_TEXT))
            cell.addSpacing(6)
            lock_text.setObjectName(f"locked-{key}")
            cell.addWidget(lock)
            cell.addSpacing(2)
            cell.addWidget(lock_text)
        label.setBuddy(editor)
        help_text = QLabel(description)
        help_text.setWordWrap(True)
        help_text.setProperty("role", "muted")

        grid.addWidget(label, row, 0, 2, 1, Qt.AlignmentFlag.AlignTop)
        grid.addLayout(cell, row, 1)
        grid.addWidget(help_text, row + 1, 1)
        spacer = QFrame()
        spacer.setFixedHeight(8)
        grid.addWidget(spacer, row + 2, 0, 1, 2)
        return row + 3

    # -- saving ---------------------------------------------------------------------------
    def changes(self) -> dict[str, Any]:
        """The edited, unlocked keys whose value differs from the current one; raises ValueError on bad input."""
        result: dict[str, Any] = {}
        for key, editor in self.editors.items():
            if self._config.is_locked(key):
                continue
            kind, _ = field_kind(key)
            current = getattr(self._config.settings, key)
            if isinstance(editor, QCheckBox):
                new: Any = editor.isChecked()
            elif isinstance(editor, QComboBox):
                new = editor.currentData()
            else:
                text = editor.text().strip()
                if kind == "paths":
                    new = [part.strip() for part in text.split(";") if part.strip()]
                elif text == "":
                    new = None
                elif kind == "int":
                    try:
                        new = int(text)
                    except ValueError:
                        raise ValueError(
                            tr("„{title}“ muss eine ganze Zahl sein oder leer bleiben.").format(
                                title=tr(TITLES.get(key, key))
                            )
                        ) from None
                else:
                    new = text
            if _normalised(new) != _normalised(current):
                result[key] = new
        return result

    def save(self) -> bool:
        if self._save is None:
            return False
        try:
            changes = self.changes()
        except ValueError as exc:
            self._show_error(str(exc))
            return False
        if not changes:
            self.accept()
            return True
        try:
            new_config = self._save(changes)
        except AktenlotseError as exc:
            self._show_error(exc.user_message + (f"\n{exc.detail}" if exc.detail else ""))
            return False
        self.saved_config = new_config
        self.settings_saved.emit(new_config)
        self.accept()
        return True

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setAccessibleName(text)
        self.error_label.show()


def _normalised(value: Any) -> Any:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
