"""The "Zusammenfassen" workspace: choose indexed documents, summarise them hierarchically, review the cited draft.

Like the Nachschlagen page, everything the model wrote is untrusted text: the final step streams as plain text and
the finished summary is re-rendered with every character HTML-escaped; only the page adds markup (headings, bullet
lists, citation links, flag marks). The draft banner is a label set by the page from `DRAFT_MARKER`.
"""

from __future__ import annotations

import html
import os
import time
from datetime import date
from itertools import pairwise
from pathlib import PurePath
from typing import cast

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QKeySequence,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.documents import FileRecord, FileStatus
from app.core.drafts import DraftReview
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE
from app.core.lookup import DRAFT_MARKER, Flag, FlagKind, Source
from app.core.progress import Progress
from app.core.summary import (
    Summary,
    SummaryLength,
    SummaryPoint,
    SummaryRequest,
    SummaryStep,
)
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
from app.ui.lookup_facade import LookupFacade
from app.ui.lookup_page import AnswerView, flag_summary
from app.ui.model_status import ModelStatus
from app.ui.passage_viewer import PassageViewer
from app.ui.style import (
    ACCENT,
    DRAFT_INK,
    ERROR_INK,
    FACT_BG,
    FACT_LINE,
    FLAG_BG,
    MUTED,
)
from app.ui.summary_facade import SummaryFacade
from app.ui.task_runner import Task, TaskRunner, show_progress

PREVIEW_CHARS = 160
CANCELLED_TEXT = "Abgebrochen – es wurde keine Zusammenfassung erstellt."
FAILED_TEXT = "Es wurde keine Zusammenfassung erstellt."
NO_POINTS_TEXT = "(keine Angaben gefunden)"
NO_DOCUMENTS_TEXT = ("Noch keine indexierten Dokumente. Bitte indexieren Sie zuerst unter „Bibliothek“ einen "
                     "freigegebenen Ordner und klicken Sie dann auf „Aktualisieren“.")


def count_text(n: int) -> str:
    if n == 0:
        return tr("Kein Dokument ausgewählt")
    if n == 1:
        return tr("1 Dokument ausgewählt")
    return tr("{n} Dokumente ausgewählt").format(n=n)


def steps_text(summary: Summary) -> str:
    """"Hierarchisch zusammengefasst: 3 Teilschritte, 1 Zusammenführung"."""
    maps = (tr("1 Teilschritt") if summary.map_steps == 1
            else tr("{n} Teilschritte").format(n=summary.map_steps))
    reduces = (tr("1 Zusammenführung") if summary.reduce_steps == 1
               else tr("{n} Zusammenführungen").format(n=summary.reduce_steps))
    return tr("Hierarchisch zusammengefasst: {maps}, {reduces}").format(maps=maps, reduces=reduces)


def step_text(number: int, step: SummaryStep) -> str:
    """"Schritt 2: Teil 2 von 3 zusammengefasst" / "Schritt 4: Zusammenführen"."""
    if step.kind == "map":
        what = tr("Teil {i} von {n} zusammengefasst").format(i=step.index, n=step.total)
    elif step.total > 1:
        what = tr("Zusammenführen ({i} von {n})").format(i=step.index, n=step.total)
    else:
        what = tr("Zusammenführen")
    return tr("Schritt {number}: {what}").format(number=number, what=what)


def default_export_name(day: date | None = None) -> str:
    return f"Vermerk_Zusammenfassung_{(day or date.today()).isoformat()}.docx"


def review_flags(summary: Summary) -> list[Flag]:
    """The summary's flags plus one "Aussage ohne Quellenangabe" for every point without references that the
    service did not flag itself – so the summary line counts what the page marks."""
    flags: list[Flag] = []
    for index, point in enumerate(summary.points):
        flags += point.flags
        if not point.refs and not any(f.kind is FlagKind.UNCITED_SENTENCE for f in point.flags):
            flags.append(Flag(FlagKind.UNCITED_SENTENCE, index, point.text, 0, len(point.text)))
    return flags


def _tip(flag: Flag) -> str:
    label = tr(flag.kind.label_de)
    return f"{label}: {flag.detail}" if flag.detail else label


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + " …"


