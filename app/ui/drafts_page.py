"""The "Entwürfe" workspace: every open draft (answers, summaries, letters), reviewed, edited and decided here.

Left the list (kind, subject, state, age); right the open draft: its state banner, the editable text, the check
list of what still needs a person's look (flags, placeholders, sources not yet opened) and the decisions. Confirming
is deliberate: the button is never a default button, it stays disabled while the check list or the policy blocks
it, and it opens `ConfirmDialog`, where Enter cancels. Only a confirmed draft is exported or copied as final.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.drafts import Author, CheckItem, CheckKind, Draft, DraftKind, DraftState, Resolution, TextVersion
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE
from app.core.lookup import Source
from app.ui.errors import show_error
from app.ui.i18n import tr
from app.ui.passage_viewer import PassageViewer
from app.ui.review_dialogs import ConfirmDialog, FrameDialog, RejectDialog
from app.ui.review_hub import DocumentTexts, ReviewFacade, ReviewHub
from app.ui.task_runner import Task, TaskRunner

EXPORT_FILTER = "Word-Dokument (*.docx)"
KEY_ROLE = Qt.ItemDataRole.UserRole
KIND_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_ROLE = Qt.ItemDataRole.UserRole + 2
PREVIEW_DELAY_MS = 250


def age_de(created: datetime, now: datetime | None = None) -> str:
    """"gerade eben", "vor 5 Min.", "vor 3 Std.", "vor 2 Tagen"."""
    now = now or datetime.now(timezone.utc)
    seconds = max(0, int((now - created).total_seconds()))
    if seconds < 60:
        return tr("gerade eben")
    if seconds < 3600:
        return tr("vor {n} Min.").format(n=seconds // 60)
    if seconds < 86400:
        return tr("vor {n} Std.").format(n=seconds // 3600)
    days = seconds // 86400
    return tr("vor 1 Tag") if days == 1 else tr("vor {n} Tagen").format(n=days)


def default_export_name(draft: Draft) -> str:
    stem = {DraftKind.LOOKUP: "Auskunft", DraftKind.SUMMARY: "Vermerk", DraftKind.LETTER: "Brief"}[draft.kind]
    day = (draft.decided_at or draft.created).astimezone().strftime("%Y-%m-%d")
    return f"{stem}_{day}{'' if draft.is_final else '_ENTWURF'}.docx"


def item_label(item: CheckItem) -> str:
    text = " ".join(item.text.split())
    if len(text) > 110:
        text = text[:109].rstrip() + " …"
    status = f" – {item.resolution.label_de}" if item.resolution is not None else ""
    if item.kind is CheckKind.SOURCE:
        return f"{item.title}: {text}{status}"
    return f"{item.title}: „{text}“{status}"


class DraftsPage(QWidget):
    """`DraftsPage(review, texts, runner, hub=None)`; `texts` gives the passage viewer the documents' text."""

    draft_opened = Signal(str)
    draft_decided = Signal(str, str)  # draft id, new state value
    open_count_changed = Signal(int)
    export_finished = Signal(str)  # "result" | "failed" | "cancelled"
    viewer_opened = Signal(object)

    def __init__(self, review: ReviewFacade, texts: DocumentTexts | None, runner: TaskRunner,
                 hub: ReviewHub | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page-entwuerfe")
        self.review = review
        self.texts = texts
        self.runner = runner
        self.current: Draft | None = None
        self.viewer: PassageViewer | None = None
        self._export_task: Task | None = None
        self._export_outcome = ""
        self._export_dir = ""
        self._loading = False
        self.confirm_dialog: ConfirmDialog | None = None
        self.reject_dialog: RejectDialog | None = None
        self.discard_box: QMessageBox | None = None
        self.frame_dialog: FrameDialog | None = None
        self._build()
        if hub is not None:
            hub.draft_submitted.connect(self._on_draft_submitted)
        self.refresh()

    # -- building ---------------------------------------------------------------------------------------------
    def _build(self) -> None:
        heading = QLabel(tr("Entwürfe"))
        heading.setProperty("role", "heading")
        intro = QLabel(tr("KI-Vorschläge bleiben Entwürfe, bis Sie sie geprüft und bestätigt haben. "
                          "Ihre Entscheidung wird protokolliert."))
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")
        self.filter_combo = QComboBox()
        self.filter_combo.setObjectName("draftFilter")
        self.filter_combo.addItem(tr("Offene Entwürfe"), True)
        self.filter_combo.addItem(tr("Alle Entwürfe"), False)
        self.filter_combo.setAccessibleName(tr("Welche Entwürfe angezeigt werden"))
        self.filter_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.list = QTreeWidget()
        self.list.setObjectName("draftList")
        self.list.setAccessibleName(tr("Entwürfe"))
        self.list.setHeaderHidden(True)
        self.list.setColumnCount(1)
        self.list.setRootIsDecorated(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setAccessibleDescription(tr("Je Entwurf: Betreff, darunter Art, Status und Alter"))
        self.list.currentItemChanged.connect(self._on_current_item_changed)
        self.empty_label = QLabel(tr("Keine offenen Entwürfe. Übergeben Sie eine Antwort, eine Zusammenfassung oder "
                                     "einen Brief mit „Zur Prüfung übergeben“."))
        self.empty_label.setObjectName("draftsEmpty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setProperty("role", "muted")
        left = QVBoxLayout()
        left.setSpacing(8)
        left.addWidget(heading)
        left.addWidget(intro)
        left.addWidget(self.filter_combo)
        left.addWidget(self.list, 1)
        left.addWidget(self.empty_label)
        left_widget = QWidget()
        left_widget.setLayout(left)

        self.title_label = QLabel()
        self.title_label.setObjectName("draftTitle")
        self.title_label.setProperty("role", "heading")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)
        self.meta_label = QLabel()
        self.meta_label.setObjectName("draftMeta")
        self.meta_label.setProperty("role", "muted")
        self.meta_label.setTextFormat(Qt.TextFormat.PlainText)
        self.meta_label.setWordWrap(True)
        self.banner = QLabel()
        self.banner.setObjectName("draftState")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setWordWrap(True)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("draftText")
        self.editor.setAccessibleName(tr("Text des Entwurfs"))
        self.editor.setAccessibleDescription(tr("Sie können den Text während der Prüfung bearbeiten"))
        self.editor.setTabChangesFocus(True)
        self.editor.textChanged.connect(self._on_text_changed)
        self.apply_button = QPushButton(tr("Änderungen &übernehmen"))
        self.apply_button.setObjectName("applyEdit")
        self.apply_button.setAutoDefault(False)
        self.apply_button.setAccessibleName(tr("Änderungen übernehmen"))
        self.apply_button.setAccessibleDescription(tr("Speichert Ihren bearbeiteten Text als neue Fassung"))
        self.apply_button.clicked.connect(self.apply_edit)
        self.frame_button = QPushButton(tr("Anschrift und &Briefkopf …"))
        self.frame_button.setObjectName("editFrame")
        self.frame_button.setAutoDefault(False)
        self.frame_button.setAccessibleName(tr("Anschrift und Briefkopf bearbeiten"))
        self.frame_button.setAccessibleDescription(tr("Anschrift, Betreff, Informationsblock und Unterschrift des Briefs"))
        self.frame_button.clicked.connect(self.edit_frame)
        self.version_label = QLabel()
        self.version_label.setObjectName("draftVersion")
        self.version_label.setProperty("role", "muted")
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.version_label, 1)
        edit_row.addWidget(self.frame_button)
        edit_row.addWidget(self.apply_button)

        checklist_heading = QLabel(tr("&Prüfliste"))
        checklist_heading.setProperty("role", "subheading")
        self.checklist = QListWidget()
        self.checklist.setObjectName("checklist")
        self.checklist.setAccessibleName(tr("Prüfliste"))
        self.checklist.setAccessibleDescription(tr(
            "Haken setzen, wenn Sie den Punkt geprüft haben; Eingabe auf einer Quelle öffnet sie"))
        self.checklist.setWordWrap(True)
        self.checklist.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        checklist_heading.setBuddy(self.checklist)
        self.checklist.itemChanged.connect(self._on_check_item_changed)
        self.checklist.itemActivated.connect(self._on_check_item_activated)
        self.open_source_button = QPushButton(tr("Quelle ö&ffnen"))
        self.open_source_button.setObjectName("openDraftSource")
        self.open_source_button.setAutoDefault(False)
        self.open_source_button.setAccessibleName(tr("Quelle öffnen"))
        self.open_source_button.setAccessibleDescription(tr("Zeigt die in der Prüfliste gewählte Quelle mit markierter Textstelle"))
        self.open_source_button.clicked.connect(self._open_selected_source)
        self.checklist.currentItemChanged.connect(lambda *_: self._update_controls())
        self.blockers_label = QLabel()
        self.blockers_label.setObjectName("draftBlockers")
        self.blockers_label.setWordWrap(True)
        self.blockers_label.setTextFormat(Qt.TextFormat.PlainText)
        check_column = QVBoxLayout()
        check_column.setSpacing(6)
        check_column.addWidget(checklist_heading)
        check_column.addWidget(self.checklist, 1)
        check_column.addWidget(self.open_source_button, 0, Qt.AlignmentFlag.AlignLeft)
        check_column.addWidget(self.blockers_label)
        check_widget = QWidget()
        check_widget.setLayout(check_column)

        text_column = QVBoxLayout()
        text_column.setSpacing(0)
        text_column.addWidget(self.banner)
        text_column.addWidget(self.editor, 1)
        text_column.addSpacing(6)
        text_column.addLayout(edit_row)
        text_widget = QWidget()
        text_widget.setLayout(text_column)
        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.addWidget(text_widget)
        middle.addWidget(check_widget)
        middle.setStretchFactor(0, 3)
        middle.setStretchFactor(1, 2)
        middle.setChildrenCollapsible(False)

        self.confirm_button = QPushButton(tr("&Bestätigen …"))
        self.confirm_button.setObjectName("confirmDraft")
        self.confirm_button.setProperty("role", "primary")
        self.confirm_button.setAutoDefault(False)  # Enter never confirms
        self.confirm_button.setAccessibleName(tr("Bestätigen"))
        self.confirm_button.clicked.connect(self.request_confirm)
        self.reject_button = QPushButton(tr("&Ablehnen …"))
        self.reject_button.setObjectName("rejectDraft")
        self.reject_button.setAutoDefault(False)
        self.reject_button.setAccessibleName(tr("Ablehnen"))
        self.reject_button.setAccessibleDescription(tr("Lehnt den Entwurf ab; ein Grund ist freiwillig"))
        self.reject_button.clicked.connect(self.request_reject)
        self.discard_button = QPushButton(tr("&Verwerfen"))
        self.discard_button.setObjectName("discardDraft")
        self.discard_button.setAutoDefault(False)
        self.discard_button.setAccessibleName(tr("Verwerfen"))
        self.discard_button.setAccessibleDescription(tr("Verwirft den Entwurf, er wird nicht verwendet"))
        self.discard_button.clicked.connect(self.request_discard)
        self.copy_button = QPushButton(tr("&Kopieren"))
        self.copy_button.setObjectName("copyDraft")
        self.copy_button.setAutoDefault(False)
        self.copy_button.setAccessibleName(tr("Kopieren"))
        self.copy_button.setAccessibleDescription(tr("Kopiert den Text; vor der Bestätigung mit Entwurfsvermerk"))
        self.copy_button.clicked.connect(self.copy_text)
        self.export_button = QPushButton(tr("Als Entwurf &exportieren …"))
        self.export_button.setObjectName("exportDraft")
        self.export_button.setAutoDefault(False)
        self.export_button.setAccessibleName(tr("Exportieren"))
        self.export_button.setAccessibleDescription(tr("Speichert ein Word-Dokument; vor der Bestätigung als Entwurf gekennzeichnet"))
        self.export_button.clicked.connect(self.export_docx)
        decisions = QHBoxLayout()
        decisions.addWidget(self.confirm_button)
        decisions.addWidget(self.reject_button)
        decisions.addWidget(self.discard_button)
        decisions.addStretch(1)
        passing_on = QHBoxLayout()
        passing_on.addWidget(self.copy_button)
        passing_on.addWidget(self.export_button)
        passing_on.addStretch(1)
        self.status_label = QLabel()
        self.status_label.setObjectName("draftStatus")
        self.status_label.setProperty("role", "muted")
        self.status_label.setWordWrap(True)

        pane = QVBoxLayout()
        pane.setSpacing(8)
        pane.addWidget(self.title_label)
        pane.addWidget(self.meta_label)
        pane.addWidget(middle, 1)
        pane.addLayout(decisions)
        pane.addLayout(passing_on)
        pane.addWidget(self.status_label)
        self.pane = QWidget()
        self.pane.setObjectName("reviewPane")
        self.pane.setLayout(pane)
        self.nothing_open = QLabel(tr("Wählen Sie links einen Entwurf aus, um ihn zu prüfen."))
        self.nothing_open.setObjectName("noDraftOpen")
        self.nothing_open.setProperty("role", "muted")
        self.nothing_open.setAlignment(Qt.AlignmentFlag.AlignCenter)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.pane, 1)
        right.addWidget(self.nothing_open, 1)
        right_widget = QWidget()
        right_widget.setLayout(right)

        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(left_widget)
        outer.addWidget(right_widget)
        outer.setStretchFactor(0, 2)
        outer.setStretchFactor(1, 5)
        outer.setSizes([300, 760])
        outer.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 14)
        layout.addWidget(outer)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._refresh_checklist)
        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(1000)
        self._clock_timer.timeout.connect(self._update_controls)
        for a, b in ((self.filter_combo, self.list), (self.list, self.editor), (self.editor, self.frame_button), (self.frame_button, self.apply_button),
                     (self.apply_button, self.checklist), (self.checklist, self.open_source_button),
                     (self.open_source_button, self.confirm_button), (self.confirm_button, self.reject_button),
                     (self.reject_button, self.discard_button), (self.discard_button, self.copy_button),
                     (self.copy_button, self.export_button)):
            self.setTabOrder(a, b)
        self._show_draft(None)

    # -- list -------------------------------------------------------------------------------------------------
    @property
    def open_only(self) -> bool:
        return bool(self.filter_combo.currentData())

    def refresh(self, select: str | None = None) -> None:
        """Reload the list; keep (or move to) `select` or the current draft."""
        keep = select or (self.current.id if self.current is not None else None)
        try:
            drafts = self.review.drafts(open_only=self.open_only)
            open_count = sum(1 for d in drafts if d.state.is_open)
        except AktenlotseError as error:
            show_error(self.window(), error)
            return
        self._loading = True
        self.list.clear()
        now = datetime.now(timezone.utc)
        chosen: QTreeWidgetItem | None = None
        for draft in drafts:
            subject = " ".join(draft.title.split())
            subject = subject if len(subject) <= 48 else subject[:47].rstrip() + " …"
            line = " · ".join((draft.kind.label_de, draft.state.label_de, age_de(draft.created, now)))
            row = QTreeWidgetItem([f"{subject}\n{line}"])
            row.setData(0, KEY_ROLE, draft.id)
            row.setData(0, KIND_ROLE, draft.kind.value)
            row.setData(0, STATE_ROLE, draft.state.value)
            row.setData(0, Qt.ItemDataRole.AccessibleTextRole, f"{subject}. {line}")
            row.setToolTip(0, draft.title)
            self.list.addTopLevelItem(row)
            if draft.id == keep:
                chosen = row
        self._loading = False
        self.empty_label.setVisible(not drafts)
        self.open_count_changed.emit(open_count)
        if chosen is not None:
            self.list.setCurrentItem(chosen)
            if self.current is None or self.current.id != keep:
                self.open_draft(keep)
            else:
                self._show_draft(self.review.get(keep))
        elif self.current is not None and self.open_only and not self.current.state.is_open:
            pass  # a just-decided draft stays visible until another is chosen
        elif self.current is not None and keep is not None and all(d.id != keep for d in drafts):
            self._show_draft(None)

    def _on_current_item_changed(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if self._loading or item is None:
            return
        draft_id = item.data(0, KEY_ROLE)
        if self.current is None or draft_id != self.current.id:
            self.open_draft(draft_id)

    def _on_draft_submitted(self, draft_id: str) -> None:
        self.refresh(select=self.current.id if self.current is not None else None)
        self.status_label.setText(tr("Ein neuer Entwurf liegt zur Prüfung bereit."))

    def open_draft(self, draft_id: str) -> Draft | None:
        """Open a draft for review: an open draft goes to "In Prüfung" (the review time starts now)."""
        self._apply_pending_edit()
        try:
            draft = self.review.get(draft_id)
            if draft.state is DraftState.GENERATED:
                draft = self.review.start_review(draft_id)
        except AktenlotseError as error:
            show_error(self.window(), error)
            return None
        self._show_draft(draft)
        self._select_row(draft.id, draft.state)
        self.draft_opened.emit(draft.id)
        return draft

    def _select_row(self, draft_id: str, state: DraftState) -> None:
        for i in range(self.list.topLevelItemCount()):
            row = self.list.topLevelItem(i)
            if row.data(0, KEY_ROLE) == draft_id:
                if row.data(0, STATE_ROLE) != state.value:
                    previous = DraftState(row.data(0, STATE_ROLE)).label_de
                    row.setText(0, row.text(0).replace(f" · {previous} · ", f" · {state.label_de} · ", 1))
                    row.setData(0, STATE_ROLE, state.value)
                self._loading = True
                self.list.setCurrentItem(row)
                self._loading = False

    # -- showing a draft --------------------------------------------------------------------------------------
    def _show_draft(self, draft: Draft | None) -> None:
        self.current = draft
        self.pane.setVisible(draft is not None)
        self.nothing_open.setVisible(draft is None)
        if draft is None:
            self._clock_timer.stop()
            return
        self.title_label.setText(f"{draft.kind.label_de}: {draft.title}")
        created = draft.created.astimezone().strftime("%d.%m.%Y %H:%M")
        parts = [tr("erstellt {when}").format(when=created)]
        if draft.model_name:
            parts.append(tr("Modell {name}").format(name=draft.model_name))
        self.meta_label.setText(" · ".join(parts))
        self._set_banner(draft)
        self.editor.blockSignals(True)
        self.editor.setPlainText(draft.text)
        self.editor.blockSignals(False)
        self.editor.setReadOnly(draft.state is not DraftState.IN_REVIEW)
        self._refresh_checklist()
        if draft.state is DraftState.IN_REVIEW and self.review.policy.min_review_seconds > 0:
            self._clock_timer.start()
        else:
            self._clock_timer.stop()

    def _set_banner(self, draft: Draft) -> None:
        if draft.state is DraftState.CONFIRMED:
            when = draft.decided_at.astimezone().strftime("%d.%m.%Y %H:%M") if draft.decided_at else ""
            text, role = tr("Bestätigt von {who} am {when} – endgültig").format(who=draft.reviewer, when=when), \
                "confirmed-banner"
        elif draft.state is DraftState.REJECTED:
            reason = f" – {draft.reject_reason}" if draft.reject_reason else ""
            text, role = tr("Abgelehnt von {who}{reason}").format(who=draft.reviewer, reason=reason), "closed-banner"
        elif draft.state is DraftState.DISCARDED:
            text, role = tr("Verworfen"), "closed-banner"
        else:
            text, role = tr(DRAFT_LINE), "draft-banner"
        self.banner.setText(text)
        self.banner.setAccessibleName(text)
        self.banner.setProperty("role", role)
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)

    def _preview(self) -> Draft | None:
        """The current draft as if the editor's text were applied (for the live check list)."""
        draft = self.current
        if draft is None:
            return None
        text = self.editor.toPlainText()
        if draft.state is not DraftState.IN_REVIEW or text == draft.text:
            return draft
        version = TextVersion(len(draft.versions) + 1, text, Author.PERSON, self.review.now())
        return dataclasses.replace(draft, versions=[*draft.versions, version], ticked=set(draft.ticked),
                                   opened_sources=set(draft.opened_sources))

    def _refresh_checklist(self) -> None:
        preview = self._preview()
        self._loading = True
        self.checklist.clear()
        if preview is not None:
            review_open = preview.state is DraftState.IN_REVIEW
            for item in preview.checklist(self.review.policy):
                row = QListWidgetItem(item_label(item))
                row.setData(KEY_ROLE, item.key)
                row.setToolTip(item.detail or item.title)
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                if review_open and item.tickable and item.resolution is not Resolution.FIXED:
                    flags |= Qt.ItemFlag.ItemIsUserCheckable
                row.setFlags(flags)
                row.setCheckState(Qt.CheckState.Checked if item.resolved else Qt.CheckState.Unchecked)
                self.checklist.addItem(row)
            if not self.checklist.count():
                row = QListWidgetItem(tr("Keine Hinweise. Bitte lesen Sie den Text trotzdem vollständig."))
                row.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.checklist.addItem(row)
        self._loading = False
        self._update_controls()

    # -- editing ----------------------------------------------------------------------------------------------
    def _on_text_changed(self) -> None:
        self._preview_timer.start()
        self._update_controls()

    @property
    def has_pending_edit(self) -> bool:
        return (self.current is not None and self.current.state is DraftState.IN_REVIEW
                and self.editor.toPlainText() != self.current.text)

    def apply_edit(self) -> bool:
        """Save the editor's text as a new version."""
        if not self.has_pending_edit:
            return False
        try:
            draft = self.review.edit(self.current.id, self.editor.toPlainText())
        except AktenlotseError as error:
            show_error(self.window(), error)
            return False
        self.current = draft
        self._refresh_checklist()
        self.status_label.setText(tr("Änderungen übernommen (Fassung {n}).").format(n=len(draft.versions)))
        return True

    def edit_frame(self) -> FrameDialog | None:
        """A letter's address, subject, information block and signature, in a small form."""
        draft = self.current
        if draft is None or draft.kind is not DraftKind.LETTER or draft.state is not DraftState.IN_REVIEW:
            return None
        self._apply_pending_edit()
        dialog = FrameDialog(self.current, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda d=dialog, draft_id=draft.id: self._save_frame(draft_id, d.values()))
        dialog.open()
        self.frame_dialog = dialog
        return dialog

    def _save_frame(self, draft_id: str, values: dict) -> None:
        try:
            self.current = self.review.edit_frame(draft_id, **values)
        except AktenlotseError as error:
            show_error(self.window(), error)
            return
        self.title_label.setText(f"{self.current.kind.label_de}: {self.current.title}")
        self._refresh_checklist()
        self.status_label.setText(tr("Anschrift und Briefkopf übernommen."))

    def _apply_pending_edit(self) -> None:
        if self.has_pending_edit:
            self.apply_edit()

    # -- check list -------------------------------------------------------------------------------------------
    def _on_check_item_changed(self, row: QListWidgetItem) -> None:
        if self._loading or self.current is None:
            return
        key = row.data(KEY_ROLE)
        if not key:
            return
        self._apply_pending_edit()
        try:
            self.current = self.review.tick(self.current.id, key, row.checkState() == Qt.CheckState.Checked)
        except AktenlotseError as error:
            show_error(self.window(), error)
        QTimer.singleShot(0, self._refresh_checklist)  # not while Qt is still inside itemChanged

    def _on_check_item_activated(self, row: QListWidgetItem) -> None:
        key = str(row.data(KEY_ROLE) or "")
        if key.startswith("source:"):
            self.open_source(int(key.split(":", 1)[1]))
        elif self.current is not None and key:
            item = next((i for i in (self._preview() or self.current).checklist(self.review.policy)
                         if i.key == key), None)
            if item is not None:
                self.select_in_text(item.text)

    def select_in_text(self, text: str) -> bool:
        """Select `text` in the editor (a flagged sentence, a placeholder) so the reviewer sees it in context."""
        found = self.editor.document().find(text.strip())
        if found.isNull():
            return False
        self.editor.setTextCursor(found)
        self.editor.ensureCursorVisible()
        self.editor.setFocus()
        return True

    def _selected_source_number(self) -> int | None:
        row = self.checklist.currentItem()
        key = str(row.data(KEY_ROLE) or "") if row is not None else ""
        return int(key.split(":", 1)[1]) if key.startswith("source:") else None

    def _open_selected_source(self) -> None:
        number = self._selected_source_number()
        if number is not None:
            self.open_source(number)

    def open_source(self, number: int) -> PassageViewer | None:
        """Show the cited passage in its document; counts as "source opened" for the check list."""
        draft = self.current
        source = draft.source(number) if draft is not None else None
        if draft is None or source is None or self.texts is None:
            return None
        if draft.state is DraftState.IN_REVIEW:
            try:
                self.current = self.review.open_source(draft.id, number)
            except AktenlotseError as error:
                show_error(self.window(), error)
        viewer = PassageViewer(Source(number=source.number, chunk=source.chunk), self.texts, self.runner, self)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.destroyed.connect(lambda *_: setattr(self, "viewer", None))
        self.viewer = viewer
        viewer.open()
        self._refresh_checklist()
        self.viewer_opened.emit(viewer)
        return viewer

    # -- deciding ---------------------------------------------------------------------------------------------
    def blockers(self) -> list[str]:
        preview = self._preview()
        return [] if preview is None else preview.blockers(self.review.policy, self.review.now())

    def request_confirm(self) -> ConfirmDialog | None:
        """Apply edits, and if nothing blocks, open the confirm dialog (modal; confirming happens on accept)."""
        draft = self.current
        if draft is None or draft.state is not DraftState.IN_REVIEW:
            return None
        self._apply_pending_edit()
        reasons = self.blockers()
        if reasons:
            self._update_controls()
            self.status_label.setText(tr("Noch nicht möglich: ") + " ".join(reasons))
            return None
        dialog = ConfirmDialog(self.current, self.current.checklist(self.review.policy), self.review.reviewer, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda draft_id=draft.id: self._confirm(draft_id))
        dialog.finished.connect(lambda _result: setattr(self, "confirm_dialog", None))
        dialog.open()
        self.confirm_dialog = dialog
        return dialog

    def _confirm(self, draft_id: str) -> None:
        try:
            draft = self.review.confirm(draft_id)
        except AktenlotseError as error:
            show_error(self.window(), error)
            self._refresh_checklist()
            return
        self._decided(draft, tr("Bestätigt. Der Text ist jetzt endgültig und kann exportiert werden."))

    def request_reject(self) -> RejectDialog | None:
        draft = self.current
        if draft is None or not draft.state.is_open:
            return None
        dialog = RejectDialog(draft, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda d=dialog, draft_id=draft.id: self._reject(draft_id, d.reason))
        dialog.open()
        self.reject_dialog = dialog
        return dialog

    def _reject(self, draft_id: str, reason: str) -> None:
        self._apply_pending_edit()
        try:
            draft = self.review.reject(draft_id, reason)
        except AktenlotseError as error:
            show_error(self.window(), error)
            return
        self._decided(draft, tr("Abgelehnt."))

    def request_discard(self) -> QMessageBox | None:
        draft = self.current
        if draft is None or not draft.state.is_open:
            return None
        box = QMessageBox(QMessageBox.Icon.Question, tr("Entwurf verwerfen"),
                          tr("Den Entwurf verwerfen? Er wird nicht verwendet; die Entscheidung wird protokolliert."),
                          QMessageBox.StandardButton.NoButton, self)
        discard = box.addButton(tr("Verwerfen"), QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(tr("Behalten"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button, draft_id=draft.id: self._discard(draft_id) if button is discard else None)
        box.open()
        self.discard_box = box
        return box

    def _discard(self, draft_id: str) -> None:
        try:
            draft = self.review.discard(draft_id)
        except AktenlotseError as error:
            show_error(self.window(), error)
            return
        self._decided(draft, tr("Verworfen."))

    def _decided(self, draft: Draft, message: str) -> None:
        self.current = draft
        self._show_draft(draft)
        self.refresh(select=draft.id)
        self._show_draft(draft)
        self.status_label.setText(message)
        self.draft_decided.emit(draft.id, draft.state.value)

    # -- leaving the app --------------------------------------------------------------------------------------
    def copy_text(self) -> bool:
        draft = self.current
        if draft is None or draft.state in (DraftState.REJECTED, DraftState.DISCARDED):
            return False
        self._apply_pending_edit()
        try:
            text = self.review.copy_text(draft.id, final=draft.is_final)
        except AktenlotseError as error:
            show_error(self.window(), error)
            return False
        QGuiApplication.clipboard().setText(text)
        self.status_label.setText(tr("Als endgültiger Text kopiert.") if draft.is_final else
                                  tr("Als Entwurf kopiert – mit dem Vermerk „{marker}“.").format(marker=DRAFT_LINE))
        return True

    def choose_export_path(self) -> str:
        """Overridable (tests): the file to write."""
        draft = self.current
        folder = self._export_dir or str(Path.home())
        title = tr("Endgültiges Dokument speichern") if draft and draft.is_final else tr("Als Entwurf speichern")
        chosen, _ = QFileDialog.getSaveFileName(self, title, str(Path(folder) / default_export_name(draft)),
                                                tr(EXPORT_FILTER))
        return chosen

    def export_docx(self, *, final: bool | None = None) -> Task | None:
        """Export: a confirmed draft as final, an open one marked as a draft. `final=True` on an unconfirmed
        draft is refused by the service (and shown), which is what the button can never ask for."""
        draft = self.current
        if draft is None or self._export_task is not None:
            return None
        final = draft.is_final if final is None else final
        self._apply_pending_edit()
        chosen = self.choose_export_path()
        if not chosen:
            return None
        path = Path(chosen)
        if path.suffix.lower() != ".docx":
            path = path.with_suffix(".docx")
        self._export_dir = str(path.parent)
        review = self.review
        task = self.runner.start(lambda _cancel: review.export(draft.id, path, final=final), name="Entwurf exportieren")
        self._export_task = task
        task.result.connect(lambda written: self._on_exported(written, final))
        task.failed.connect(self._on_export_failed)
        task.cancelled.connect(lambda: setattr(self, "_export_outcome", "cancelled"))
        task.finished.connect(self._on_export_finished)
        self._update_controls()
        return task

    def _on_exported(self, written: object, final: bool) -> None:
        self._export_outcome = "result"
        self.status_label.setText((tr("Endgültig gespeichert: {path}") if final else
                                   tr("Als Entwurf gespeichert: {path}")).format(path=written))

    def _on_export_failed(self, error: AktenlotseError) -> None:
        self._export_outcome = "failed"
        show_error(self.window(), error)

    def _on_export_finished(self) -> None:
        self._export_task = None
        self._update_controls()
        self.export_finished.emit(self._export_outcome)

    # -- state ------------------------------------------------------------------------------------------------
    def _update_controls(self) -> None:
        draft = self.current
        in_review = draft is not None and draft.state is DraftState.IN_REVIEW
        is_open = draft is not None and draft.state.is_open
        reasons = self.blockers() if in_review else []
        self.confirm_button.setEnabled(in_review and not reasons)
        self.confirm_button.setToolTip(" ".join(reasons) if reasons else tr("Prüfung abschließen und bestätigen"))
        self.confirm_button.setAccessibleDescription(self.confirm_button.toolTip())
        self.reject_button.setEnabled(is_open)
        self.discard_button.setEnabled(is_open)
        self.apply_button.setEnabled(self.has_pending_edit)
        self.frame_button.setVisible(draft is not None and draft.kind is DraftKind.LETTER)
        self.frame_button.setEnabled(in_review)
        usable = draft is not None and draft.state in (DraftState.IN_REVIEW, DraftState.CONFIRMED,
                                                       DraftState.GENERATED)
        self.copy_button.setEnabled(usable)
        self.copy_button.setText(tr("Als endgültig &kopieren") if draft is not None and draft.is_final
                                 else tr("Als Entwurf &kopieren"))
        self.export_button.setEnabled(usable and self._export_task is None)
        self.export_button.setText(tr("Endgültig &exportieren …") if draft is not None and draft.is_final
                                   else tr("Als Entwurf &exportieren …"))
        self.open_source_button.setEnabled(self._selected_source_number() is not None and self.texts is not None)
        if draft is not None:
            versions = len(draft.versions)
            edited = tr(" – ungespeicherte Änderungen") if self.has_pending_edit else ""
            self.version_label.setText(tr("Fassung {n}{edited}").format(n=versions, edited=edited)
                                       if versions > 1 else tr("Fassung 1 (vom Modell){edited}").format(edited=edited))
        if in_review:
            text = tr("Noch offen: ") + " ".join(reasons) if reasons else tr(
                "Alle Punkte erledigt. Bestätigen schließt die Prüfung ab.")
            self.blockers_label.setProperty("role", "reason" if reasons else "muted")
        else:
            text = "" if draft is None or draft.state is not DraftState.CONFIRMED else tr(
                "Dieser Text ist bestätigt und kann als endgültig exportiert oder kopiert werden.")
            self.blockers_label.setProperty("role", "muted")
        self.blockers_label.setText(text)
        self.blockers_label.style().unpolish(self.blockers_label)
        self.blockers_label.style().polish(self.blockers_label)
