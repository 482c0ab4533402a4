"""The "Bibliothek" workspace: which folders are indexed, indexing progress with Abbrechen, per-file status, quick search."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.config import EffectiveConfig
from app.core.documents import FileRecord
from app.core.errors import AktenlotseError
from app.core.progress import Progress
from app.ui.file_status_model import (
    FileRow,
    FileStatusModel,
    StatusFilterModel,
    StatusGroup,
    summary_text,
)
from app.ui.i18n import tr
from app.ui.library_facade import (
    EMBEDDING,
    LibraryFacade,
    apply_event,
    eta_seconds,
    format_eta,
    is_inside,
    phase_of,
    phase_text,
)
from app.ui.library_search import LibrarySearchBox
from app.ui.style import lock_icon
from app.ui.task_runner import Task, TaskRunner

LOCKED_ROOTS_TEXT = "Freigegebene Ordner legt Ihre IT fest."

#: Chooses a folder; the default is QFileDialog.getExistingDirectory (tests pass a stand-in).
ChooseFolder = Callable[[QWidget], str]

PAGE_STYLE = """
QProgressBar#indexProgress { max-width: 100000px; max-height: 16px; min-height: 16px; }
QLabel[role="section"] { font-weight: 600; }
"""


WATCH_POLL_MS = 2000  # how often the page asks the folder watcher for changes (it debounces itself)

def _choose_folder(parent: QWidget) -> str:
    return QFileDialog.getExistingDirectory(parent, tr("Ordner für den Index wählen"))


class LibraryPage(QWidget):
    """One page; state lives in the FileStatusModel and in the two tasks (indexing, search) it may run."""

    indexing_finished = Signal(str)  # "result" | "failed" | "cancelled"
    statuses_loaded = Signal()

    def __init__(
        self,
        library: LibraryFacade,
        config: EffectiveConfig,
        runner: TaskRunner,
        choose_folder: ChooseFolder | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page-bibliothek")
        self.setStyleSheet(PAGE_STYLE)
        self.library = library
        self.config = config
        self.runner = runner
        self._choose_folder = choose_folder or _choose_folder
        self._index_task: Task | None = None
        self._auto_update = False
        self._statuses_seen = False
        self._watching = False
        self._watch_timer = QTimer(self)
        self._watch_timer.setInterval(WATCH_POLL_MS)
        self._watch_timer.timeout.connect(self._on_watch_tick)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 14)
        layout.setSpacing(10)
        heading = QLabel(tr("Bibliothek"))
        heading.setProperty("role", "heading")
        heading.setAccessibleName(tr("Bibliothek"))
        layout.addWidget(heading)

        top = QHBoxLayout()
        top.setSpacing(18)
        top.addWidget(self._build_folders(), 1)
        top.addWidget(self._build_progress(), 1)
        layout.addLayout(top)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._build_table())
        self.search_box = LibrarySearchBox(library, runner, lambda: self._index_task is not None)
        splitter.addWidget(self.search_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

        QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self.search_box.focus_search)
        self.set_config(config)
        self._update_buttons()
        self.refresh_statuses()  # what earlier runs left in the manifest

    # -- building -------------------------------------------------------------------------
    def _build_folders(self) -> QWidget:
        box = QWidget()
        grid = QVBoxLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        title = QLabel(tr("Ordner im Index"))
        title.setProperty("role", "section")
        self.folder_list = QListWidget()
        self.folder_list.setObjectName("folderList")
        self.folder_list.setAccessibleName(tr("Ordner im Index"))
        self.folder_list.setAccessibleDescription(tr("Diese Ordner werden mit allen Unterordnern indexiert."))
        self.folder_list.setMaximumHeight(64)
        title.setBuddy(self.folder_list)
        self.roots_label = QLabel()
        self.roots_label.setObjectName("allowedRoots")
        self.roots_label.setProperty("role", "muted")
        self.roots_label.setWordWrap(True)
        self.roots_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.locked_icon = QLabel()
        self.locked_icon.setPixmap(lock_icon(14).pixmap(14, 14))
        self.locked_icon.setAccessibleName(tr("Durch Ihre IT festgelegt"))
        self.locked_label = QLabel(tr(LOCKED_ROOTS_TEXT))
        self.locked_label.setObjectName("rootsLocked")
        self.locked_label.setProperty("role", "muted")
        locked_row = QHBoxLayout()
        locked_row.setSpacing(6)
        locked_row.addWidget(self.locked_icon)
        locked_row.addWidget(self.locked_label, 1)
        self.folder_message = QLabel()
        self.folder_message.setObjectName("folderMessage")
        self.folder_message.setProperty("role", "reason")
        self.folder_message.setWordWrap(True)
        self.folder_message.setVisible(False)

        self.add_button = QPushButton(tr("&Ordner hinzufügen …"))
        self.add_button.setAccessibleName(tr("Ordner hinzufügen"))
        self.add_button.setAccessibleDescription(tr("Nur Ordner innerhalb der freigegebenen Ordner"))
        self.add_button.clicked.connect(self.add_folder)
        self.remove_button = QPushButton(tr("Ent&fernen"))
        self.remove_button.setAccessibleName(tr("Ausgewählten Ordner aus dem Index entfernen"))
        self.remove_button.clicked.connect(self.remove_selected_folder)
        self.folder_list.currentRowChanged.connect(lambda _row: self._update_buttons())
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)

        grid.addWidget(title)
        grid.addWidget(self.folder_list)
        grid.addLayout(buttons)
        grid.addWidget(self.folder_message)
        grid.addWidget(self.roots_label)
        grid.addLayout(locked_row)
        return box

    def _build_progress(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        title = QLabel(tr("Indexierung"))
        title.setProperty("role", "section")
        self.index_button = QPushButton(tr("Jetzt &indexieren"))
        self.index_button.setProperty("role", "primary")
        self.index_button.setAccessibleName(tr("Jetzt indexieren"))
        self.index_button.setAccessibleDescription(tr("Liest neue und geänderte Dateien in den Index ein"))
        self.index_button.clicked.connect(self.start_indexing)
        self.cancel_button = QPushButton(tr("Abbre&chen"))
        self.cancel_button.setAccessibleName(tr("Indexierung abbrechen"))
        self.cancel_button.setToolTip(tr("Alt+C. Bereits Indexiertes bleibt durchsuchbar; der nächste Lauf macht weiter."))
        self.cancel_button.clicked.connect(self.cancel_indexing)
        buttons = QHBoxLayout()
        buttons.addWidget(self.index_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("indexProgress")
        self.progress_bar.setAccessibleName(tr("Fortschritt der Indexierung"))
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_label = QLabel(tr("Noch nicht indexiert in dieser Sitzung."))
        self.progress_label.setObjectName("progressText")
        self.progress_label.setWordWrap(True)
        self.progress_label.setAccessibleName(tr("Stand der Indexierung"))
        self.phase_label = QLabel()
        self.phase_label.setObjectName("phaseText")
        self.phase_label.setProperty("role", "muted")
        self.phase_label.setWordWrap(True)
        self.index_error = QLabel()
        self.index_error.setObjectName("indexError")
        self.index_error.setProperty("role", "reason")
        self.index_error.setWordWrap(True)
        self.index_error.setVisible(False)
        column.addWidget(title)
        column.addLayout(buttons)
        column.addWidget(self.progress_bar)
        column.addWidget(self.progress_label)
        column.addWidget(self.phase_label)
        column.addWidget(self.index_error)
        column.addStretch(1)
        return box

    def _build_table(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 4, 0, 0)
        column.setSpacing(6)
        row = QHBoxLayout()
        title = QLabel(tr("Dateien"))
        title.setProperty("role", "section")
        self.summary_label = QLabel()
        self.summary_label.setObjectName("summary")
        self.summary_label.setAccessibleName(tr("Zusammenfassung"))
        filter_label = QLabel(tr("A&nzeigen:"))
        self.filter_combo = QComboBox()
        self.filter_combo.setAccessibleName(tr("Dateien nach Status filtern"))
        self.filter_combo.addItem(tr("alle"), None)
        for group in (StatusGroup.INDEXED, StatusGroup.SKIPPED, StatusGroup.ERROR, StatusGroup.PENDING):
            self.filter_combo.addItem(group.label_de if group is not StatusGroup.PENDING else tr("wartet"), group.value)
        filter_label.setBuddy(self.filter_combo)
        self.filter_combo.currentIndexChanged.connect(self._on_filter_changed)
        row.addWidget(title)
        row.addSpacing(12)
        row.addWidget(self.summary_label, 1)
        row.addWidget(filter_label)
        row.addWidget(self.filter_combo)

        self.file_model = FileStatusModel(self)
        self.file_proxy = StatusFilterModel(self)
        self.file_proxy.setSourceModel(self.file_model)
        self.table = QTableView()
        self.table.setObjectName("fileTable")
        self.table.setAccessibleName(tr("Dateien und ihr Status"))
        self.table.setModel(self.file_proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(FileStatusModel.FILE, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(FileStatusModel.FILE, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(FileStatusModel.REASON, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(FileStatusModel.FILE, 300)
        header.resizeSection(FileStatusModel.STATUS, 220)
        header.resizeSection(FileStatusModel.CHUNKS, 90)
        header.resizeSection(FileStatusModel.PAGES, 60)
        self.file_model.rowsInserted.connect(self._update_summary)
        self.file_model.dataChanged.connect(self._update_summary)
        self.file_model.modelReset.connect(self._update_summary)
        column.addLayout(row)
        column.addWidget(self.table, 1)
        self._update_summary()
        return box

    # -- folders --------------------------------------------------------------------------
    def set_config(self, config: EffectiveConfig) -> None:
        """Show the allowed roots (after settings were saved, too); drop folders no longer inside them."""
        self.config = config
        roots = config.allowed_roots
        kept = [folder for folder in self.folders if is_inside(folder, roots)]
        self._set_folders(kept or list(roots))
        self.roots_label.setText(
            tr("Freigegeben: {roots}").format(roots="; ".join(str(root) for root in roots))
        )
        self.roots_label.setAccessibleName(self.roots_label.text())
        locked = config.is_locked("allowed_roots")
        self.locked_icon.setVisible(locked)
        self.locked_label.setVisible(locked)

    @property
    def folders(self) -> list[Path]:
        if not hasattr(self, "folder_list"):
            return []
        return [Path(self.folder_list.item(row).data(Qt.ItemDataRole.UserRole)) for row in range(self.folder_list.count())]

    def _set_folders(self, folders: list[Path]) -> None:
        self.folder_list.clear()
        for folder in folders:
            self._append_folder(folder)

    def _append_folder(self, folder: Path) -> None:
        item = QListWidgetItem(str(folder))
        item.setData(Qt.ItemDataRole.UserRole, str(folder))
        item.setToolTip(str(folder))
        self.folder_list.addItem(item)

    def add_folder(self) -> bool:
        """Ask for a folder; True if it was added. One outside the allowed roots is refused with a message."""
        chosen = self._choose_folder(self)
        if not chosen:
            return False
        folder = Path(chosen)
        roots = self.config.allowed_roots
        if not is_inside(folder, roots):
            text = tr("„{folder}“ liegt außerhalb der freigegebenen Ordner und kann nicht indexiert werden.").format(
                folder=folder
            )
            if self.config.is_locked("allowed_roots"):  # the lock notice below already says who decides
                text += " " + tr("Wenden Sie sich an Ihre IT, wenn Sie den Ordner brauchen.")
            else:
                text += " " + tr("Sie können die freigegebenen Ordner unter Datei › Einstellungen erweitern.")
            self._show_folder_message(text)
            return False
        try:
            self.library.check_folders([folder])  # the service's own check: exists, inside a root it scans
        except AktenlotseError as error:
            self._show_folder_message(error.user_message)
            return False
        if any(folder.resolve() == existing.resolve() for existing in self.folders):
            self._show_folder_message(tr("„{folder}“ ist bereits im Index.").format(folder=folder))
            return False
        self._show_folder_message("")
        self._append_folder(folder)
        self.folder_list.setCurrentRow(self.folder_list.count() - 1)
        self._update_buttons()
        return True

    def remove_selected_folder(self) -> None:
        row = self.folder_list.currentRow()
        if row >= 0:
            self.folder_list.takeItem(row)
        self._update_buttons()

    def _show_folder_message(self, text: str) -> None:
        self.folder_message.setText(text)
        self.folder_message.setAccessibleName(text)
        self.folder_message.setVisible(bool(text))

    # -- indexing -------------------------------------------------------------------------
    @property
    def is_indexing(self) -> bool:
        return self._index_task is not None

    def start_indexing(self) -> Task | None:
        if self._index_task is not None:
            return self._index_task
        folders = self.folders
        if not folders:
            self._show_folder_message(tr("Fügen Sie zuerst einen Ordner hinzu."))
            return None
        library = self.library
        task = self.runner.start(lambda cancel: library.index(folders, cancel), name="Bibliothek indexieren")
        self._index_task = task
        task.progress_changed.connect(self._on_progress_changed)
        task.item_yielded.connect(self._on_item_yielded)
        task.result.connect(lambda _value: self._on_index_ended("result"))
        task.failed.connect(self._on_index_failed)
        task.cancelled.connect(lambda: self._on_index_ended("cancelled"))
        self.index_error.setVisible(False)
        self.progress_bar.setRange(0, 0)  # busy until the first Progress
        self.progress_label.setText(tr("Dateien werden gesucht …"))
        self.phase_label.setText("")
        self._update_buttons()
        return task

    def cancel_indexing(self) -> None:
        if self._index_task is not None:
            self._index_task.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText(tr("Wird abgebrochen …"))

    def _on_progress_changed(self, progress: Progress) -> None:
        phase = phase_of(progress)
        if progress.total and phase != "done":
            self.progress_bar.setRange(0, progress.total)
            self.progress_bar.setValue(min(progress.done, progress.total))
            text = (tr("{done} von {total} Abschnitten") if phase == EMBEDDING else tr("{done} von {total} Dateien")).format(
                done=progress.done, total=progress.total
            )
            eta = format_eta(eta_seconds(progress))
            if eta:
                text += " – " + eta
        elif phase == "done":
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(1)
            text = progress.message or tr("Fertig.")
        else:
            self.progress_bar.setRange(0, 0)  # busy: scanning, checking the index
            text = progress.message or tr("Bitte warten …")
        self.progress_label.setText(text)
        self.progress_label.setAccessibleDescription(text)
        self.progress_bar.setAccessibleDescription(text)
        self.phase_label.setText(phase_text(phase))

    def _on_item_yielded(self, item: object) -> None:
        path = getattr(item, "path", None)
        if path is None:
            return
        row = apply_event(self.file_model.get(str(path)), item)
        if row is None:
            self.file_model.remove(str(path))
        else:
            self.file_model.upsert(row)

    def _on_index_failed(self, error: AktenlotseError) -> None:
        message = getattr(error, "user_message", str(error))
        self.index_error.setText(tr("Die Indexierung ist fehlgeschlagen: {message}").format(message=message))
        self.index_error.setAccessibleName(self.index_error.text())
        self.index_error.setToolTip(getattr(error, "detail", "") or "")
        self.index_error.setVisible(True)
        self._on_index_ended("failed")

    def _on_index_ended(self, outcome: str) -> None:
        self._index_task = None
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1 if outcome == "result" else 0)
        self.phase_label.setText("")
        done = {
            "result": tr("Fertig: {summary}"),
            "cancelled": tr("Abgebrochen. Bereits Indexiertes bleibt durchsuchbar ({summary})."),
            "failed": tr("Nicht abgeschlossen ({summary})."),
        }[outcome]
        self.progress_label.setText(done.format(summary=summary_text(self.file_model.counts())))
        self._update_buttons()
        self.refresh_statuses()
        if self._auto_update and outcome == "result":
            self._start_watching()
        self.indexing_finished.emit(outcome)

    def refresh_statuses(self) -> Task:
        """Load the manifest's statuses in the background (the service may not be GUI-thread safe)."""
        library = self.library
        task = self.runner.start(lambda _cancel: library.statuses(), name="Indexstatus laden")
        task.result.connect(self._on_statuses)
        return task

    # -- keeping the index current without being asked ---------------------------------------
    def enable_auto_update(self) -> None:
        """Re-check already indexed folders now (cheap when nothing changed), then watch them and re-index on changes.

        The bootstrap turns this on for the real app; tests drive indexing explicitly.
        """
        self._auto_update = True
        if self._statuses_seen:
            self._auto_start()
        else:
            self.statuses_loaded.connect(self._auto_start, Qt.ConnectionType.SingleShotConnection)

    def _auto_start(self) -> None:
        # Only folders the user has indexed before: the first run over a folder is an explicit click.
        if self.file_model.rowCount() and self.folders and self._index_task is None:
            self.start_indexing()

    def _start_watching(self) -> None:
        watch = getattr(self.library, "watch", None)
        if watch is None or self._watching or not self.folders:
            return
        folders = self.folders
        task = self.runner.start(lambda _cancel: watch(folders), name="Ordner beobachten")  # inotify setup can take a while
        task.result.connect(lambda _value: self._watch_timer.start())
        self._watching = True

    def _on_watch_tick(self) -> None:
        changes = getattr(self.library, "changes", None)
        if changes is None or self._index_task is not None:
            return  # changes stay queued in the watcher until the running pass is over
        if changes():
            self.start_indexing()

    def _on_statuses(self, records: list[FileRecord]) -> None:
        rows = [FileRow.from_record(record) for record in records]
        if self._index_task is not None:
            for row in rows:  # live events are newer than a snapshot taken meanwhile
                if self.file_model.get(row.path) is None:
                    self.file_model.upsert(row)
        else:
            self.file_model.set_records(rows)
        self._statuses_seen = True
        self.statuses_loaded.emit()

    # -- table ----------------------------------------------------------------------------
    def _on_filter_changed(self, _index: int) -> None:
        self.file_proxy.set_group(self.filter_combo.currentData())

    def _update_summary(self, *_args: object) -> None:
        counts = self.file_model.counts()
        text = summary_text(counts) if sum(counts.values()) else tr("Noch keine Dateien im Index.")
        self.summary_label.setText(text)
        self.summary_label.setAccessibleName(text)

    # -- state ----------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        running = self._index_task is not None
        self.index_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.add_button.setEnabled(not running)
        self.remove_button.setEnabled(not running and self.folder_list.currentRow() >= 0)

