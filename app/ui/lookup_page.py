"""The "Nachschlagen" workspace: a question, a scope, the streamed answer with clickable citations and flags.

The answer is untrusted text (the model may repeat what a document said): it is streamed as plain text and
re-rendered with every character HTML-escaped; only the page adds markup (citation links, flag marks). The draft
banner is a label set by the page from `DRAFT_MARKER`, never from model output.
"""

from __future__ import annotations

import html
import re
import time
from collections import Counter
from itertools import pairwise

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QKeySequence,
    QPainter,
    QPen,
    QPixmap,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app.core.drafts import DraftReview
from app.core.errors import AktenlotseError
from app.core.lookup import (
    DRAFT_MARKER,
    NOTHING_FOUND,
    Flag,
    FlagKind,
    LookupAnswer,
    Scope,
    ScopeKind,
    Source,
    SourcesFound,
)
from app.core.progress import Progress
from app.ui import result_actions as actions
from app.ui.errors import show_error
from app.ui.i18n import tr
from app.ui.lookup_facade import LookupFacade
from app.ui.model_status import ModelStatus
from app.ui.passage_viewer import PassageViewer
from app.ui.style import (
    ACCENT,
    DRAFT_INK,
    ERROR_INK,
    FACT_BG,
    FACT_LINE,
    FLAG_BG,
    INFO_BG,
    INFO_INK,
    MUTED,
)
from app.ui.task_runner import Task, TaskRunner

PREVIEW_CHARS = 200
CANCELLED_MARK = "(abgebrochen)"
NO_FLAGS_TEXT = "Keine Auffälligkeiten gefunden – bitte trotzdem an den Quellen prüfen."
SHARED_TAG = "Fachbereich"


def shared_origin_de(collection: str) -> str:
    """How a departmental source is described in tooltips and to screen readers."""
    return f"Fachbereichswissen aus der Sammlung „{collection}“ (Rechenzentrum)"


