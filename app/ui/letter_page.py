"""The "Entwerfen" workspace: choose a letter type, fill in the facts, let the model draft the body, edit and export.

Everything the model wrote is untrusted text: the body streams into a plain-text editor (nothing is markup), and the
letter head and closing are shown with every character HTML-escaped; only the page adds markup (placeholder
marks). Facts the inputs do not contain stay visible placeholders („[Frist eintragen]“): they are highlighted in
the editor and listed as "Offene Platzhalter". The draft banner is a label set by the page from `DRAFT_MARKER`;
export and copy always carry the draft marking.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import replace
from datetime import date
from itertools import pairwise

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeySequence,
    QShortcut,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.documents import FileRecord, FileStatus
from app.core.drafts import DraftReview
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE, PLACEHOLDER_PATTERN
from app.core.letters import (
    LetterDraft,
    LetterField,
    LetterRequest,
    LetterStyle,
    LetterType,
    PlainFinding,
)
from app.core.lookup import DRAFT_MARKER
from app.core.progress import Progress
from app.ui import result_actions as actions
from app.ui.document_list import (
    check_paths,
    checked_paths,
    document_items,
    fill_documents,
    filter_documents,
)
from app.ui.errors import show_error
from app.ui.i18n import tr
from app.ui.letter_facade import LetterFacade
from app.ui.model_status import ModelStatus
from app.ui.style import DRAFT_INK, HIGHLIGHT_BG, INFO_INK, MUTED
from app.ui.summary_page import NO_DOCUMENTS_TEXT, count_text
from app.ui.task_runner import Task, TaskRunner, show_progress

PLACEHOLDER_RE = re.compile(PLACEHOLDER_PATTERN)
FIELD_ROLE = Qt.ItemDataRole.UserRole + 2  # the placeholder's text on the rows of the placeholder list
CANCELLED_TEXT = "Abgebrochen – es wurde kein Entwurf erstellt."
FAILED_TEXT = "Es wurde kein Entwurf erstellt."
EMPTY_TEXT = ("Der Brieftext erscheint hier, sobald Sie „Entwurf erstellen“ geklickt haben. Danach können Sie ihn "
              "direkt bearbeiten.")
INSTRUCTIONS_HINT = "Was soll der Brief sagen? z. B.: Fehlende Unterlagen: Lohnabrechnungen der letzten drei Monate"
DATE_FORMAT = "%d.%m.%Y"


def default_export_name(type_key: str, day: date | None = None) -> str:
    return f"Entwurf_{type_key}_{(day or date.today()).isoformat()}.docx"


def placeholders_text(n: int) -> str:
    return tr("1 offener Platzhalter") if n == 1 else tr("{n} offene Platzhalter").format(n=n)


def marked_html(text: str) -> str:
    """`text` HTML-escaped (line breaks kept), with its placeholders on the highlight colour."""
    out: list[str] = []
    last = 0
    for m in PLACEHOLDER_RE.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        out.append(f'<span style="background-color:{HIGHLIGHT_BG}; color:{DRAFT_INK};">'
                   f"{html.escape(m.group(0))}</span>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out).replace("\n", "<br>")


def head_html(draft: LetterDraft) -> str:
    """Sender line, recipient (left) and info block (right), subject and salutation – all text escaped."""
    recipient = "<br>".join(marked_html(line) for line in draft.recipient_lines)
    info = "".join(
        f'<tr><td style="color:{MUTED}; padding-right:8px;">{html.escape(key)}:</td><td>{marked_html(value)}</td></tr>'
        for key, value in draft.info)
    sender = (f'<div style="color:{MUTED}; font-size:small;">{html.escape(draft.sender_line)}</div>'
              if draft.sender_line else "")
    return (f'{sender}<table width="100%" cellspacing="0" cellpadding="0"><tr>'
            f'<td valign="top">{recipient}</td>'
            f'<td valign="top" align="right"><table cellspacing="0" cellpadding="0">{info}</table></td></tr></table>'
            f'<p style="margin-top:10px; margin-bottom:6px;"><b>{marked_html(draft.subject)}</b></p>'
            f"<p style=\"margin:0px;\">{marked_html(draft.salutation)}</p>")


def closing_html(draft: LetterDraft) -> str:
    lines = [marked_html(draft.closing), *(marked_html(s) for s in draft.signature)]
    markup = "<br>".join(lines)
    if draft.enclosures:
        markup += f'<br><span style="color:{MUTED};">' + html.escape(
            tr("Anlagen: {list}").format(list=", ".join(draft.enclosures))) + "</span>"
    return markup


class PlaceholderHighlighter(QSyntaxHighlighter):
    """Placeholders on yellow in the body editor; plain-language findings dotted-underlined while their text is
    still where the check found it."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.placeholder_format = QTextCharFormat()
        self.placeholder_format.setBackground(QBrush(QColor(HIGHLIGHT_BG)))
        self.placeholder_format.setForeground(QBrush(QColor(DRAFT_INK)))
        self.placeholder_format.setFontWeight(600)
        self.finding_format = QTextCharFormat()
        self.finding_format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
        self.finding_format.setUnderlineColor(QColor(INFO_INK))
        self._findings: list[PlainFinding] = []

    def set_findings(self, findings: list[PlainFinding]) -> None:
        self._findings = list(findings)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # Qt's name
        offset = self.currentBlock().position()
        for finding in self._findings:
            start, end = finding.start - offset, finding.end - offset
            if 0 <= start < end <= len(text) and text[start:end] == finding.text:
                self.setFormat(start, end - start, self.finding_format)
        for m in PLACEHOLDER_RE.finditer(text):
            fmt = QTextCharFormat(self.format(m.start()))
            fmt.merge(self.placeholder_format)
            self.setFormat(m.start(), m.end() - m.start(), fmt)


class _CompactList(QListWidget):
    def __init__(self, rows_height: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows_height = rows_height

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self._rows_height)


