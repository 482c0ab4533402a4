"""The two decision dialogs of Entwürfe: confirm (explicit, never on Enter) and reject (with an optional reason).

The confirm dialog is the last, deliberate step after the check list: it names what was checked and the account
the decision is recorded under, and its "Bestätigen" button is enabled only after the reviewer ticks that they
checked the content. "Abbrechen" is the default button, so Enter cancels and never confirms.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.drafts import CheckItem, CheckKind, Draft, Resolution
from app.ui.i18n import tr
from app.ui.style import STYLE_SHEET


def checklist_summary(items: list[CheckItem], draft: Draft) -> list[str]:
    """German lines for the confirm dialog: what the reviewer looked at, counted."""
    def count(kind: CheckKind, resolution: Resolution) -> int:
        return sum(1 for i in items if i.kind is kind and i.resolution is resolution)

    lines = []
    flags = [i for i in items if i.kind is CheckKind.FLAG]
    if flags:
        lines.append(tr("{n} Hinweis(e): {fixed} im Text geändert, {checked} als geprüft abgehakt").format(
            n=len(flags), fixed=count(CheckKind.FLAG, Resolution.FIXED), checked=count(CheckKind.FLAG, Resolution.CHECKED)))
    placeholders = [i for i in items if i.kind is CheckKind.PLACEHOLDER]
    if placeholders:
        lines.append(tr("{n} Platzhalter bleiben bewusst stehen").format(n=len(placeholders)))
    sources = [i for i in items if i.kind is CheckKind.SOURCE]
    if sources:
        lines.append(tr("{n} Quelle(n): {opened} geöffnet, {checked} anders geprüft").format(
            n=len(sources), opened=count(CheckKind.SOURCE, Resolution.FIXED),
            checked=count(CheckKind.SOURCE, Resolution.CHECKED)))
    edits = len(draft.versions) - 1
    lines.append(tr("Text von Ihnen bearbeitet ({n} Fassung(en))").format(n=edits) if edits
                 else tr("Text unverändert wie vom Modell erzeugt"))
    return lines


class ConfirmDialog(QDialog):
    """Modal; `accepted` means: the reviewer ticked the declaration and pressed "Bestätigen"."""

    def __init__(self, draft: Draft, items: list[CheckItem], reviewer: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confirmDialog")
        self.setStyleSheet(STYLE_SHEET)
        self.setWindowTitle(tr("Entwurf bestätigen"))
        self.setAccessibleName(tr("Entwurf bestätigen"))
        self.setModal(True)
        self.resize(560, 0)

        heading = QLabel(tr("„{title}“ als geprüft bestätigen?").format(title=_shorten(draft.title, 80)))
        heading.setProperty("role", "subheading")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        explain = QLabel(tr(
            "Nach der Bestätigung ist der Text endgültig: Er kann ohne Entwurfsvermerk exportiert und kopiert "
            "werden und lässt sich nicht mehr ändern. Ihre Entscheidung wird mit Ihrem Benutzerkonto „{user}“ "
            "protokolliert.").format(user=reviewer))
        explain.setWordWrap(True)
        explain.setTextFormat(Qt.TextFormat.PlainText)
        self.summary = QLabel("\n".join("• " + line for line in checklist_summary(items, draft)))
        self.summary.setObjectName("confirmSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.acknowledge = QCheckBox(tr("Ich habe den Inhalt geprüft und übernehme ihn als meine Entscheidung."))
        self.acknowledge.setObjectName("confirmAcknowledge")
        self.acknowledge.setAccessibleName(self.acknowledge.text())

        self.cancel_button = QPushButton(tr("Abbrechen"))
        self.cancel_button.setObjectName("confirmCancel")
        self.cancel_button.setDefault(True)  # Enter cancels
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button = QPushButton(tr("Bestätigen"))
        self.confirm_button.setObjectName("confirmAccept")
        self.confirm_button.setAutoDefault(False)  # never triggered by Enter, only by a click or Space
        self.confirm_button.setEnabled(False)
        self.confirm_button.setAccessibleDescription(tr("Erst möglich, wenn Sie die Erklärung oben angehakt haben"))
        self.confirm_button.clicked.connect(self.accept)
        self.acknowledge.toggled.connect(self.confirm_button.setEnabled)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(10)
        for label in (heading, explain, self.summary):
            label.setMinimumWidth(520)  # wrapped labels need a width and height before the dialog sizes itself
            label.ensurePolished()
            label.setMinimumHeight(label.heightForWidth(520) + 4)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(heading)
        layout.addWidget(explain)
        layout.addWidget(self.summary)
        layout.addWidget(self.acknowledge)
        layout.addLayout(buttons)
        self.setTabOrder(self.acknowledge, self.cancel_button)
        self.setTabOrder(self.cancel_button, self.confirm_button)
        self.acknowledge.setFocus()


class RejectDialog(QDialog):
    """Reject with an optional reason (kept with the draft; the statistics only learn whether one was given)."""

    def __init__(self, draft: Draft, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rejectDialog")
        self.setStyleSheet(STYLE_SHEET)
        self.setWindowTitle(tr("Entwurf ablehnen"))
        self.setModal(True)
        self.resize(520, 0)
        heading = QLabel(tr("„{title}“ ablehnen?").format(title=_shorten(draft.title, 80)))
        heading.setProperty("role", "subheading")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        label = QLabel(tr("&Grund (freiwillig), z. B. „Quelle passt nicht“ oder „Frist falsch“:"))
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setObjectName("rejectReason")
        self.reason_edit.setAccessibleName(tr("Grund der Ablehnung (freiwillig)"))
        self.reason_edit.setTabChangesFocus(True)
        self.reason_edit.setFixedHeight(80)
        label.setBuddy(self.reason_edit)
        self.cancel_button = QPushButton(tr("Abbrechen"))
        self.cancel_button.setDefault(True)
        self.cancel_button.clicked.connect(self.reject)
        self.reject_button = QPushButton(tr("Ablehnen"))
        self.reject_button.setObjectName("rejectAccept")
        self.reject_button.setAutoDefault(False)
        self.reject_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.reject_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(10)
        heading.setMinimumWidth(480)
        heading.setMinimumHeight(heading.heightForWidth(480))
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(heading)
        layout.addWidget(label)
        layout.addWidget(self.reason_edit)
        layout.addLayout(buttons)
        self.reason_edit.setFocus()

    @property
    def reason(self) -> str:
        return self.reason_edit.toPlainText().strip()


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + " …"


class FrameDialog(QDialog):
    """A letter's fixed parts – address, subject, information block, signature – where placeholders often remain."""

    def __init__(self, draft: Draft, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("frameDialog")
        self.setStyleSheet(STYLE_SHEET)
        self.setWindowTitle(tr("Anschrift und Briefkopf"))
        self.setModal(True)
        self.resize(560, 0)
        p = draft.payload
        self.subject_edit = QLineEdit(str(p.get("subject", "")))
        self.subject_edit.setObjectName("frameSubject")
        self.subject_edit.setAccessibleName(tr("Betreff"))
        self.recipient_edit = self._lines(p.get("recipient_lines", []), "frameRecipient", tr("Anschrift"), 100)
        self.info_edit = self._lines([f"{k}: {v}" for k, v in p.get("info", [])], "frameInfo",
                                     tr("Informationsblock, je Zeile „Bezeichnung: Angabe“"), 110)
        self.signature_edit = self._lines(p.get("signature", []), "frameSignature", tr("Unterschrift"), 60)
        form = QFormLayout()
        form.addRow(tr("&Anschrift:"), self.recipient_edit)
        form.addRow(tr("&Betreff:"), self.subject_edit)
        form.addRow(tr("&Informationsblock:"), self.info_edit)
        form.addRow(tr("&Unterschrift:"), self.signature_edit)
        self.cancel_button = QPushButton(tr("Abbrechen"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton(tr("Übernehmen"))
        self.save_button.setObjectName("frameSave")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.addLayout(form)
        layout.addLayout(buttons)

    @staticmethod
    def _lines(lines, name: str, accessible: str, height: int) -> QPlainTextEdit:
        edit = QPlainTextEdit("\n".join(str(x) for x in lines))
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(height)
        return edit

    def values(self) -> dict[str, object]:
        def lines(edit: QPlainTextEdit) -> tuple[str, ...]:
            return tuple(x.strip() for x in edit.toPlainText().splitlines() if x.strip())

        info = []
        for line in lines(self.info_edit):
            label, _, value = line.partition(":")
            info.append((label.strip(), value.strip()))
        return {"subject": self.subject_edit.text(), "recipient_lines": lines(self.recipient_edit),
                "info": tuple(info), "signature": lines(self.signature_edit)}