def render_point_html(point: SummaryPoint, known: set[int]) -> str:
    """One point: escaped text, flagged ranges marked, then its references as `cite:n` links.

    A point without references (or a range flagged "Aussage ohne Quellenangabe") gets the amber background and a
    "⚠" in front; a fact not in the sources is light red (wavy underline added by `AnswerView`); a reference to
    a passage that does not exist is red text, not a link. Every mark has its German label as tooltip.
    """
    text = point.text
    size = len(text)

    def clamp(a: int, b: int) -> tuple[int, int]:
        a, b = max(0, min(a, size)), max(0, min(b, size))
        return (a, b) if a <= b else (b, a)

    uncited: list[tuple[int, int, Flag]] = []
    marks: list[tuple[int, int, Flag]] = []
    for flag in point.flags:
        (uncited if flag.kind in (FlagKind.UNCITED_SENTENCE, FlagKind.NOT_SUPPORTED) else marks).append(
            (*clamp(flag.start, flag.end), flag))
    if not point.refs and not uncited:
        uncited.append((0, size, Flag(FlagKind.UNCITED_SENTENCE, 0, text, 0, size)))

    cuts = {0, size}
    for a, b, _flag in (*uncited, *marks):
        cuts.update((a, b))
    out: list[str] = []
    warned: set[int] = set()
    for a, b in pairwise(sorted(cuts)):
        in_uncited = next((u for u in uncited if u[0] <= a and b <= u[1] and u[0] < u[1]), None)
        if in_uncited is not None and id(in_uncited) not in warned:
            warned.add(id(in_uncited))
            out.append(f'<span style="background-color:{FLAG_BG}; color:{DRAFT_INK}; font-weight:700;" '
                       f'title="{html.escape(_tip(in_uncited[2]))}">⚠&nbsp;</span>')
        piece = html.escape(text[a:b]).replace("\n", "<br>")
        styles: list[str] = []
        tips: list[str] = []
        if in_uncited is not None:
            styles.append(f"background-color:{FLAG_BG}; color:{DRAFT_INK};")
            tips.append(_tip(in_uncited[2]))
        for ma, mb, flag in marks:
            if ma <= a and b <= mb and ma < mb:
                styles.append(f"background-color:{FACT_BG}; color:{ERROR_INK}; text-decoration:underline;")
                tips.append(_tip(flag))
        if styles:
            title = html.escape(" · ".join(dict.fromkeys(tips)))
            out.append(f'<span style="{" ".join(styles)}" title="{title}">{piece}</span>')
        else:
            out.append(piece)
    if not size and not point.refs:  # an empty point still shows its warning
        out.append(f'<span style="background-color:{FLAG_BG}; color:{DRAFT_INK}; font-weight:700;" '
                   f'title="{html.escape(tr(FlagKind.UNCITED_SENTENCE.label_de))}">⚠</span>')
    for number in point.refs:
        if number in known:
            title = html.escape(tr("Quelle {n} anzeigen").format(n=number))
            out.append(f' <a href="cite:{number}" style="color:{ACCENT}; font-weight:700; text-decoration:none;" '
                       f'title="{title}">[{number}]</a>')
        else:
            label = html.escape(tr(FlagKind.UNKNOWN_CITATION.label_de))
            out.append(f' <span style="color:{FACT_LINE}; font-weight:700; background-color:{FACT_BG};" '
                       f'title="{label}">[{number}]</span>')
    return "".join(out)


def render_summary_html(summary: Summary) -> str:
    """Section titles as headings, points as bullet lists; all text from the model escaped."""
    known = {p.number for p in summary.passages}
    parts: list[str] = []
    for section in summary.sections:
        parts.append(f'<h3 style="margin-top:10px; margin-bottom:4px;">{html.escape(section.title)}</h3>')
        if section.points:
            items = "".join(f'<li style="margin-bottom:4px;">{render_point_html(p, known)}</li>'
                            for p in section.points)
            parts.append(f'<ul style="margin-top:0px;">{items}</ul>')
        else:
            parts.append(f'<p style="color:{MUTED}; font-style:italic; margin-left:12px;">'
                         f"{html.escape(tr(NO_POINTS_TEXT))}</p>")
    return "".join(parts)


class _CompactList(QListWidget):
    """The document list starts about five rows tall (the splitter lets the person make it taller)."""

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), 120)


class _ButtonFlow(QLayout):
    """Buttons in a row that wraps to a second line when the column is too narrow for all of them – so the
    result column never forces the cited passages beside it down to a sliver."""

    def __init__(self, spacing: int = 6) -> None:
        super().__init__()
        self._items: list[QLayoutItem] = []
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(spacing)

    def addItem(self, item: QLayoutItem) -> None:  # Qt's name
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # Qt's name
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # Qt's name
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # Qt's name
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # Qt's name
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # Qt's name
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # Qt's name: everything on one line
        shown = [item.sizeHint() for item in self._items if not item.isEmpty()]
        if not shown:
            return QSize(0, 0)
        return QSize(sum(h.width() for h in shown) + self.spacing() * (len(shown) - 1),
                     max(h.height() for h in shown))

    def minimumSize(self) -> QSize:  # Qt's name: the widest button alone
        size = QSize(0, 0)
        for item in self._items:
            if not item.isEmpty():
                size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint()
            if line and x + hint.width() > rect.x() + rect.width():
                x, y, line = rect.x(), y + line + self.spacing(), 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self.spacing()
            line = max(line, hint.height())
        return y + line - rect.y()