class LetterPage(QWidget, actions.DraftExport):
    """`LetterPage(drafter, status, runner, parent=None, review=None)`: one letter draft at a time through the
    TaskRunner; with a `review` workflow a finished letter (with the caseworker's edits) can be handed over to
    "Entwürfe"."""

    drafting_started = Signal(object)  # Task
    draft_ready = Signal(object)  # LetterDraft
    drafting_finished = Signal(str)  # "result" | "failed" | "cancelled"
    export_finished = Signal(str)  # "result" | "failed" | "cancelled"

    def __init__(
        self,
        drafter: LetterFacade,
        status: ModelStatus,
        runner: TaskRunner,
        parent: QWidget | None = None,
        review: DraftReview | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page-entwerfen")
        self.drafter = drafter
        self.runner = runner
        self.review = review
        self._handed_over = False  # the shown letter went to "Entwürfe"; later edits belong there, not here
        self._status = status
        self._task: Task | None = None
        self._export_task: Task | None = None
        self._outcome = ""
        self._export_outcome = ""
        self._started_at = 0.0
        self._current: LetterDraft | None = None
        self._types: list[LetterType] = []
        self._field_edits: dict[str, QLineEdit | QPlainTextEdit] = {}
        self._field_labels: dict[str, QLabel] = {}
        self._values: dict[str, str] = {"datum": date.today().strftime(DATE_FORMAT)}
        self._streamed = False
        self._new_version = False
        self._export_dir = ""

        heading = QLabel(tr("Entwerfen"))
        heading.setProperty("role", "heading")
        heading.setAccessibleName(tr("Entwerfen"))
        intro = QLabel(tr(
            "Wählen Sie die Briefart und geben Sie die bekannten Angaben ein. Was fehlt, bleibt als gelber "
            "Platzhalter stehen und wird nicht erfunden. Der Brief ist ein KI-Entwurf und muss geprüft werden."
        ))
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")
        self._build_inputs()
        self._build_result()
        self._build_layout(heading, intro)
        self._connect()
        self._load_types()
        self.refresh_documents()
        self._clear_result()
        self._update_controls()

    # -- building -------------------------------------------------------------------------
    def _build_inputs(self) -> None:
        self.type_label = QLabel(tr("&Briefart:"))
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("letterType")
        self.type_combo.setAccessibleName(tr("Briefart"))
        self.type_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.type_combo.setMinimumContentsLength(18)
        self.type_label.setBuddy(self.type_combo)
        self.legal_label = QLabel()
        self.legal_label.setObjectName("letterLegalBasis")
        self.legal_label.setProperty("role", "muted")
        self.legal_label.setTextFormat(Qt.TextFormat.PlainText)
        self.legal_label.setWordWrap(True)
        self.style_label = QLabel(tr("&Stil:"))
        self.style_combo = QComboBox()
        self.style_combo.setObjectName("letterStyle")
        for style in LetterStyle:
            self.style_combo.addItem(tr(style.label_de), style.value)
        self.style_combo.setAccessibleName(tr("Stil"))
        self.style_combo.setAccessibleDescription(tr(
            "förmlich: klassischer Behördenstil. bürgernah: kurze Sätze, direkte Ansprache. Leichte Sprache: "
            "sehr kurze Sätze, wird nach dem Entwurf auf Verständlichkeit geprüft."
        ))
        self.style_label.setBuddy(self.style_combo)

        self.fields_box = QWidget()
        self.fields_box.setObjectName("letterFields")
        self.fields_form = QFormLayout(self.fields_box)
        self.fields_form.setContentsMargins(0, 0, 0, 0)
        self.fields_form.setHorizontalSpacing(10)
        self.fields_form.setVerticalSpacing(6)
        self.fields_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # label above when narrow
        self.fields_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.required_legend = QLabel(tr("* Pflichtangabe – bleibt sie leer, steht im Brief ein Platzhalter."))
        self.required_legend.setProperty("role", "muted")
        self.required_legend.setWordWrap(True)

        self.instructions_label = QLabel(tr("&Inhalt:"))
        self.instructions_edit = QPlainTextEdit()
        self.instructions_edit.setObjectName("letterInstructions")
        self.instructions_edit.setPlaceholderText(tr(INSTRUCTIONS_HINT))
        self.instructions_edit.setTabChangesFocus(True)
        self.instructions_edit.setFixedHeight(64)
        self.instructions_edit.setAccessibleName(tr("Inhalt des Briefs"))
        self.instructions_edit.setAccessibleDescription(tr(INSTRUCTIONS_HINT))
        self.instructions_label.setBuddy(self.instructions_edit)

        self.documents_label = QLabel(tr("Aktendok&umente (optional):"))
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("letterFilter")
        self.filter_edit.setPlaceholderText(tr("Liste filtern (Name oder Ordner) …"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName(tr("Aktendokumente filtern"))
        self.filter_edit.setAccessibleDescription(tr("Zeigt nur Dokumente, deren Name oder Ordner den Text enthält"))
        self._picked: set[str] = set()  # files picked by hand (read when the draft is made, not indexed)
        self.add_files_button = QPushButton(tr("Datei &hinzufügen …"))
        self.add_files_button.setObjectName("letterAddFiles")
        self.add_files_button.setAccessibleName(tr("Datei hinzufügen"))
        self.add_files_button.setAccessibleDescription(tr(
            "Eine Datei aus den freigegebenen Ordnern als Aktendokument wählen, auch wenn sie nicht indexiert ist"))
        self.add_files_button.clicked.connect(self.add_files)
        self.documents_list = _CompactList(110)
        self.documents_list.setObjectName("letterDocuments")
        self.documents_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.documents_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.documents_list.setUniformItemSizes(True)
        self.documents_list.setMinimumHeight(90)
        self.documents_list.setAccessibleName(tr("Aktendokumente für den Brief"))
        self.documents_list.setAccessibleDescription(tr(
            "Indexierte Dokumente, aus denen der Entwurf Angaben übernehmen darf. Leertaste hakt das markierte "
            "Dokument an oder ab."
        ))
        self.documents_label.setBuddy(self.documents_list)
        self.documents_hint = QLabel()
        self.documents_hint.setObjectName("letterDocumentsHint")
        self.documents_hint.setProperty("role", "muted")
        self.documents_hint.setWordWrap(True)
        self.documents_hint.setVisible(False)
        self.count_label = QLabel(count_text(0))
        self.count_label.setObjectName("letterDocumentCount")
        self.count_label.setProperty("role", "muted")

        self.create_button = QPushButton(tr("&Entwurf erstellen"))
        self.create_button.setObjectName("createLetter")
        self.create_button.setProperty("role", "primary")
        self.create_button.setAccessibleName(tr("Entwurf erstellen"))
        self.cancel_button = QPushButton(tr("&Abbrechen"))
        self.cancel_button.setObjectName("letterCancel")
        self.cancel_button.setAccessibleName(tr("Abbrechen"))
        self.cancel_button.setAccessibleDescription(tr("Laufenden Entwurf abbrechen (Esc)"))
        self.cancel_button.setToolTip(tr("Entwurf abbrechen (Esc)"))
        self.reason_label = actions.reason_label("letterBlockedReason")
        self.missing_label = QLabel()
        self.missing_label.setObjectName("letterMissing")
        self.missing_label.setProperty("role", "muted")
        self.missing_label.setTextFormat(Qt.TextFormat.PlainText)
        self.missing_label.setWordWrap(True)

    def _build_result(self) -> None:
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("letterProgress")
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setAccessibleName(tr("Fortschritt des Entwurfs"))
        self.progress_label = QLabel()
        self.progress_label.setObjectName("letterProgressText")
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        self.progress_label.setWordWrap(True)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.progress_label, 2)
        self.progress_row.setVisible(False)

        self.banner = QLabel(tr(DRAFT_MARKER))
        self.banner.setObjectName("draftBanner")
        self.banner.setProperty("role", "draft-banner")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setAccessibleName(tr(DRAFT_MARKER))
        self.head_label = QLabel()
        self.head_label.setObjectName("letterHead")
        self.head_label.setTextFormat(Qt.TextFormat.RichText)  # built by head_html: every model text escaped
        self.head_label.setWordWrap(True)
        self.head_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.head_label.setAccessibleName(tr("Briefkopf (aus Ihren Angaben, nicht bearbeitbar)"))
        self.body_label = QLabel(tr("Brief&text (bearbeitbar):"))
        self.body_label.setObjectName("letterBodyLabel")
        self.body_label.setProperty("role", "muted")
        self.body_edit = QPlainTextEdit()
        self.body_edit.setObjectName("letterBody")
        self.body_edit.setTabChangesFocus(True)
        self.body_edit.setAccessibleName(tr("Brieftext, bearbeitbar"))
        self.body_edit.setAccessibleDescription(tr(DRAFT_MARKER))
        self.body_edit.setMinimumHeight(120)
        self.body_label.setBuddy(self.body_edit)
        self.highlighter = PlaceholderHighlighter(self.body_edit.document())
        self.closing_label = QLabel()
        self.closing_label.setObjectName("letterClosing")
        self.closing_label.setTextFormat(Qt.TextFormat.RichText)  # built by closing_html: escaped
        self.closing_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.closing_label.setAccessibleName(tr("Grußformel und Unterschrift"))
        self.sheet = QFrame()
        self.sheet.setObjectName("letterSheet")
        sheet_column = QVBoxLayout(self.sheet)
        sheet_column.setContentsMargins(14, 10, 14, 10)
        sheet_column.setSpacing(6)
        sheet_column.addWidget(self.head_label)
        sheet_column.addWidget(self.body_label)
        sheet_column.addWidget(self.body_edit, 1)
        sheet_column.addWidget(self.closing_label)

        self.replaced_label = QLabel()
        self.replaced_label.setObjectName("letterReplacedFacts")
        self.replaced_label.setProperty("role", "warning")
        self.replaced_label.setTextFormat(Qt.TextFormat.PlainText)  # quotes model text
        self.replaced_label.setWordWrap(True)
        self.replaced_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.replaced_label.setVisible(False)

        self.placeholders_label = QLabel()
        self.placeholders_label.setObjectName("letterPlaceholdersLabel")
        self.placeholders_list = _CompactList(84)
        self.placeholders_list.setObjectName("letterPlaceholders")
        self.placeholders_list.setMinimumHeight(56)
        self.placeholders_list.setAccessibleDescription(tr(
            "Eingabetaste oder Klick markiert den Platzhalter im Brieftext"))
        self.placeholders_label.setBuddy(self.placeholders_list)
        self.placeholders_hint = QLabel()
        self.placeholders_hint.setObjectName("letterPlaceholdersHint")
        self.placeholders_hint.setProperty("role", "muted")
        self.placeholders_hint.setWordWrap(True)
        self.findings_label = QLabel()
        self.findings_label.setObjectName("letterFindingsLabel")
        self.findings_label.setWordWrap(True)  # shares its row with the check button
        self.findings_list = _CompactList(84)
        self.findings_list.setObjectName("letterFindings")
        self.findings_list.setMinimumHeight(56)
        self.findings_list.setWordWrap(True)
        self.findings_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.findings_list.setAccessibleDescription(tr("Eingabetaste oder Klick markiert die Stelle im Brieftext"))
        self.findings_label.setBuddy(self.findings_list)
        self.findings_hint = QLabel()
        self.findings_hint.setObjectName("letterFindingsHint")
        self.findings_hint.setProperty("role", "muted")
        self.findings_hint.setWordWrap(True)
        self.recheck_button = actions.action_button(
            tr("&Verständlichkeit prüfen"), "letterRecheck", tr("Verständlichkeit prüfen"),
            tr("Prüft den bearbeiteten Brieftext erneut auf Verständlichkeit und offene Platzhalter"))

        self.export_button = actions.action_button(
            tr("Als &DOCX exportieren (Entwurf) …"), "exportLetter", tr("Als DOCX exportieren (Entwurf)"),
            tr("Speichert den Brief mit Ihren Änderungen als Word-Dokument mit der Kennzeichnung „{line}“")
            .format(line=DRAFT_LINE))
        self.copy_button = actions.action_button(
            tr("Als Entwurf &kopieren"), "copyLetter", tr("Als Entwurf kopieren"),
            tr("Kopiert den Brief mit Ihren Änderungen und dem Entwurfsvermerk in die Zwischenablage"))
        self.review_button: QPushButton | None = None
        if self.review is not None:
            # Alt+R: Alt+P belongs to "Offene &Platzhalter" on this page.
            self.review_button = actions.review_button(
                tr("Zur P&rüfung übergeben"),
                tr("Legt den Brief mit Ihren Änderungen als Entwurf zur Prüfung unter „Entwürfe“ ab"))

        self.run_status = QLabel()
        self.run_status.setObjectName("letterStatus")
        self.run_status.setProperty("role", "muted")
        self.run_status.setWordWrap(True)
        self.run_status.setTextFormat(Qt.TextFormat.PlainText)  # may quote a path
        self.run_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _build_layout(self, heading: QLabel, intro: QLabel) -> None:
        # Left: the inputs, scrollable; the buttons stay visible under them.
        inputs = QWidget()
        inputs.setObjectName("letterInputs")
        form = QVBoxLayout(inputs)
        form.setContentsMargins(0, 0, 10, 0)
        form.setSpacing(6)
        # The type's long names get the full width; the legal basis sits right under them.
        form.addWidget(self.type_label)
        form.addWidget(self.type_combo)
        form.addWidget(self.legal_label)
        style_row = QHBoxLayout()
        style_row.setSpacing(10)
        style_row.addWidget(self.style_label)
        style_row.addWidget(self.style_combo, 1)
        form.addLayout(style_row)
        form.addSpacing(4)
        form.addWidget(self.fields_box)
        form.addWidget(self.required_legend)
        form.addSpacing(4)
        form.addWidget(self.instructions_label)
        form.addWidget(self.instructions_edit)
        form.addSpacing(4)
        form.addWidget(self.documents_label)
        form.addWidget(self.filter_edit)
        form.addWidget(self.documents_list)
        form.addWidget(self.documents_hint)
        form.addWidget(self.add_files_button)
        form.addWidget(self.count_label)
        form.addStretch(1)
        self.inputs_scroll = QScrollArea()
        self.inputs_scroll.setObjectName("letterInputsScroll")
        self.inputs_scroll.setWidget(inputs)
        self.inputs_scroll.setWidgetResizable(True)
        self.inputs_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.inputs_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.inputs_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.inputs_box = QWidget()
        left = QVBoxLayout(self.inputs_box)
        left.setContentsMargins(0, 0, 8, 0)
        left.setSpacing(6)
        left.addWidget(self.inputs_scroll, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        left.addLayout(buttons)
        left.addWidget(self.reason_label)
        left.addWidget(self.missing_label)
        self.inputs_box.setMinimumWidth(340)

        # Right: progress, banner, the letter sheet, then what to check and the export.
        result_box = QWidget()
        right = QVBoxLayout(result_box)
        right.setContentsMargins(8, 0, 0, 0)
        right.setSpacing(6)
        right.addWidget(self.progress_row)
        letter = QVBoxLayout()
        letter.setSpacing(0)
        letter.addWidget(self.banner)
        letter.addWidget(self.sheet, 1)
        right.addLayout(letter, 1)
        right.addWidget(self.replaced_label)
        # A grid, so both lists start on the same line whatever height their headings take.
        review = QGridLayout()
        review.setHorizontalSpacing(12)
        review.setVerticalSpacing(4)
        placeholders = QVBoxLayout()
        placeholders.setSpacing(4)
        placeholders.addWidget(self.placeholders_list)
        placeholders.addWidget(self.placeholders_hint)
        # The check sits with its findings: the row under the lists has room for export, copy and hand-over.
        findings_head = QHBoxLayout()
        findings_head.setSpacing(8)
        findings_head.addWidget(self.findings_label, 1)
        findings_head.addWidget(self.recheck_button)
        findings = QVBoxLayout()
        findings.setSpacing(4)
        findings.addWidget(self.findings_list)
        findings.addWidget(self.findings_hint)
        review.addWidget(self.placeholders_label, 0, 0, Qt.AlignmentFlag.AlignBottom)
        review.addLayout(findings_head, 0, 1)
        review.addLayout(placeholders, 1, 0)
        review.addLayout(findings, 1, 1)
        review.setColumnStretch(0, 2)
        review.setColumnStretch(1, 3)
        right.addLayout(review)
        result_buttons = QHBoxLayout()
        result_buttons.addWidget(self.export_button)
        result_buttons.addWidget(self.copy_button)
        if self.review_button is not None:
            result_buttons.addWidget(self.review_button)
        result_buttons.addStretch(1)
        right.addLayout(result_buttons)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.inputs_box)
        self.splitter.addWidget(result_box)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([420, 640])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 14)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addSpacing(4)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.run_status)

    def _connect(self) -> None:
        self.type_combo.currentIndexChanged.connect(self._on_type_changed)
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.documents_list.itemChanged.connect(lambda _item: self._on_selection_changed())
        self.create_button.clicked.connect(self.create_draft)
        self.cancel_button.clicked.connect(self.cancel)
        self.body_edit.textChanged.connect(self._on_body_changed)
        self.placeholders_list.itemClicked.connect(self._on_placeholder_activated)
        self.placeholders_list.itemActivated.connect(self._on_placeholder_activated)
        self.findings_list.itemClicked.connect(self._on_finding_activated)
        self.findings_list.itemActivated.connect(self._on_finding_activated)
        self.recheck_button.clicked.connect(self.recheck)
        self.export_button.clicked.connect(self.export_letter)
        self.copy_button.clicked.connect(self.copy_letter)
        if self.review_button is not None:
            self.review_button.clicked.connect(self.submit_for_review)
        # Strg+Eingabe only from the inputs: in the letter text it must not throw the edited draft away.
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self.inputs_box)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.create_draft)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.cancel)
        self._status.state_changed.connect(lambda _state: self._update_controls())

    def _apply_tab_order(self) -> None:
        order: list[QWidget] = [self.type_combo, self.style_combo, *self._field_edits.values(),
                                self.instructions_edit, self.filter_edit, self.documents_list, self.create_button,
                                self.cancel_button, self.body_edit, self.placeholders_list, self.recheck_button,
                                self.findings_list, self.export_button, self.copy_button,
                                *([self.review_button] if self.review_button is not None else [])]
        for first, second in pairwise(order):
            self.setTabOrder(first, second)

    # -- letter types and fields ----------------------------------------------------------
    def _load_types(self) -> None:
        try:
            self._types = list(self.drafter.letter_types())
        except AktenlotseError as error:
            self._types = []
            self.run_status.setText(tr("Die Briefarten können nicht gelesen werden: {message}").format(
                message=error.user_message))
        self.type_combo.blockSignals(True)
        self.type_combo.clear()
        for letter_type in self._types:
            self.type_combo.addItem(letter_type.name_de, letter_type.key)
            self.type_combo.setItemData(self.type_combo.count() - 1, self._type_tip(letter_type),
                                        Qt.ItemDataRole.ToolTipRole)
        self.type_combo.blockSignals(False)
        self._on_type_changed()

    @staticmethod
    def _type_tip(letter_type: LetterType) -> str:
        parts = [p for p in (letter_type.legal_basis, letter_type.description_de) if p]
        return "\n".join(parts)

    @property
    def current_type(self) -> LetterType | None:
        index = self.type_combo.currentIndex()
        return self._types[index] if 0 <= index < len(self._types) else None

    def set_type(self, key: str) -> None:
        index = self.type_combo.findData(key)
        if index < 0:
            raise KeyError(key)
        self.type_combo.setCurrentIndex(index)

    def set_style(self, style: LetterStyle | str) -> None:
        self.style_combo.setCurrentIndex(self.style_combo.findData(LetterStyle(style).value))

    @property
    def current_style(self) -> LetterStyle:
        return LetterStyle(self.style_combo.currentData())

    def _on_type_changed(self, _index: int = -1) -> None:
        self._values.update(self._read_fields())  # what was typed stays for fields the next type has too
        letter_type = self.current_type
        tip = self._type_tip(letter_type) if letter_type is not None else ""
        self.type_combo.setToolTip(tip)
        self.type_combo.setAccessibleDescription(tip)
        basis = letter_type.legal_basis if letter_type is not None else ""
        self.legal_label.setText(tr("Rechtsgrundlage: {basis}").format(basis=basis) if basis else "")
        self.legal_label.setToolTip(letter_type.description_de if letter_type is not None else "")
        self.legal_label.setVisible(bool(basis))
        self._rebuild_fields(letter_type.fields if letter_type is not None else ())

    def _rebuild_fields(self, fields: tuple[LetterField, ...]) -> None:
        while self.fields_form.rowCount():
            self.fields_form.removeRow(0)  # deletes the row's widgets
        self._field_edits.clear()
        self._field_labels.clear()
        for letter_field in fields:
            text = letter_field.label_de + (" *" if letter_field.required else "")
            label = QLabel(f"{text}:")
            edit: QLineEdit | QPlainTextEdit
            value = self._values.get(letter_field.key, "")
            if letter_field.multiline:
                edit = QPlainTextEdit()
                edit.setTabChangesFocus(True)
                edit.setFixedHeight(68)
                edit.setPlainText(value)
                edit.setPlaceholderText(tr(letter_field.hint_de))
                edit.textChanged.connect(self._on_field_edited)
            else:
                edit = QLineEdit(value)
                edit.setPlaceholderText(tr(letter_field.hint_de))
                edit.textChanged.connect(self._on_field_edited)
            edit.setObjectName(f"field_{letter_field.key}")
            edit.setAccessibleName(letter_field.label_de + (tr(" (Pflichtangabe)") if letter_field.required else ""))
            description = tr("Leer: im Brief steht der Platzhalter {placeholder}").format(
                placeholder=letter_field.placeholder)
            if letter_field.hint_de:
                description = f"{letter_field.hint_de}. {description}"
            edit.setAccessibleDescription(description)
            edit.setToolTip(description)
            label.setBuddy(edit)
            self.fields_form.addRow(label, edit)
            self._field_edits[letter_field.key] = edit
            self._field_labels[letter_field.key] = label
        self.required_legend.setVisible(any(f.required for f in fields))
        self._apply_tab_order()
        self._update_missing()

    def _read_fields(self) -> dict[str, str]:
        return {key: (edit.toPlainText() if isinstance(edit, QPlainTextEdit) else edit.text())
                for key, edit in self._field_edits.items()}

    def field_values(self) -> dict[str, str]:
        """The current type's fields, stripped (empty = the letter gets a placeholder)."""
        return {key: value.strip() for key, value in self._read_fields().items()}

    def set_field(self, key: str, value: str) -> None:
        edit = self._field_edits.get(key)
        if edit is None:
            raise KeyError(key)
        if isinstance(edit, QPlainTextEdit):
            edit.setPlainText(value)
        else:
            edit.setText(value)

    def field_edit(self, key: str) -> QLineEdit | QPlainTextEdit | None:
        return self._field_edits.get(key)

    def field_label(self, key: str) -> QLabel | None:
        return self._field_labels.get(key)

    def missing_fields(self) -> list[LetterField]:
        """Required fields that are empty: they become placeholders in the letter."""
        letter_type = self.current_type
        if letter_type is None:
            return []
        values = self.field_values()
        return [f for f in letter_type.fields if f.required and not values.get(f.key)]

    def _on_field_edited(self) -> None:
        self._update_missing()

    def _update_missing(self) -> None:
        missing = self.missing_fields()
        text = (tr("Fehlende Angaben werden als Platzhalter eingefügt: {fields}").format(
            fields=", ".join(f.label_de for f in missing)) if missing else "")
        self.missing_label.setText(text)
        self.missing_label.setAccessibleName(text)
        self.missing_label.setVisible(bool(text))

    # -- case documents -------------------------------------------------------------------
    def choose_files(self) -> list[str]:
        """The file dialog (tests override it)."""
        paths, _ = QFileDialog.getOpenFileNames(self, tr("Aktendokumente wählen"), "",
                                                tr("Dokumente (*.pdf *.docx *.odt *.txt *.md *.html *.htm *.eml);;"
                                                   "Alle Dateien (*)"))
        return list(paths)

    def add_files(self) -> list[str]:
        """Add picked files to the list, ticked. Files outside the allowed roots are refused when the draft is
        made (the service checks the policy), with the reason shown."""
        paths = [p for p in self.choose_files() if p]
        if paths:
            self._picked.update(paths)
            self.refresh_documents()
            self.set_selected_paths(sorted(set(self.selected_paths()) | set(paths)))
        return paths

    def refresh_documents(self) -> None:
        """(Re)read the indexed documents; checked documents stay checked."""
        checked = set(self.selected_paths())
        try:
            records: list[FileRecord] = list(self.drafter.documents())
        except AktenlotseError as error:
            records = []
            self.documents_hint.setText(tr("Die Liste der Dokumente kann nicht gelesen werden: {message}").format(
                message=error.user_message))
        else:
            self.documents_hint.setText(tr(NO_DOCUMENTS_TEXT))
        indexed = fill_documents(self.documents_list, {r.path for r in records if r.status is FileStatus.INDEXED}
                                 | self._picked, checked)
        self.documents_hint.setVisible(not indexed)
        self._apply_filter(self.filter_edit.text())
        self._on_selection_changed()

    def _items(self) -> list[QListWidgetItem]:
        return document_items(self.documents_list)

    def available_paths(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self._items()]

    def selected_paths(self) -> list[str]:
        return checked_paths(self.documents_list)

    def set_selected_paths(self, paths: list[str] | tuple[str, ...]) -> None:
        check_paths(self.documents_list, paths)
        self._on_selection_changed()

    def _apply_filter(self, text: str) -> None:
        filter_documents(self.documents_list, text)

    def _on_selection_changed(self) -> None:
        text = count_text(len(self.selected_paths()))
        self.count_label.setText(text)
        self.count_label.setAccessibleName(text)

    # -- drafting -------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._task is not None

    @property
    def current_draft(self) -> LetterDraft | None:
        return self._current

    def body_text(self) -> str:
        return self.body_edit.toPlainText()

    def is_edited(self) -> bool:
        """The caseworker changed the body since the draft was shown (or last checked)."""
        return self._current is not None and self.body_text() != self._current.body

    def confirm_discard(self) -> bool:
        """Overridable (tests): may the edited draft be replaced by a new one?"""
        answer = QMessageBox.question(
            self, tr("Entwurf ersetzen?"),
            tr("Sie haben den Brieftext bearbeitet. Ein neuer Entwurf ersetzt Ihre Änderungen. Fortfahren?"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def build_request(self) -> LetterRequest | None:
        letter_type = self.current_type
        if letter_type is None:
            return None
        return LetterRequest(type_key=letter_type.key, fields=self.field_values(),
                             instructions=self.instructions_edit.toPlainText().strip(),
                             paths=tuple(self.selected_paths()), style=self.current_style)

    def create_draft(self) -> Task | None:
        """Start drafting on the runner; None if nothing was started (model not ready, already running …)."""
        if self._task is not None or self._export_task is not None:
            return None
        reason = self._status.block_reason()
        if reason is not None:
            self.run_status.setText(tr("Entwerfen ist nicht möglich: {reason}").format(reason=reason))
            return None
        request = self.build_request()
        if request is None:
            self.run_status.setText(tr("Es ist keine Briefart verfügbar."))
            return None
        if self.is_edited() and not self.confirm_discard():
            return None
        self._clear_result()
        self._streamed = False
        self._new_version = False
        self.body_edit.setReadOnly(True)
        self.banner.setVisible(True)
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText(tr("Der Brief wird entworfen …"))
        self.progress_row.setVisible(True)
        self.run_status.setText(tr("Entwurf „{name}“ wird erstellt …").format(
            name=self.current_type.name_de if self.current_type else request.type_key))
        self._started_at = time.monotonic()
        drafter = self.drafter
        task = self.runner.start(lambda cancel: drafter.draft(request, cancel), name="Brief entwerfen")
        self._task = task
        task.bind(self)
        self._update_controls()
        self.drafting_started.emit(task)
        return task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.run_status.setText(tr("Wird abgebrochen …"))
        elif self._export_task is not None:
            self._export_task.cancel()

    def _on_progress(self, progress: Progress) -> None:
        show_progress(self.progress_bar, self.progress_label, progress)
        if self._streamed:
            self._new_version = True  # a refine round: the next text is a new version of the body

    def _on_partial_result(self, text: str) -> None:
        if self._new_version:
            self._new_version = False
            self.body_edit.clear()
        self._streamed = True
        bar = self.body_edit.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.body_edit.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)  # a plain-text editor: nothing the model writes is markup
        if follow:
            bar.setValue(bar.maximum())

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self._started_at:.1f}".replace(".", ",")

    def _on_result(self, value: object) -> None:
        if not isinstance(value, LetterDraft):
            self._on_failed(AktenlotseError("Der Entwurf hat ein unerwartetes Format.", repr(type(value))))
            return
        self._outcome = "result"
        self.progress_row.setVisible(False)
        self.show_draft(value)
        self.run_status.setText(tr("Fertig nach {seconds} s. Bitte prüfen Sie den Entwurf und füllen Sie die "
                                   "Platzhalter aus.").format(seconds=self._elapsed()))
        self.draft_ready.emit(value)

    def _on_failed(self, error: AktenlotseError) -> None:
        self._outcome = "failed"
        self._clear_result(tr(FAILED_TEXT))
        self.progress_row.setVisible(False)
        self.run_status.setText(tr("Fehlgeschlagen: {message}").format(message=error.user_message))
        show_error(self.window(), error)

    def _on_cancelled(self) -> None:
        self._outcome = "cancelled"
        self._clear_result(tr(CANCELLED_TEXT))  # nothing of the cancelled run stays
        self.progress_row.setVisible(False)
        self.run_status.setText(tr("Abgebrochen nach {seconds} s.").format(seconds=self._elapsed()))

    def _on_finished(self) -> None:
        self._task = None
        self._streamed = False
        self._update_controls()
        self.drafting_finished.emit(self._outcome)

    # -- showing a draft ------------------------------------------------------------------
    def _clear_result(self, notice: str = "") -> None:
        self._current = None
        self._handed_over = False
        self.highlighter.set_findings([])
        self.body_edit.blockSignals(True)
        self.body_edit.clear()
        self.body_edit.blockSignals(False)
        self.body_edit.setReadOnly(True)
        self.body_edit.setPlaceholderText(notice or tr(EMPTY_TEXT))
        self.body_edit.setAccessibleDescription(notice or tr(DRAFT_MARKER))
        self.banner.setVisible(False)
        for label in (self.head_label, self.closing_label):
            label.clear()
            label.setVisible(False)
        self.body_label.setVisible(False)
        self.replaced_label.clear()
        self.replaced_label.setVisible(False)
        self._fill_placeholders([])
        self._fill_findings([])
        self._update_controls()

    def show_draft(self, draft: LetterDraft) -> None:
        """Show a finished draft: escaped head and closing, the editable body, placeholders and findings."""
        self._current = draft
        self._handed_over = False  # a newly generated letter can be handed over again
        self.banner.setVisible(True)
        self.head_label.setText(head_html(draft))
        self.head_label.setVisible(True)
        self.closing_label.setText(closing_html(draft))
        self.closing_label.setVisible(True)
        self.body_label.setVisible(True)
        self.body_edit.blockSignals(True)
        self.body_edit.setPlainText(draft.body)
        self.body_edit.blockSignals(False)
        self.body_edit.setReadOnly(False)
        self.body_edit.setPlaceholderText("")
        self.highlighter.set_findings(draft.plain_findings)
        if draft.replaced_facts:
            text = tr("Nicht aus Ihren Angaben belegt und durch Platzhalter ersetzt: {facts}").format(
                facts=", ".join(f"„{fact}“" for fact in draft.replaced_facts))
            self.replaced_label.setText("⚠ " + text)
            self.replaced_label.setAccessibleName(text)
            self.replaced_label.setVisible(True)
        else:
            self.replaced_label.clear()
            self.replaced_label.setVisible(False)
        self._refresh_review(draft)
        self._update_controls()

    def _open_placeholders(self) -> list[str]:
        """The placeholders in the draft as it is now: head, signature and the edited body."""
        draft = self._current
        if draft is None:
            return []
        return replace(draft, body=self.body_text()).placeholders

    def _refresh_review(self, draft: LetterDraft) -> None:
        self._fill_placeholders(self._open_placeholders())
        self._fill_findings(draft.plain_findings)
        description = f"{tr(DRAFT_MARKER)}. {self.placeholders_label.text()}"
        self.body_edit.setAccessibleDescription(description)

    def _fill_placeholders(self, placeholders: list[str]) -> None:
        self.placeholders_list.clear()
        body = self.body_text()
        for text in placeholders:
            item = QListWidgetItem(text)
            item.setData(FIELD_ROLE, text)
            if text not in body:
                item.setToolTip(tr("Steht im Briefkopf oder in der Unterschrift: bitte die Angabe links ergänzen "
                                   "und den Entwurf neu erstellen."))
                item.setForeground(QBrush(QColor(MUTED)))
            else:
                item.setToolTip(tr("Klick markiert den Platzhalter im Brieftext"))
            self.placeholders_list.addItem(item)
        title = tr("Offene &Platzhalter ({n})").format(n=len(placeholders))
        self.placeholders_label.setText(title)
        self.placeholders_list.setAccessibleName(title.replace("&", ""))
        shown = self._current is not None
        self.placeholders_label.setVisible(shown)
        self.placeholders_list.setVisible(shown and bool(placeholders))
        self.placeholders_hint.setText(tr("Keine offenen Platzhalter.") if shown and not placeholders else "")
        self.placeholders_hint.setVisible(shown and not placeholders)

    def _fill_findings(self, findings: list[PlainFinding]) -> None:
        self.findings_list.clear()
        for finding in findings:
            quote = " ".join(finding.text.split())
            if len(quote) > 70:
                quote = quote[:69].rstrip() + " …"
            item = QListWidgetItem(f"{finding.message_de}: „{quote}“")
            item.setData(Qt.ItemDataRole.UserRole, (finding.start, finding.end, finding.text))
            item.setToolTip(f"<p>{html.escape(finding.message_de)}: „{html.escape(finding.text)}“</p>")
            self.findings_list.addItem(item)
        title = tr("Hinweise zur Verständlichkeit ({n})").format(n=len(findings))
        self.findings_label.setText(title)
        self.findings_list.setAccessibleName(title)
        shown = self._current is not None
        self.findings_label.setVisible(shown)
        self.findings_list.setVisible(shown and bool(findings))
        self.findings_hint.setText(tr("Keine Hinweise.") if shown and not findings else "")
        self.findings_hint.setVisible(shown and not findings)

    def _on_body_changed(self) -> None:
        if self._current is not None and self._task is None:
            self._fill_placeholders(self._open_placeholders())

    def _on_placeholder_activated(self, item: QListWidgetItem) -> None:
        self.select_in_body(str(item.data(FIELD_ROLE)))

    def select_in_body(self, text: str) -> bool:
        """Select the next occurrence of `text` in the body editor (wrapping around); False if it is not there."""
        document = self.body_edit.document()
        options = QTextDocument.FindFlag.FindCaseSensitively
        found = document.find(text, self.body_edit.textCursor(), options)
        if found.isNull():
            found = document.find(text, 0, options)
        if found.isNull():
            key = next((f.key for f in (self.current_type.fields if self.current_type else ())
                        if f.placeholder == text), None)
            edit = self._field_edits.get(key) if key else None
            self.run_status.setText(tr("„{text}“ steht nicht im Brieftext, sondern im Briefkopf oder in der "
                                       "Unterschrift: bitte die Angabe links ergänzen und den Entwurf neu erstellen.")
                                    .format(text=text))
            if edit is not None:
                edit.setFocus()
            return False
        self.body_edit.setTextCursor(found)
        self.body_edit.ensureCursorVisible()
        self.body_edit.setFocus()
        return True

    def _on_finding_activated(self, item: QListWidgetItem) -> None:
        start, end, text = item.data(Qt.ItemDataRole.UserRole)
        body = self.body_text()
        if body[start:end] != text:
            start = body.find(text)
            if start < 0:
                self.run_status.setText(tr("Die Stelle wurde inzwischen geändert. Bitte prüfen Sie erneut."))
                return
            end = start + len(text)
        cursor = QTextCursor(self.body_edit.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        self.body_edit.setTextCursor(cursor)
        self.body_edit.ensureCursorVisible()
        self.body_edit.setFocus()

    def recheck(self) -> LetterDraft | None:
        """Check the edited body again (placeholders and plain-language findings); None if there is no draft."""
        draft = self._current
        if draft is None or self._task is not None:
            return None
        try:
            checked = self.drafter.recheck(draft, self.body_text())
        except AktenlotseError as error:
            self.run_status.setText(tr("Die Prüfung ist fehlgeschlagen: {message}").format(
                message=error.user_message))
            show_error(self.window(), error)
            return None
        self._current = checked
        self.highlighter.set_findings(checked.plain_findings)
        self._refresh_review(checked)
        findings = len(checked.plain_findings)
        self.run_status.setText(tr("Geprüft: {placeholders}, {findings}.").format(
            placeholders=placeholders_text(len(checked.placeholders)),
            findings=tr("1 Hinweis zur Verständlichkeit") if findings == 1
            else tr("{n} Hinweise zur Verständlichkeit").format(n=findings)))
        return checked

    # -- export and copy ------------------------------------------------------------------
    def choose_export_path(self) -> str:
        """Overridable (tests): where to save the letter, "" if the person cancelled."""
        key = self._current.letter_type.key if self._current is not None else "brief"
        return self.ask_docx_path(tr("Brief als Entwurf speichern"), default_export_name(key))

    def export_letter(self) -> Task | None:
        """Check the edited body, ask for a path and write the draft DOCX on the runner; None if not started."""
        if self._current is None or self._task is not None or self._export_task is not None:
            return None
        chosen = self.choose_export_path()
        if not chosen:
            return None
        draft = self.recheck()
        if draft is None:
            return None
        drafter = self.drafter
        open_count = len(draft.placeholders)
        return self.start_export(
            chosen, lambda path: drafter.export_letter(draft, path), name="Brief exportieren",
            saving=tr("Brief wird gespeichert …"), saved=lambda path: self._saved_text(path, open_count),
            failed=tr("Der Brief wurde nicht gespeichert: {message}"))

    @staticmethod
    def _saved_text(path: object, open_count: int) -> str:
        text = tr("Als Entwurf gespeichert: {path} – Kopf- und Fußzeile tragen „{line}“.").format(
            path=path, line=DRAFT_LINE)
        if open_count:
            text += " " + tr("{placeholders} – bitte vor dem Versand ausfüllen.").format(
                placeholders=placeholders_text(open_count))
        return text

    def copy_letter(self) -> bool:
        """The whole letter with the edited body and the draft markings into the clipboard."""
        draft = self._current
        if draft is None or self._task is not None:
            return False
        edited = replace(draft, body=self.body_text())
        note = tr("{placeholders} – bitte vor dem Versand ausfüllen.").format(
            placeholders=placeholders_text(len(edited.placeholders))) if edited.placeholders else ""
        actions.copy_as_draft(self.run_status, edited.as_text(), note)
        return True

    # -- review ---------------------------------------------------------------------------
    def submit_for_review(self) -> str | None:
        """Hand the shown letter over to the review workflow ("Entwürfe") with the body as it is in the editor now
        (the same text copy and export use); the draft id, None if nothing was handed over (no letter, something
        running, already handed over, or the workflow refused – the error is shown)."""
        draft = self._current
        if (draft is None or self.review is None or self._handed_over or self._task is not None
                or self._export_task is not None):
            return None
        review = self.review
        draft_id = actions.hand_over(self.run_status, lambda: review.submit(draft, edited_body=self.body_text()),
                                     self._present_error)
        if draft_id is None:
            return None
        self._handed_over = True  # further edits happen under "Entwürfe"; a new letter re-enables the button
        self._update_controls()
        return draft_id

    def _present_error(self, error: AktenlotseError) -> None:
        show_error(self.window(), error)  # looked up here: tests replace this module's show_error

    # -- state ----------------------------------------------------------------------------
    def _update_controls(self) -> None:
        reason = self._status.block_reason()
        running = self._task is not None
        self.create_button.setEnabled(reason is None and not running and self.current_type is not None)
        self.cancel_button.setEnabled(running)
        for widget in (self.type_combo, self.style_combo, self.fields_box, self.instructions_edit,
                       self.filter_edit, self.documents_list):
            widget.setEnabled(not running)
        has_draft = self._current is not None and not running
        self.export_button.setEnabled(has_draft and self._export_task is None)
        self.copy_button.setEnabled(has_draft)
        self.recheck_button.setEnabled(has_draft)
        if self.review_button is not None:
            self.review_button.setEnabled(has_draft and self._export_task is None and not self._handed_over)
        text, role = actions.model_block(self._status, reason, tr("Entwerfen ist nicht möglich: {reason}"))
        actions.show_reason(self.reason_label, self.create_button, text, role,
                            tip=tr("Entwurf mit den Angaben erstellen (Strg+Eingabe)"),
                            description=tr("Erstellt einen Briefentwurf (Strg+Eingabe)"))