class _TopTagDelegate(QStyledItemDelegate):
    """Puts an item's tag icon beside its first line (not centred beside a long passage preview)."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        option.decorationAlignment = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft


def tag_icon(text: str, font: QFont, size: QSize) -> QIcon:
    """A small badge ("Fachbereich") drawn as an icon: dark blue text on light blue, framed – the visual tag of a
    departmental source in the source list (the text and the accessible name say it too)."""
    ratio = 2.0
    pixmap = QPixmap(int(size.width() * ratio), int(size.height() * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    rect = QRectF(0.5, 0.5, size.width() - 1, size.height() - 1)
    painter.setPen(QPen(QColor(INFO_INK), 1))
    painter.setBrush(QColor(INFO_BG))
    painter.drawRoundedRect(rect, 4, 4)
    badge_font = QFont(font)
    badge_font.setBold(True)
    badge_font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
    painter.setFont(badge_font)
    painter.setPen(QColor(INFO_INK))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return QIcon(pixmap)
SCOPE_ALL, SCOPE_FOLDER, SCOPE_DOCUMENTS = 0, 1, 2
_MARKER = re.compile(r"\[(\d{1,3})\]")

_PLURAL = {
    FlagKind.UNCITED_SENTENCE: "Aussagen ohne Quellenangabe",
    FlagKind.FACT_NOT_IN_SOURCES: "Angaben nicht in den Quellen gefunden",
    FlagKind.UNKNOWN_CITATION: "Verweise auf Quellen, die es nicht gibt",
    FlagKind.NOT_SUPPORTED: "Aussagen kaum in der zitierten Quelle",
}


def flag_summary(flags: tuple[Flag, ...] | list[Flag]) -> str:
    """"2 Hinweise zur Prüfung: 1 Aussage ohne Quellenangabe, 1 Angabe nicht in den Quellen gefunden"."""
    if not flags:
        return tr(NO_FLAGS_TEXT)
    counts = Counter(f.kind for f in flags)
    parts = [
        f"{counts[kind]} {tr(kind.label_de) if counts[kind] == 1 else tr(_PLURAL[kind])}"
        for kind in FlagKind if counts[kind]
    ]
    head = tr("1 Hinweis zur Prüfung") if len(flags) == 1 else tr("{n} Hinweise zur Prüfung").format(n=len(flags))
    return f"{head}: {', '.join(parts)}"


def _tip(flag: Flag) -> str:
    label = tr(flag.kind.label_de)
    return f"{label}: {flag.detail}" if flag.detail else label


def render_answer_html(answer: LookupAnswer) -> str:
    """The answer as HTML: every character of model text escaped; [n] → link `cite:n`; flags marked.

    Uncited sentences: amber background and a "⚠" in front; facts not in the sources: light red with a wavy
    underline (added after `setHtml`, see `AnswerView`); citations of sources that do not exist: red.
    Every mark carries its German label as tooltip (`title`).
    """
    if answer.nothing_found:
        return (f'<p style="font-size:13pt; font-weight:600; color:{DRAFT_INK};">'
                f"{html.escape(NOTHING_FOUND)}</p>")
    text = answer.text
    size = len(text)
    known = {s.number for s in answer.sources}
    sentences = {s.index: s for s in answer.grounding.sentences}

    def clamp(a: int, b: int) -> tuple[int, int]:
        a, b = max(0, min(a, size)), max(0, min(b, size))
        return (a, b) if a <= b else (b, a)

    uncited: list[tuple[int, int, Flag]] = []
    marks: list[tuple[int, int, Flag]] = []  # facts and unknown citations
    for flag in answer.flags:
        if flag.kind in (FlagKind.UNCITED_SENTENCE, FlagKind.NOT_SUPPORTED):  # whole sentences: amber and ⚠
            sentence = sentences.get(flag.sentence_index)
            a, b = (sentence.start, sentence.end) if sentence is not None else (flag.start, flag.end)
            uncited.append((*clamp(a, b), flag))
        else:
            marks.append((*clamp(flag.start, flag.end), flag))
    markers = [(m.start(), m.end(), int(m.group(1))) for m in _MARKER.finditer(text)]

    cuts = {0, size}
    for a, b, *_ in (*uncited, *marks, *markers):
        cuts.update((a, b))
    points = sorted(cuts)
    out: list[str] = []
    for a, b in pairwise(points):
        marker = next((m for m in markers if m[0] <= a and b <= m[1]), None)
        in_uncited = next((u for u in uncited if u[0] <= a and b <= u[1] and u[0] < u[1]), None)
        if in_uncited is not None and a == in_uncited[0]:
            out.append(f'<span style="background-color:{FLAG_BG}; color:{DRAFT_INK}; font-weight:700;" '
                       f'title="{html.escape(_tip(in_uncited[2]))}">⚠&nbsp;</span>')
        if marker is not None:
            if a != marker[0]:
                continue  # the rest of a marker a flag boundary split: already written
            number = marker[2]
            if number in known:
                out.append(f'<a href="cite:{number}" style="color:{ACCENT}; font-weight:700; '
                           f'text-decoration:none;" title="{html.escape(tr("Quelle {n} anzeigen").format(n=number))}">'
                           f"[{number}]</a>")
            else:
                label = html.escape(tr(FlagKind.UNKNOWN_CITATION.label_de))
                out.append(f'<span style="color:{FACT_LINE}; font-weight:700; background-color:{FACT_BG};" '
                           f'title="{label}">[{number}]</span>')
            continue
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
    body = "".join(out)
    if not answer.complete:
        body += f' <span style="color:{MUTED}; font-style:italic;">{html.escape(tr(CANCELLED_MARK))}</span>'
    return f'<p style="line-height:150%;">{body}</p>'


class AnswerView(QTextBrowser):
    """A read-only answer with `cite:n` links, tooltips on flagged text and a wavy underline under facts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lookupAnswer")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)

    def set_answer_html(self, markup: str) -> None:
        self.setHtml(markup)
        self._add_wavy_underlines()

    def _add_wavy_underlines(self) -> None:
        fact_label = tr(FlagKind.FACT_NOT_IN_SOURCES.label_de)
        ranges: list[tuple[int, int]] = []
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.isValid() and fact_label in fragment.charFormat().toolTip():
                    ranges.append((fragment.position(), fragment.position() + fragment.length()))
                it += 1
            block = block.next()
        wavy = QTextCharFormat()
        wavy.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        wavy.setUnderlineColor(QColor(FACT_LINE))
        for start, end in ranges:
            cursor = QTextCursor(self.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(wavy)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            tip = self.cursorForPosition(event.pos()).charFormat().toolTip()
            if tip:
                QToolTip.showText(event.globalPos(), f"<p>{html.escape(tip)}</p>", self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)


class LookupPage(QWidget):
    """`LookupPage(lookup, status, runner, review=None)`: one lookup at a time through the TaskRunner."""

    asking_started = Signal(object)  # Task
    sources_shown = Signal(object)  # tuple[Source, ...]
    answer_ready = Signal(object)  # the final LookupAnswer
    asking_finished = Signal(str)  # "result" | "failed" | "cancelled"
    viewer_opened = Signal(object)  # PassageViewer

    def __init__(
        self,
        lookup: LookupFacade,
        status: ModelStatus,
        runner: TaskRunner,
        review: DraftReview | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page-nachschlagen")
        self.lookup = lookup
        self.runner = runner
        self.review = review
        self._status = status
        self._task: Task | None = None
        self._outcome = ""
        self._started_at = 0.0
        self._scope = Scope.everything()
        self._question = ""
        self._asked_scope = self._scope
        self._sources: tuple[Source, ...] = ()
        self._streamed: list[str] = []
        self.current_answer: LookupAnswer | None = None
        self.viewer: PassageViewer | None = None

        heading = QLabel(tr("Nachschlagen"))
        heading.setProperty("role", "heading")
        heading.setAccessibleName(tr("Nachschlagen"))
        intro = QLabel(tr(
            "Fragen Sie in Ihren freigegebenen Dokumenten nach. Jede Aussage der Antwort nennt ihre Quelle [1], [2] … "
            "– ein Klick zeigt die Textstelle. Die Antwort ist ein KI-Vorschlag und muss geprüft werden."
        ))
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")

        # -- question and scope --
        self.question_label = QLabel(tr("Fra&ge:"))
        self.question_edit = QPlainTextEdit()
        self.question_edit.setObjectName("lookupQuestion")
        self.question_edit.setTabChangesFocus(True)
        self.question_edit.setPlaceholderText(tr("z. B.: Innerhalb welcher Frist ist Widerspruch einzulegen?"))
        self.question_edit.setFixedHeight(64)
        self.question_edit.setAccessibleName(tr("Frage"))
        self.question_edit.setAccessibleDescription(tr("Ihre Frage an die freigegebenen Dokumente. Mit Strg+Eingabe fragen."))
        self.question_label.setBuddy(self.question_edit)

        self.scope_label = QLabel(tr("&Suchbereich:"))
        self.scope_combo = QComboBox()
        self.scope_combo.setObjectName("lookupScope")
        self.scope_combo.addItems([
            tr("Alle freigegebenen Dokumente"), tr("Ordner / Akte wählen …"), tr("Dokumente wählen …"),
        ])
        self.scope_combo.setAccessibleName(tr("Suchbereich"))
        self.scope_combo.setAccessibleDescription(tr("Wo gesucht wird: alle Dokumente, ein Ordner oder ausgewählte Dokumente"))
        self.scope_label.setBuddy(self.scope_combo)
        self.scope_text = QLabel()
        self.scope_text.setObjectName("lookupScopeText")
        self.scope_text.setProperty("role", "muted")
        self.scope_text.setTextFormat(Qt.TextFormat.PlainText)
        self.scope_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scope_combo.activated.connect(self._on_scope_activated)

        self.ask_button = QPushButton(tr("&Fragen"))
        self.ask_button.setObjectName("askButton")
        self.ask_button.setProperty("role", "primary")
        self.ask_button.setAccessibleName(tr("Fragen"))
        self.cancel_button = QPushButton(tr("&Abbrechen"))
        self.cancel_button.setObjectName("lookupCancel")
        self.cancel_button.setAccessibleName(tr("Abbrechen"))
        self.cancel_button.setAccessibleDescription(tr("Laufende Antwort abbrechen (Esc)"))
        self.cancel_button.setToolTip(tr("Antwort abbrechen (Esc)"))
        self.reason_label = actions.reason_label("askBlockedReason")

        # -- answer --
        self.answer_label = QLabel(tr("An&twort:"))
        self.banner = QLabel(tr(DRAFT_MARKER))
        self.banner.setObjectName("draftBanner")
        self.banner.setProperty("role", "draft-banner")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setAccessibleName(tr(DRAFT_MARKER))
        self.nothing_found_label = QLabel(tr(NOTHING_FOUND))
        self.nothing_found_label.setObjectName("nothingFound")
        self.nothing_found_label.setProperty("role", "nothing-found")
        self.nothing_found_label.setWordWrap(True)
        self.nothing_found_label.setAccessibleName(tr(NOTHING_FOUND))
        self.nothing_found_label.setVisible(False)
        self.answer_view = AnswerView()
        self.answer_view.setAccessibleName(tr("Antwort"))
        self.answer_view.setAccessibleDescription(tr(DRAFT_MARKER))
        self.answer_view.setPlaceholderText(tr("Die Antwort erscheint hier, sobald Sie eine Frage stellen."))
        self.answer_view.anchorClicked.connect(self._on_anchor_clicked)
        self.answer_label.setBuddy(self.answer_view)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("flagSummary")
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)  # quotes model text
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setVisible(False)
        self.copy_button = actions.action_button(
            tr("Als Entwurf &kopieren"), "copyDraft", tr("Als Entwurf kopieren"),
            tr("Kopiert Antwort und Quellen mit dem Entwurfsvermerk in die Zwischenablage"))
        self.copy_button.clicked.connect(self.copy_answer)
        self.review_button: QPushButton | None = None
        if review is not None:
            self.review_button = actions.review_button(
                tr("Zur &Prüfung übergeben"),
                tr("Legt die Antwort als Entwurf zur Prüfung unter „Entwürfe“ ab"))
            self.review_button.clicked.connect(self.submit_for_review)

        # -- sources --
        self.sources_label = QLabel(tr("&Quellen:"))
        self.sources_list = QListWidget()
        self.sources_list.setObjectName("lookupSources")
        self.sources_list.setWordWrap(True)
        self.sources_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.sources_list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.sources_list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.sources_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sources_list.setAccessibleName(tr("Quellen"))
        self.sources_list.setAccessibleDescription(tr("Gefundene Textstellen. Eingabetaste oder Doppelklick zeigt die Stelle im Dokument."))
        self.sources_list.itemActivated.connect(self._on_source_activated)
        self.sources_list.setItemDelegate(_TopTagDelegate(self.sources_list))
        self.sources_label.setBuddy(self.sources_list)
        self.sources_hint = QLabel(tr("Hier erscheinen die Textstellen, auf die sich die Antwort stützt."))
        self.sources_hint.setObjectName("sourcesHint")
        self.sources_hint.setProperty("role", "muted")
        self.sources_hint.setWordWrap(True)

        self.search_notice = QLabel()
        self.search_notice.setObjectName("lookupSearchNotice")
        self.search_notice.setProperty("role", "warning")
        self.search_notice.setTextFormat(Qt.TextFormat.PlainText)  # may quote a server's message
        self.search_notice.setWordWrap(True)
        self.search_notice.setVisible(False)

        self.run_status = QLabel()
        self.run_status.setObjectName("lookupStatus")
        self.run_status.setProperty("role", "muted")
        self.run_status.setWordWrap(True)

        self._build_layout(heading, intro)
        self._connect_shortcuts()
        status.state_changed.connect(lambda _state: self._update_controls())
        self.question_edit.textChanged.connect(self._update_controls)
        self._show_scope()
        self._update_controls()

    def _build_layout(self, heading: QLabel, intro: QLabel) -> None:
        scope_row = QHBoxLayout()
        scope_row.setSpacing(8)
        scope_row.addWidget(self.scope_label)
        scope_row.addWidget(self.scope_combo)
        scope_row.addWidget(self.scope_text, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.ask_button)
        buttons.addWidget(self.cancel_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.reason_label, 1)
        buttons.addStretch(1)  # the buttons keep their size while no reason is shown

        answer_box = QWidget()
        answer_column = QVBoxLayout(answer_box)
        answer_column.setContentsMargins(0, 0, 8, 0)
        answer_column.setSpacing(6)
        answer_column.addWidget(self.answer_label)
        draft = QVBoxLayout()
        draft.setSpacing(0)
        draft.addWidget(self.banner)
        draft.addWidget(self.nothing_found_label)
        draft.addWidget(self.answer_view, 1)
        answer_column.addLayout(draft, 1)
        answer_column.addWidget(self.summary_label)
        answer_buttons = QHBoxLayout()
        answer_buttons.addWidget(self.copy_button)
        if self.review_button is not None:
            answer_buttons.addWidget(self.review_button)
        answer_buttons.addStretch(1)
        answer_column.addLayout(answer_buttons)

        sources_box = QWidget()
        sources_column = QVBoxLayout(sources_box)
        sources_column.setContentsMargins(8, 0, 0, 0)
        sources_column.setSpacing(6)
        sources_column.addWidget(self.sources_label)
        sources_column.addWidget(self.sources_hint)
        sources_column.addWidget(self.sources_list, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(answer_box)
        self.splitter.addWidget(sources_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 400])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 14)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addSpacing(4)
        layout.addWidget(self.question_label)
        layout.addWidget(self.question_edit)
        layout.addLayout(scope_row)
        layout.addLayout(buttons)
        layout.addSpacing(4)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.search_notice)
        layout.addWidget(self.run_status)

        self.setTabOrder(self.question_edit, self.scope_combo)
        self.setTabOrder(self.scope_combo, self.ask_button)
        self.setTabOrder(self.ask_button, self.cancel_button)
        self.setTabOrder(self.cancel_button, self.answer_view)
        self.setTabOrder(self.answer_view, self.copy_button)
        last: QWidget = self.copy_button
        if self.review_button is not None:
            self.setTabOrder(self.copy_button, self.review_button)
            last = self.review_button
        self.setTabOrder(last, self.sources_list)

    def _connect_shortcuts(self) -> None:
        self.ask_button.clicked.connect(self.ask)
        self.cancel_button.clicked.connect(self.cancel)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.ask)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.cancel)

    # -- scope ----------------------------------------------------------------------------
    @property
    def scope(self) -> Scope:
        return self._scope

    def set_scope(self, scope: Scope) -> None:
        self._scope = scope
        index = {ScopeKind.ALL: SCOPE_ALL, ScopeKind.FOLDER: SCOPE_FOLDER, ScopeKind.DOCUMENTS: SCOPE_DOCUMENTS}
        self.scope_combo.setCurrentIndex(index[scope.kind])
        self._show_scope()

    def choose_folder(self) -> str:
        """Overridable (tests): a folder (case file) to search in, "" if the person cancelled."""
        return QFileDialog.getExistingDirectory(self, tr("Ordner oder Akte für die Suche wählen"))

    def choose_documents(self) -> list[str]:
        """Overridable (tests): documents to search in, [] if the person cancelled."""
        paths, _filter = QFileDialog.getOpenFileNames(self, tr("Dokumente für die Suche wählen"))
        return list(paths)

    def _on_scope_activated(self, index: int) -> None:
        scope: Scope | None = Scope.everything()
        if index == SCOPE_FOLDER:
            folder = self.choose_folder()
            scope = Scope.folder(folder) if folder else None
        elif index == SCOPE_DOCUMENTS:
            paths = self.choose_documents()
            scope = Scope.documents(paths) if paths else None
        self.set_scope(scope if scope is not None else self._scope)  # cancelled dialog: keep the old scope

    def _show_scope(self) -> None:
        text = tr("Gesucht wird in: {scope}").format(scope=self._scope.describe_de())
        self.scope_text.setText(text)
        paths = "<br>".join(html.escape(p) for p in self._scope.paths)
        self.scope_text.setToolTip(f"<p>{paths}</p>" if paths else "")
        self.scope_combo.setAccessibleDescription(text)

    # -- asking ---------------------------------------------------------------------------
    @property
    def is_asking(self) -> bool:
        return self._task is not None

    def ask(self) -> Task | None:
        """Start a lookup for the question; the task, or None if nothing was started (the reason is shown)."""
        if self._task is not None or self._status.block_reason() is not None:
            return None
        question = self.question_edit.toPlainText().strip()
        if not question:
            self.run_status.setText(tr("Bitte geben Sie zuerst eine Frage ein."))
            self.question_edit.setFocus()
            return None
        self._question, self._asked_scope = question, self._scope
        self._sources, self._streamed = (), []
        self.current_answer = None
        self.answer_view.clear()
        self.answer_view.setAccessibleDescription(tr(DRAFT_MARKER))
        self.nothing_found_label.setVisible(False)
        self.summary_label.setVisible(False)
        self.sources_list.clear()
        self.sources_hint.setText(tr("Passende Textstellen werden gesucht …"))
        self.sources_hint.setVisible(True)
        self.set_search_notice("")
        self.run_status.setText(tr("Passende Textstellen werden gesucht …"))
        self._started_at = time.monotonic()
        scope = self._scope
        task = self.runner.start(lambda cancel: self.lookup.ask(question, scope, cancel), name="Nachschlagen")
        self._task = task
        task.bind(self)
        self._update_controls()
        self.asking_started.emit(task)
        return task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.run_status.setText(tr("Wird abgebrochen …"))

    # -- task signals ---------------------------------------------------------------------
    def _on_progress(self, progress: Progress) -> None:
        if progress.message:
            self.run_status.setText(progress.message)

    def _on_item(self, item: object) -> None:
        if isinstance(item, SourcesFound):
            # the search has run (on the worker thread): e.g. departmental knowledge could not be reached
            self.set_search_notice(str(getattr(self.lookup, "search_notice", "") or ""))
            self._sources = tuple(item.sources)
            self._fill_sources(self._sources, cited=None)
            if self._sources:
                self.run_status.setText(
                    tr("{n} Textstellen gefunden – die Antwort wird formuliert …").format(n=len(self._sources))
                    if len(self._sources) != 1 else tr("1 Textstelle gefunden – die Antwort wird formuliert …")
                )
            self.sources_shown.emit(self._sources)

    def _on_partial_result(self, text: str) -> None:
        self._streamed.append(text)
        bar = self.answer_view.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.answer_view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, QTextCharFormat())  # plain text: nothing the model writes is markup
        if follow:
            bar.setValue(bar.maximum())

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self._started_at:.1f}".replace(".", ",")

    def _on_result(self, value: object) -> None:
        if not isinstance(value, LookupAnswer):
            self._on_failed(AktenlotseError("Die Antwort hat ein unerwartetes Format.", repr(type(value))))
            return
        self.show_answer(value)
        self._outcome = "result"
        if value.nothing_found:
            self.run_status.setText(tr("Keine passende Textstelle gefunden – das Sprachmodell wurde nicht gefragt."))
        else:
            self.run_status.setText(
                tr("Fertig nach {seconds} s. Bitte prüfen Sie die Antwort an den Quellen.").format(seconds=self._elapsed())
            )
        self.answer_ready.emit(value)

    def _on_failed(self, error: AktenlotseError) -> None:
        self._outcome = "failed"
        self.run_status.setText(tr("Fehlgeschlagen: {message}").format(message=error.user_message))
        show_error(self.window(), error)

    def _on_cancelled(self) -> None:
        self._outcome = "cancelled"
        text = "".join(self._streamed).rstrip()
        # What arrived stays, marked; the copy carries the mark too. No grounding: the text was never checked.
        self.current_answer = LookupAnswer(
            self._question, self._asked_scope, list(self._sources),
            text=f"{text} … {tr(CANCELLED_MARK)}" if text else tr(CANCELLED_MARK), complete=False,
        )
        cursor = QTextCursor(self.answer_view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        muted = QTextCharFormat()
        muted.setForeground(QColor(MUTED))
        muted.setFontItalic(True)
        cursor.insertText((" … " if text else "") + tr(CANCELLED_MARK), muted)
        self.summary_label.setText(tr("Die Antwort ist unvollständig und wurde nicht auf Quellenangaben geprüft."))
        self.summary_label.setProperty("role", "reason")
        actions.repolish(self.summary_label)
        self.summary_label.setVisible(True)
        self.run_status.setText(tr("Abgebrochen nach {seconds} s.").format(seconds=self._elapsed()))

    def _on_finished(self) -> None:
        self._task = None
        self._update_controls()
        self.asking_finished.emit(self._outcome)

    # -- showing an answer ----------------------------------------------------------------
    def show_answer(self, answer: LookupAnswer) -> None:
        """Render a final answer: escaped text with citation links and flags, the summary, the sources."""
        self.current_answer = answer
        self._sources = tuple(answer.sources)
        self.nothing_found_label.setVisible(answer.nothing_found)
        self.answer_view.set_answer_html(render_answer_html(answer))
        if answer.nothing_found:
            self.sources_list.clear()
            self.sources_hint.setText(tr("Keine passenden Textstellen im gewählten Suchbereich ({scope}).")
                                      .format(scope=answer.scope.describe_de()))
            self.sources_hint.setVisible(True)
            self.summary_label.setText(tr(
                "Es wurde keine Antwort erzeugt. Versuchen Sie andere Begriffe oder einen größeren Suchbereich."
            ))
            self.summary_label.setProperty("role", "muted")
        else:
            self._fill_sources(self._sources, cited=set(answer.grounding.cited_numbers()))
            lines = [flag_summary(answer.flags)]
            lines += [f"• {tr(f.kind.label_de)}: „{_shorten(f.text, 120)}“" for f in answer.flags]
            self.summary_label.setText("\n".join(lines))
            self.summary_label.setProperty("role", "reason" if answer.flags else "muted")
        actions.repolish(self.summary_label)
        self.summary_label.setVisible(True)
        self.answer_view.setAccessibleDescription(
            f"{tr(DRAFT_MARKER)}. {self.summary_label.text().splitlines()[0]}"
        )
        self._update_controls()

    def _fill_sources(self, sources: tuple[Source, ...], cited: set[int] | None) -> None:
        self.sources_list.clear()
        self.sources_hint.setVisible(not sources)
        if not sources:
            self.sources_hint.setText(tr("Keine passenden Textstellen gefunden."))
        for source in sources:
            if cited is None:
                state = tr("gefunden")
            elif source.number in cited:
                state = tr("zitiert")
            else:
                state = tr("gefunden, nicht zitiert")
            location = source.location_de()
            mark = "✓ " if cited is not None and source.number in cited else ""
            item = QListWidgetItem(
                f"{mark}[{source.number}] {location} – {state}\n{_shorten(source.passage, PREVIEW_CHARS)}"
            )
            item.setData(Qt.ItemDataRole.UserRole, source.number)
            if source.chunk.is_shared:  # location_de() starts with "Fachbereich „…“:" – plus tooltip, colour, name
                origin = tr(shared_origin_de(source.chunk.collection))
                item.setData(Qt.ItemDataRole.AccessibleTextRole,
                             f"Quelle {source.number}, {state}, {origin}: {location}")
                item.setToolTip(f"<p><b>{html.escape(origin)}</b></p><p>{html.escape(source.path)}</p>")
                item.setIcon(self._shared_tag())
            else:
                item.setData(Qt.ItemDataRole.AccessibleTextRole, f"Quelle {source.number}, {state}: {location}")
                item.setToolTip(f"<p>{html.escape(source.path)}</p>")
            if cited is not None and source.number not in cited:
                item.setForeground(QBrush(QColor(MUTED)))
            self.sources_list.addItem(item)

    def _shared_tag(self) -> QIcon:
        font = self.sources_list.font()
        bold = QFont(font)
        bold.setBold(True)
        bold.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        size = QSize(QFontMetrics(bold).horizontalAdvance(tr(SHARED_TAG)) + 12, QFontMetrics(bold).height() + 4)
        if self.sources_list.iconSize() != size:
            self.sources_list.setIconSize(size)
        return tag_icon(tr(SHARED_TAG), font, size)

    def set_search_notice(self, text: str) -> None:
        """Show (or, with "", hide) a German notice about the search, e.g. departmental knowledge unreachable."""
        self.search_notice.setText(text)
        self.search_notice.setAccessibleName(text)
        self.search_notice.setVisible(bool(text))

    def search_notice_text(self) -> str:
        return self.search_notice.text() if not self.search_notice.isHidden() else ""

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
            self.open_source(number)

    def _on_source_activated(self, item: QListWidgetItem) -> None:
        self.open_source(int(item.data(Qt.ItemDataRole.UserRole)))

    def open_source(self, number: int) -> PassageViewer | None:
        """Open the passage viewer for source [number]; None if there is no such source."""
        source = next((s for s in self._sources if s.number == number), None)
        if source is None:
            self.run_status.setText(tr("Quelle [{n}] gibt es in dieser Antwort nicht.").format(n=number))
            return None
        item = self.source_item(number)
        if item is not None:
            self.sources_list.setCurrentItem(item)
        if self.viewer is not None:
            self.viewer.close()
        viewer = PassageViewer(source, self.lookup, self.runner, self.window())
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.destroyed.connect(lambda _obj=None, v=viewer: self._forget_viewer(v))
        self.viewer = viewer
        viewer.open()
        self.viewer_opened.emit(viewer)
        return viewer

    def _forget_viewer(self, viewer: PassageViewer) -> None:
        if self.viewer is viewer:
            self.viewer = None

    # -- copy and review ------------------------------------------------------------------
    def copy_answer(self) -> bool:
        answer = self.current_answer
        if answer is None:
            return False
        actions.copy_as_draft(self.run_status, answer.clipboard_text())
        return True

    def submit_for_review(self) -> str | None:
        answer = self.current_answer
        if answer is None or self.review is None:
            return None
        review = self.review
        draft_id = actions.hand_over(self.run_status, lambda: review.submit(answer), self._present_error)
        if draft_id is None:
            return None
        if self.review_button is not None:
            self.review_button.setEnabled(False)
        return draft_id

    def _present_error(self, error: AktenlotseError) -> None:
        show_error(self.window(), error)  # looked up here: tests replace this module's show_error

    # -- state ----------------------------------------------------------------------------
    def _update_controls(self) -> None:
        reason = self._status.block_reason()
        running = self._task is not None
        empty = not self.question_edit.toPlainText().strip()
        self.ask_button.setEnabled(reason is None and not running and not empty)
        self.cancel_button.setEnabled(running)
        self.question_edit.setReadOnly(running)
        self.scope_combo.setEnabled(not running)
        answer = self.current_answer
        self.copy_button.setEnabled(answer is not None and not running)
        if self.review_button is not None:
            self.review_button.setEnabled(answer is not None and not running and answer.complete
                                          and not answer.nothing_found)
        text, role = actions.model_block(self._status, reason, tr("Fragen ist nicht möglich: {reason}"))
        if reason is None and empty and not running:
            text, role = tr("Bitte geben Sie eine Frage ein."), "muted"
        actions.show_reason(self.reason_label, self.ask_button, text, role, tip=tr("Frage stellen (Strg+Eingabe)"),
                            description=tr("In den Dokumenten nachschlagen (Strg+Eingabe)"))


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + " …"
