"""Hilfe › Modellinformationen: what is known of the model file, its check and where it came from."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.llm import LanguageModel, ModelInfo
from app.core.models import CheckStatus, ModelSelection
from app.ui.i18n import tr

TEMPLATE_EXCERPT_CHARS = 400

_ROLE_LABELS = {
    "test": "Testmodell (nur für Prüfzwecke)",
    "default": "Standardmodell (Demo)",
    "admin": "von Ihrer IT bereitgestellt",
}


def format_size(size_bytes: int) -> str:
    """German number format: 98,4 MB / 4,37 GB."""
    if size_bytes >= 1_000_000_000:
        text = f"{size_bytes / 1_000_000_000:.2f} GB"
    elif size_bytes >= 1_000_000:
        text = f"{size_bytes / 1_000_000:.1f} MB"
    else:
        text = f"{size_bytes / 1000:.0f} kB"
    return text.replace(".", ",")


def model_facts(
    selection: ModelSelection | None,
    info: ModelInfo | None,
    model: LanguageModel | None,
    verified_sha256: str | None = None,
) -> list[tuple[str, str]]:
    """(label, value) rows, German; also used for "Kopieren" so that a support ticket gets the same text."""
    if model is not None and model.is_remote:  # the data centre's model: no file, an endpoint
        rows = [(tr("Name"), model.info.display_name), (tr("Endpunkt"), model.endpoint),
                (tr("Verschlüsselung"), tr("TLS") if model.endpoint.startswith("https://")
                 else tr("keine – nur auf diesem Rechner (127.0.0.1) erlaubt")),
                (tr("Kontextlänge"), tr("{n} Token").format(n=f"{model.info.context_length:,}".replace(",", "."))
                 if model.info.context_length else tr("unbekannt")),
                (tr("Ausführung"), model.backend_name)]
        if selection is not None and selection.path is not None:
            rows.append((tr("Lokales Modell"), str(selection.path)))  # answers only if policy allows the fallback
        return rows
    if selection is not None and selection.info is not None:
        info = selection.info
    if info is None and selection is None:
        return [(tr("Modell"), tr("Es ist kein Sprachmodell eingerichtet."))]
    rows: list[tuple[str, str]] = []
    if info is not None:
        rows += [
            (tr("Name"), info.display_name),
            (tr("Datei"), info.path),
            (tr("Größe"), format_size(info.size_bytes)),
            (tr("Architektur"), info.architecture or tr("unbekannt")),
            (
                tr("Kontextlänge"),
                tr("{n} Token").format(n=f"{info.context_length:,}".replace(",", "."))
                if info.context_length
                else tr("unbekannt"),
            ),
            (tr("Chat-Vorlage"), tr("vorhanden") if info.chat_template else tr("nicht vorhanden")),
            (tr("Rolle"), tr(_ROLE_LABELS.get(info.role, info.role))),
        ]
    elif selection is not None and selection.path is not None:
        rows.append((tr("Datei"), str(selection.path)))
    if selection is not None:
        check = selection.status.label_de
        digest = selection.actual_sha256 or verified_sha256 or (info.sha256 if info else "")
        if selection.status is CheckStatus.PENDING and verified_sha256:
            check = tr("Prüfsumme korrekt (beim Laden geprüft)")
        if digest:
            check += f" (SHA-256 {digest[:16]}…)"
        rows.append((tr("Prüfung"), check))
        if selection.problem:
            rows.append((tr("Problem"), selection.problem))
        rows.append((tr("Herkunft"), selection.source))
        if selection.entry is not None and selection.entry.licence:
            rows.append((tr("Lizenz"), selection.entry.licence))
    if model is not None:
        rows.append((tr("Ausführung"), model.backend_name))
    return rows


class ModelInfoDialog(QDialog):
    def __init__(
        self,
        selection: ModelSelection | None,
        info: ModelInfo | None,
        model: LanguageModel | None,
        parent: QWidget | None = None,
        verified_sha256: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("modelInfoDialog")
        self.setWindowTitle(tr("Modellinformationen"))
        self.setAccessibleName(tr("Modellinformationen"))
        self.setMinimumWidth(560)
        self.facts = model_facts(selection, info, model, verified_sha256)
        if selection is not None and selection.info is not None:
            info = selection.info

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setHorizontalSpacing(16)
        for label, value in self.facts:
            field = QLabel(value)
            field.setWordWrap(True)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field.setAccessibleName(f"{label}: {value}")
            form.addRow(QLabel(f"<b>{label}:</b>"), field)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.addLayout(form)
        self.template_view: QPlainTextEdit | None = None
        if info is not None and info.chat_template:
            excerpt = info.chat_template[:TEMPLATE_EXCERPT_CHARS]
            if len(info.chat_template) > TEMPLATE_EXCERPT_CHARS:
                excerpt += " …"
            caption = QLabel(tr("Auszug der &Chat-Vorlage:"))
            view = QPlainTextEdit(excerpt)
            view.setReadOnly(True)
            view.setTabChangesFocus(True)
            view.setFont(QFont("DejaVu Sans Mono, Consolas, monospace", 9))
            view.setFixedHeight(110)
            view.setAccessibleName(tr("Auszug der Chat-Vorlage"))
            caption.setBuddy(view)
            layout.addWidget(caption)
            layout.addWidget(view)
            self.template_view = view

        layout.addStretch(1)
        buttons = QDialogButtonBox()
        copy = QPushButton(tr("&Kopieren"))
        copy.setAccessibleName(tr("Modellinformationen in die Zwischenablage kopieren"))
        copy.clicked.connect(self.copy_to_clipboard)
        close = QPushButton(tr("&Schließen"))
        close.setAccessibleName(tr("Schließen"))
        close.setDefault(True)
        close.clicked.connect(self.accept)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(close, QDialogButtonBox.ButtonRole.AcceptRole)
        layout.addSpacing(8)
        layout.addWidget(buttons)
        self.resize(self.sizeHint())

    def as_text(self) -> str:
        return "\n".join(f"{label}: {value}" for label, value in self.facts)

    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self.as_text())