class SummaryPage(QWidget, actions.DraftExport):
    """`SummaryPage(summarizer, status, runner, parent=None, review=None)`: one summary at a time through the
    TaskRunner; with a `review` workflow a finished summary can be handed over to "Entwürfe"."""

    summarizing_started = Signal(object)  # Task
    step_reported = Signal(object)  # SummaryStep, as each model call finishes
    summary_ready = Signal(object)  # the final Summary
    summarizing_finished = Signal(str)  # "result" | "failed" | "cancelled"
    viewer_opened = Signal(object)  # PassageViewer
    export_finished = Signal(str)  # "result" | "failed" | "cancelled"

    def __init__(
        self,
        summarizer: SummaryFacade,
        status: ModelStatus,
        runner: TaskRunner,
        parent: QWidget | None = None,
        review: DraftReview | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page-zusammenfassen")
        self.summarizer = summarizer
        self.runner = runner
        self.review = review
        self._handed_over = False  # the shown summary went to "Entwürfe" (once per summary)
        self._status = status
        self._task: Task | None = None
        self._export_task: Task | None = None
        self._outcome = ""
        self._started_at = 0.0
        self._steps = 0
        self._streaming = False
        self._export_dir = ""
        self._export_outcome = ""
        self._current: Summary | None = None
        self.viewer: PassageViewer | None = None

        heading = QLabel(tr("Zusammenfassen"))
        heading.setProperty("role", "heading")
        heading.setAccessibleName(tr("Zusammenfassen"))
        intro = QLabel(tr(
            "Wählen Sie Dokumente oder eine ganze Akte. Jeder Punkt nennt seine Quellen [1], [2] … – ein Klick "
            "zeigt die Textstelle. Die Zusammenfassung ist ein KI-Vorschlag und muss geprüft werden."
        ))
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")
        self._build_inputs()
        self._build_progress()
        self._build_result()
        self._build_layout(heading, intro)
        self._connect()
        self.refresh_documents()
        self._update_controls()

    # -- building -------------------------------------------------------------------------
    def _build_inputs(self) -> None:
        self.documents_label = QLabel(tr("&Dokumente:"))
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("summaryFilter")
        self.filter_edit.setPlaceholderText(tr("Liste filtern (Name oder Ordner) …"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName(tr("Dokumente filtern"))
        self.filter_edit.setAccessibleDescription(tr("Zeigt nur Dokumente, deren Name oder Ordner den Text enthält"))
        self.documents_list = _CompactList()
        self.documents_list.setObjectName("summaryDocuments")
        self.documents_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.documents_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.documents_list.setUniformItemSizes(True)
        self.documents_list.setAccessibleName(tr("Dokumente zum Zusammenfassen"))
        self.documents_list.setAccessibleDescription(tr(
            "Indexierte Dokumente. Leertaste hakt das markierte Dokument an oder ab."
        ))
        self.documents_label.setBuddy(self.documents_list)
        self.documents_hint = QLabel()
        self.documents_hint.setObjectName("summaryDocumentsHint")
        self.documents_hint.setProperty("role", "muted")
        self.documents_hint.setWordWrap(True)
        self.documents_hint.setVisible(False)
        self.folder_button = QPushButton(tr("&Ordner / Akte wählen …"))
        self.folder_button.setObjectName("summaryChooseFolder")
        self.folder_button.setAccessibleName(tr("Ordner oder Akte wählen"))
        self.folder_button.setAccessibleDescription(tr("Hakt alle indexierten Dokumente in einem Ordner an"))
        self.refresh_button = QPushButton(tr("Aktualis&ieren"))
        self.refresh_button.setObjectName("summaryRefresh")
        self.refresh_button.setAccessibleName(tr("Aktualisieren"))
        self.refresh_button.setAccessibleDescription(tr("Liest die Liste der indexierten Dokumente neu"))
        self.count_label = QLabel(count_text(0))
        self.count_label.setObjectName("summaryCount")
        self.count_label.setAccessibleName(count_text(0))

        self.length_label = QLabel(tr("&Länge:"))
        self.length_combo = QComboBox()
        self.length_combo.setObjectName("summaryLength")
        for length in SummaryLength:
            self.length_combo.addItem(tr(length.label_de), length.value)
        self.length_combo.setCurrentIndex(list(SummaryLength).index(SummaryLength.STANDARD))
        self.length_combo.setAccessibleName(tr("Länge der Zusammenfassung"))
        self.length_combo.setAccessibleDescription(tr(
            "Kurz: nur Kernpunkte. Standard und Ausführlich: gegliedert nach Sachverhalt, Anliegen, Fristen, "
            "Beteiligten und offenen Punkten"
        ))
        self.length_label.setBuddy(self.length_combo)
        self.focus_label = QLabel(tr("Sch&werpunkt (optional):"))
        self.focus_edit = QLineEdit()
        self.focus_edit.setObjectName("summaryFocus")
        self.focus_edit.setPlaceholderText(tr("z. B.: Worum geht es dem Antragsteller?"))
        self.focus_edit.setAccessibleName(tr("Schwerpunkt"))
        self.focus_edit.setAccessibleDescription(tr("Optional: eine Frage, auf die die Zusammenfassung achten soll"))
        self.focus_label.setBuddy(self.focus_edit)

        self.summarize_button = QPushButton(tr("&Zusammenfassen"))
        self.summarize_button.setObjectName("summarizeButton")
        self.summarize_button.setProperty("role", "primary")
        self.summarize_button.setAccessibleName(tr("Zusammenfassen"))
        self.cancel_button = QPushButton(tr("&Abbrechen"))
        self.cancel_button.setObjectName("summaryCancel")
        self.cancel_button.setAccessibleName(tr("Abbrechen"))
        self.cancel_button.setAccessibleDescription(tr("Laufende Zusammenfassung abbrechen (Esc)"))
        self.cancel_button.setToolTip(tr("Zusammenfassung abbrechen (Esc)"))
        self.reason_label = actions.reason_label("summaryBlockedReason")

    def _build_progress(self) -> None:
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("summaryProgress")
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setAccessibleName(tr("Fortschritt der Zusammenfassung"))
        self.progress_label = QLabel()
        self.progress_label.setObjectName("summaryProgressText")
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        self.progress_label.setWordWrap(True)
        self.step_label = QLabel()
        self.step_label.setObjectName("summaryStep")
        self.step_label.setProperty("role", "muted")
        self.step_label.setTextFormat(Qt.TextFormat.PlainText)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)
        row.addWidget(self.progress_bar, 2)
        row.addWidget(self.progress_label, 3)
        row.addWidget(self.step_label, 2)
        self.progress_row.setVisible(False)

    def _build_result(self) -> None:
        self.result_label = QLabel(tr("Zusammenfassun&g:"))
        self.banner = QLabel(tr(DRAFT_MARKER))
        self.banner.setObjectName("draftBanner")
        self.banner.setProperty("role", "draft-banner")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setAccessibleName(tr(DRAFT_MARKER))
        self.result_view = AnswerView()
        self.result_view.setObjectName("summaryResult")
        self.result_view.setAccessibleName(tr("Zusammenfassung"))
        self.result_view.setAccessibleDescription(tr(DRAFT_MARKER))
        self.result_view.setPlaceholderText(tr(
            "Die Zusammenfassung erscheint hier."
        ))
        self.result_label.setBuddy(self.result_view)
        self.flags_label = QLabel()
        self.flags_label.setObjectName("summaryFlags")
        self.flags_label.setTextFormat(Qt.TextFormat.PlainText)  # quotes model text
        self.flags_label.setWordWrap(True)
        self.flags_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.flags_label.setVisible(False)
        self.omitted_label = QLabel()
        self.omitted_label.setObjectName("summaryOmitted")
        self.omitted_label.setProperty("role", "warning")
        self.omitted_label.setTextFormat(Qt.TextFormat.PlainText)  # file names come from documents
        self.omitted_label.setWordWrap(True)
        self.omitted_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.omitted_label.setVisible(False)
        self.steps_label = QLabel()
        self.steps_label.setObjectName("summarySteps")
        self.steps_label.setProperty("role", "muted")
        self.steps_label.setVisible(False)

        self.export_button = actions.action_button(
            tr("Als &Vermerk exportieren (Entwurf) …"), "exportMemo", tr("Als Vermerk exportieren (Entwurf)"),
            tr("Speichert die Zusammenfassung als Word-Vermerk mit der Kennzeichnung „{line}“")
            .format(line=DRAFT_LINE))
        self.copy_button = actions.action_button(
            tr("Als Entwurf &kopieren"), "copySummary", tr("Als Entwurf kopieren"),
            tr("Kopiert die Zusammenfassung mit Quellen und dem Entwurfsvermerk in die Zwischenablage"))
        self.review_button: QPushButton | None = None
        if self.review is not None:
            self.review_button = actions.review_button(
                tr("Zur &Prüfung übergeben"),
                tr("Legt die Zusammenfassung als Entwurf zur Prüfung unter „Entwürfe“ ab"))

        self.sources_label = QLabel(tr("&Quellen:"))
        self.sources_list = QListWidget()
        self.sources_list.setObjectName("summarySources")
        self.sources_list.setWordWrap(True)
        self.sources_list.setSpacing(2)  # no horizontal item padding in the style: it would clip wrapped text
        self.sources_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.sources_list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.sources_list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.sources_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Always there: a scroll bar appearing later narrows the items after their wrapped height was measured.
        self.sources_list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.sources_list.setAccessibleName(tr("Quellen"))
        self.sources_list.setAccessibleDescription(tr(
            "Zitierte Textstellen. Eingabetaste oder Doppelklick zeigt die Stelle im Dokument."
        ))
        self.sources_label.setBuddy(self.sources_list)
        self.sources_hint = QLabel(tr("Hier erscheinen die Textstellen, auf die sich die Zusammenfassung stützt."))
        self.sources_hint.setObjectName("summarySourcesHint")
        self.sources_hint.setProperty("role", "muted")
        self.sources_hint.setWordWrap(True)

        self.run_status = QLabel()
        self.run_status.setObjectName("summaryStatus")
        self.run_status.setProperty("role", "muted")
        self.run_status.setWordWrap(True)
        self.run_status.setTextFormat(Qt.TextFormat.PlainText)  # may quote a path
        self.run_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _build_layout(self, heading: QLabel, intro: QLabel) -> None:
        # Top: the document chooser (left) and the options with the buttons (right).
        chooser = QVBoxLayout()
        chooser.setSpacing(6)
        label_row = QHBoxLayout()
        label_row.addWidget(self.documents_label)
        label_row.addWidget(self.filter_edit, 1)
        chooser.addLayout(label_row)
        chooser.addWidget(self.documents_list, 1)
        chooser.addWidget(self.documents_hint)
        chooser_buttons = QHBoxLayout()
        chooser_buttons.addWidget(self.folder_button)
        chooser_buttons.addWidget(self.refresh_button)
        chooser_buttons.addSpacing(8)
        chooser_buttons.addWidget(self.count_label, 1)
        chooser.addLayout(chooser_buttons)

        options = QGridLayout()
        options.setHorizontalSpacing(10)
        options.setVerticalSpacing(8)
        options.addWidget(self.length_label, 0, 0)
        options.addWidget(self.length_combo, 0, 1)
        options.addWidget(self.focus_label, 1, 0, 1, 2)
        options.addWidget(self.focus_edit, 2, 0, 1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summarize_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        options.addLayout(buttons, 3, 0, 1, 2)
        options.addWidget(self.reason_label, 4, 0, 1, 2)
        options.setColumnStretch(1, 1)
        options.setRowStretch(5, 1)

        top = QHBoxLayout()
        top.setSpacing(24)
        top.addLayout(chooser, 3)
        top.addLayout(options, 2)
        self.top_box = QWidget()
        self.top_box.setLayout(top)
        top.setContentsMargins(0, 0, 0, 0)
        self.documents_list.setMinimumHeight(72)
        self.top_box.setMaximumHeight(360)

        # Bottom: the result (left) and the cited passages (right).
        result_box = QWidget()
        result_column = QVBoxLayout(result_box)
        result_column.setContentsMargins(0, 0, 8, 0)
        result_column.setSpacing(6)
        result_column.addWidget(self.result_label)
        draft = QVBoxLayout()
        draft.setSpacing(0)
        draft.addWidget(self.banner)
        draft.addWidget(self.result_view, 1)
        result_column.addLayout(draft, 1)
        result_column.addWidget(self.flags_label)
        result_column.addWidget(self.omitted_label)
        result_column.addWidget(self.steps_label)
        result_buttons = _ButtonFlow()
        result_buttons.addWidget(self.export_button)
        result_buttons.addWidget(self.copy_button)
        if self.review_button is not None:
            result_buttons.addWidget(self.review_button)
        result_column.addLayout(result_buttons)

        sources_box = QWidget()
        sources_column = QVBoxLayout(sources_box)
        sources_column.setContentsMargins(8, 0, 0, 0)
        sources_column.setSpacing(6)
        sources_column.addWidget(self.sources_label)
        sources_column.addWidget(self.sources_hint)
        sources_column.addWidget(self.sources_list, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(result_box)
        self.splitter.addWidget(sources_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        # With the hand-over button the three result buttons fit on one line at 1280 px; narrower, they wrap.
        self.splitter.setSizes([640, 340] if self.review_button is not None else [600, 360])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 14)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addSpacing(4)
        # Inputs above, result below; the person can give the result more room by dragging the handle.
        lower = QWidget()
        lower_column = QVBoxLayout(lower)
        lower_column.setContentsMargins(0, 0, 0, 0)
        lower_column.setSpacing(8)
        lower_column.addWidget(self.progress_row)
        lower_column.addWidget(self.splitter, 1)
        self.vertical_splitter = QSplitter(Qt.Orientation.Vertical)
        self.vertical_splitter.setChildrenCollapsible(False)
        self.vertical_splitter.addWidget(self.top_box)
        self.vertical_splitter.addWidget(lower)
        self.vertical_splitter.setStretchFactor(0, 0)
        self.vertical_splitter.setStretchFactor(1, 1)
        self.vertical_splitter.setSizes([self.top_box.sizeHint().height(), 10_000])  # inputs as small as they fit
        layout.addWidget(self.vertical_splitter, 1)
        layout.addWidget(self.run_status)

        order: list[QWidget] = [
            self.filter_edit, self.documents_list, self.folder_button, self.refresh_button, self.length_combo,
            self.focus_edit, self.summarize_button, self.cancel_button, self.result_view, self.export_button,
            self.copy_button, *([self.review_button] if self.review_button is not None else []), self.sources_list,
        ]
        for first, second in pairwise(order):
            self.setTabOrder(first, second)

    def _connect(self) -> None:
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.documents_list.itemChanged.connect(self._on_document_changed)
        self.folder_button.clicked.connect(self._on_folder_clicked)
        self.refresh_button.clicked.connect(self.refresh_documents)
        self.summarize_button.clicked.connect(self.summarize)
        self.cancel_button.clicked.connect(self.cancel)
        self.result_view.anchorClicked.connect(self._on_anchor_clicked)
        self.sources_list.itemActivated.connect(self._on_source_activated)
        self.export_button.clicked.connect(self.export_memo)
        self.copy_button.clicked.connect(self.copy_summary)
        if self.review_button is not None:
            self.review_button.clicked.connect(self.submit_for_review)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.summarize)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.cancel)
        self._status.state_changed.connect(lambda _state: self._update_controls())

    # -- choosing documents ---------------------------------------------------------------
    def refresh_documents(self) -> None:
        """(Re)read the indexed documents from the summarizer; checked documents stay checked."""
        checked = set(self.selected_paths())
        try:
            records: list[FileRecord] = list(self.summarizer.documents())
        except AktenlotseError as error:
            records = []
            self.documents_hint.setText(
                tr("Die Liste der Dokumente kann nicht gelesen werden: {message}").format(message=error.user_message)
            )
            self.documents_hint.setProperty("role", "reason")
        else:
            self.documents_hint.setText(tr(NO_DOCUMENTS_TEXT))
            self.documents_hint.setProperty("role", "muted")
        actions.repolish(self.documents_hint)
        indexed = fill_documents(self.documents_list, (r.path for r in records if r.status is FileStatus.INDEXED),
                                 checked)
        self.documents_hint.setVisible(not indexed)
        self._apply_filter(self.filter_edit.text())
        self._on_selection_changed()

    def available_paths(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self._items()]

    def selected_paths(self) -> list[str]:
        """The checked documents, in list order (hidden by the filter or not)."""
        return checked_paths(self.documents_list)

    def set_selected_paths(self, paths: list[str] | tuple[str, ...]) -> None:
        """Check exactly these documents (paths not in the list are ignored)."""
        check_paths(self.documents_list, paths)
        self._on_selection_changed()

    def choose_folder(self) -> str:
        """Overridable (tests): a folder (case file) whose documents to summarise, "" if the person cancelled."""
        return QFileDialog.getExistingDirectory(self, tr("Ordner oder Akte zum Zusammenfassen wählen"))

    def select_folder(self, folder: str) -> list[str]:
        """Check exactly the indexed documents in `folder` or below it; returns them ([] leaves the choice as is)."""
        roots = {PurePath(folder), PurePath(os.path.realpath(folder))}
        inside = [p for p in self.available_paths()
                  if any(root == PurePath(p) or root in PurePath(p).parents for root in roots)]
        if not inside:
            self.run_status.setText(tr(
                "Im Ordner {folder} gibt es keine indexierten Dokumente. Bitte indexieren Sie ihn zuerst unter "
                "„Bibliothek“."
            ).format(folder=folder))
            return []
        self.filter_edit.clear()
        self.set_selected_paths(inside)
        first = next(item for item in self._items() if item.data(Qt.ItemDataRole.UserRole) in inside)
        above = self.documents_list.item(self.documents_list.row(first) - 1)  # its folder heading, if any
        self.documents_list.scrollToItem(above if above is not None else first, QListWidget.ScrollHint.PositionAtTop)
        self.run_status.setText(tr("Ordner {folder}: {count}.").format(folder=folder, count=count_text(len(inside))))
        return inside

    def _on_folder_clicked(self) -> None:
        folder = self.choose_folder()
        if folder:
            self.select_folder(folder)

    def _items(self) -> list[QListWidgetItem]:
        """The document rows (without the folder headers)."""
        return document_items(self.documents_list)

    def _apply_filter(self, text: str) -> None:
        filter_documents(self.documents_list, text)

    def _on_document_changed(self, _item: QListWidgetItem) -> None:
        self._on_selection_changed()

    def _on_selection_changed(self) -> None:
        text = count_text(len(self.selected_paths()))
        self.count_label.setText(text)
        self.count_label.setAccessibleName(text)
        self._update_controls()

    # -- summarising ----------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._task is not None

    @property
    def current_summary(self) -> Summary | None:
        return self._current

    def request(self) -> SummaryRequest:
        try:
            length = SummaryLength(self.length_combo.currentData())  # Qt hands the str value back
        except ValueError:
            length = SummaryLength.STANDARD
        return SummaryRequest(tuple(self.selected_paths()), length, self.focus_edit.text().strip())

    def summarize(self) -> Task | None:
        """Start summarising the checked documents; the task, or None if nothing was started (the reason is shown)."""
        if self._task is not None or self._status.block_reason() is not None:
            return None
        request = self.request()
        if not request.paths:
            self.run_status.setText(tr("Bitte wählen Sie zuerst mindestens ein Dokument aus."))
            self.documents_list.setFocus()
            return None
        self._clear_result()
        self._steps = 0
        self._streaming = False
        self.progress_bar.setRange(0, 0)  # busy until the first Progress says how many parts there are
        self.progress_label.setText(tr("Die Dokumente werden gelesen …"))
        self.step_label.setText("")
        self.progress_row.setVisible(True)
        self.run_status.setText(
            tr("1 Dokument wird zusammengefasst …") if len(request.paths) == 1
            else tr("{n} Dokumente werden zusammengefasst …").format(n=len(request.paths)))
        self._started_at = time.monotonic()
        summarizer = self.summarizer
        task = self.runner.start(lambda cancel: summarizer.summarize(request, cancel), name="Zusammenfassen")
        self._task = task
        task.bind(self)
        self._update_controls()
        self.summarizing_started.emit(task)
        return task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.run_status.setText(tr("Wird abgebrochen …"))
        elif self._export_task is not None:
            self._export_task.cancel()

    # -- task signals ---------------------------------------------------------------------
    def _on_progress(self, progress: Progress) -> None:
        show_progress(self.progress_bar, self.progress_label, progress)

    def _on_item(self, item: object) -> None:
        if isinstance(item, SummaryStep):
            self._steps += 1
            self.step_label.setText(step_text(self._steps, item))
            self.step_reported.emit(item)

    def _on_partial_result(self, text: str) -> None:
        if not self._streaming:
            self._streaming = True
            self.result_view.clear()
            self.banner.setVisible(True)
        bar = self.result_view.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.result_view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, QTextCharFormat())  # plain text: nothing the model writes is markup
        if follow:
            bar.setValue(bar.maximum())

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self._started_at:.1f}".replace(".", ",")

    def _on_result(self, value: object) -> None:
        if not isinstance(value, Summary):
            self._on_failed(AktenlotseError("Die Zusammenfassung hat ein unerwartetes Format.", repr(type(value))))
            return
        self._outcome = "result"
        self.show_summary(value)
        if self.progress_bar.maximum() == 0:  # never learned the total: show it full
            self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(self.progress_bar.maximum())
        self.progress_label.setText(tr("Fertig."))
        self.progress_row.setVisible(False)  # the steps line under the result says the same
        self.run_status.setText(tr("Fertig nach {seconds} s. Bitte prüfen Sie die Zusammenfassung an den Quellen.")
                                .format(seconds=self._elapsed()))
        self.summary_ready.emit(value)

    def _on_failed(self, error: AktenlotseError) -> None:
        self._outcome = "failed"
        self._clear_result(tr(FAILED_TEXT))
        self.progress_row.setVisible(False)
        self.run_status.setText(tr("Fehlgeschlagen: {message}").format(message=error.user_message))
        show_error(self.window(), error)

    def _on_cancelled(self) -> None:
        self._outcome = "cancelled"
        self._clear_result(tr(CANCELLED_TEXT))  # nothing of the cancelled run stays as a result
        self.progress_row.setVisible(False)
        self.run_status.setText(tr("Abgebrochen nach {seconds} s.").format(seconds=self._elapsed()))

    def _on_finished(self) -> None:
        self._task = None
        self._streaming = False
        self._update_controls()
        self.summarizing_finished.emit(self._outcome)

    # -- showing a summary ----------------------------------------------------------------
    def _clear_result(self, notice: str = "") -> None:
        self._current = None
        self._handed_over = False
        if self.viewer is not None:
            self.viewer.close()
        self.result_view.clear()
        if notice:
            muted = QTextCharFormat()
            muted.setForeground(QColor(MUTED))
            muted.setFontItalic(True)
            QTextCursor(self.result_view.document()).insertText(notice, muted)
        self.result_view.setAccessibleDescription(notice or tr(DRAFT_MARKER))
        self.banner.setVisible(False)
        for label in (self.flags_label, self.omitted_label, self.steps_label):
            label.clear()
            label.setVisible(False)
        self.sources_list.clear()
        self.sources_hint.setText(
            tr("Hier erscheinen die Textstellen, auf die sich die Zusammenfassung stützt."))
        self.sources_hint.setVisible(True)
        self._update_controls()

    def show_summary(self, summary: Summary) -> None:
        """Render a finished summary: escaped points with citation links and flags, notices, cited passages."""
        self._current = summary
        self._handed_over = False  # a new summary can be handed over again
        self.banner.setVisible(True)
        self.result_view.set_answer_html(render_summary_html(summary))
        flags = review_flags(summary)
        head = flag_summary(flags)
        details = [f"• {tr(f.kind.label_de)}: „{_shorten(f.text, 120)}“" for f in flags]
        self.flags_label.setText(head)  # one line: the points themselves carry the marks
        self.flags_label.setToolTip("<p>" + "<br>".join(html.escape(d) for d in details) + "</p>" if details else "")
        self.flags_label.setAccessibleName(head)
        self.flags_label.setAccessibleDescription(" ".join(details))
        self.flags_label.setProperty("role", "reason" if flags else "muted")
        actions.repolish(self.flags_label)
        self.flags_label.setVisible(True)
        if summary.omitted:
            text = "\n".join([tr("Nicht berücksichtigt:")] + [f"• {o.describe_de()}" for o in summary.omitted])
            self.omitted_label.setText(text)
            self.omitted_label.setAccessibleName(text)
            self.omitted_label.setVisible(True)
        else:
            self.omitted_label.clear()
            self.omitted_label.setVisible(False)
        self.steps_label.setText(steps_text(summary))
        self.steps_label.setVisible(True)
        self._fill_sources(summary)
        self.result_view.setAccessibleDescription(f"{tr(DRAFT_MARKER)}. {head}")
        self._update_controls()

    def _fill_sources(self, summary: Summary) -> None:
        self.sources_list.clear()
        cited = summary.cited_numbers()
        passages = [p for p in summary.passages if p.number in cited]
        self.sources_hint.setVisible(not passages)
        if not passages:
            self.sources_hint.setText(tr("Kein Punkt nennt eine Quelle – bitte besonders sorgfältig prüfen."))
        for passage in passages:
            location = passage.location_de()
            item = QListWidgetItem(f"[{passage.number}] {location}\n{_shorten(passage.text, PREVIEW_CHARS)}")
            item.setData(Qt.ItemDataRole.UserRole, passage.number)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, tr("Quelle {n}: {location}").format(
                n=passage.number, location=location))
            item.setToolTip(f"<p>{html.escape(passage.path)}</p>")
            self.sources_list.addItem(item)

    def source_item(self, number: int) -> QListWidgetItem | None:
        for row in range(self.sources_list.count()):
            item = self.sources_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == number:
                return item
        return None

    # -- citations and the passage viewer -------------------------------------------------
    def _on_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == "cite":
            try:
                number = int(url.path())
            except ValueError:
                return
            self.open_passage(number)

    def _on_source_activated(self, item: QListWidgetItem) -> None:
        self.open_passage(int(item.data(Qt.ItemDataRole.UserRole)))

    def open_passage(self, number: int) -> PassageViewer | None:
        """Open the passage viewer for passage [number]; None if the summary has no such passage."""
        summary = self._current
        passage = summary.passage(number) if summary is not None else None
        if passage is None:
            self.run_status.setText(tr("Quelle [{n}] gibt es in dieser Zusammenfassung nicht.").format(n=number))
            return None
        item = self.source_item(number)
        if item is not None:
            self.sources_list.setCurrentItem(item)
        if self.viewer is not None:
            self.viewer.close()
        # The viewer needs only `document_text`, which the summary facade has too.
        viewer = PassageViewer(Source(passage.number, passage.chunk), cast(LookupFacade, self.summarizer),
                               self.runner, self.window())
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.destroyed.connect(lambda _obj=None, v=viewer: self._forget_viewer(v))
        self.viewer = viewer
        viewer.open()
        self.viewer_opened.emit(viewer)
        return viewer

    def _forget_viewer(self, viewer: PassageViewer) -> None:
        if self.viewer is viewer:
            self.viewer = None

    # -- export and copy ------------------------------------------------------------------
    def choose_export_path(self) -> str:
        """Overridable (tests): where to save the Vermerk, "" if the person cancelled."""
        return self.ask_docx_path(tr("Vermerk als Entwurf speichern"), default_export_name())

    def export_memo(self) -> Task | None:
        """Ask for a path and write the draft Vermerk on the runner; None if nothing was started."""
        summary = self._current
        if summary is None or self._task is not None or self._export_task is not None:
            return None
        chosen = self.choose_export_path()
        if not chosen:
            return None
        summarizer = self.summarizer
        return self.start_export(
            chosen, lambda path: summarizer.export_memo(summary, path), name="Vermerk exportieren",
            saving=tr("Vermerk wird gespeichert …"),
            saved=lambda path: tr(
                "Als Entwurf gespeichert: {path} – der Vermerk trägt die Kennzeichnung „{line}“."
            ).format(path=path, line=DRAFT_LINE),
            failed=tr("Der Vermerk wurde nicht gespeichert: {message}"))

    def copy_summary(self) -> bool:
        summary = self._current
        if summary is None:
            return False
        actions.copy_as_draft(self.run_status, summary.as_text())
        return True

    # -- review ---------------------------------------------------------------------------
    def _present_error(self, error: AktenlotseError) -> None:
        show_error(self.window(), error)  # looked up here: tests replace this module's show_error

    def submit_for_review(self) -> str | None:
        """Hand the shown summary over to the review workflow ("Entwürfe"); the draft id, None if nothing was
        handed over (no summary, still running, already handed over, or the workflow refused – the error is shown)."""
        summary = self._current
        if (summary is None or self.review is None or self._handed_over or self._task is not None
                or self._export_task is not None):
            return None
        review = self.review
        draft_id = actions.hand_over(self.run_status, lambda: review.submit(summary), self._present_error)
        if draft_id is None:
            return None
        self._handed_over = True
        self._update_controls()
        return draft_id

    # -- state ----------------------------------------------------------------------------
    def _update_controls(self) -> None:
        reason = self._status.block_reason()
        running = self._task is not None
        chosen = bool(self.selected_paths())
        self.summarize_button.setEnabled(reason is None and not running and chosen)
        self.cancel_button.setEnabled(running)
        for widget in (self.documents_list, self.filter_edit, self.folder_button, self.refresh_button,
                       self.length_combo, self.focus_edit):
            widget.setEnabled(not running)
        has_result = self._current is not None and not running
        self.export_button.setEnabled(has_result and self._export_task is None)
        self.copy_button.setEnabled(has_result)
        if self.review_button is not None:
            self.review_button.setEnabled(has_result and self._export_task is None and not self._handed_over)
        text, role = actions.model_block(self._status, reason, tr("Zusammenfassen ist nicht möglich: {reason}"))
        if reason is None and not chosen and not running:
            text, role = tr("Bitte wählen Sie mindestens ein Dokument aus."), "muted"
        actions.show_reason(self.reason_label, self.summarize_button, text, role,
                            tip=tr("Gewählte Dokumente zusammenfassen (Strg+Eingabe)"),
                            description=tr("Fasst die gewählten Dokumente zusammen (Strg+Eingabe)"))
