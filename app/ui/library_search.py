"""The quick search of the Bibliothek page: a query runs `search` through the TaskRunner; hits show file, page,
section, a snippet and which mode answered (Stichwortsuche / Bedeutungssuche / kombinierte Suche)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import PurePath

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.documents import Hit
from app.core.errors import AktenlotseError
from app.ui.i18n import tr
from app.ui.library_facade import LibraryFacade
from app.ui.task_runner import Task, TaskRunner

SNIPPET_CHARS = 180
SEARCH_K = 10


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + " …"


class LibrarySearchBox(QWidget):
    """Works while indexing goes on: the search runs on its own pool thread; a newer query supersedes an older one."""

    search_finished = Signal(int)  # number of hits shown (-1 after a failure)

    def __init__(
        self,
        library: LibraryFacade,
        runner: TaskRunner,
        indexing_running: Callable[[], bool] = lambda: False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("librarySearch")
        self.library = library
        self.runner = runner
        self._indexing_running = indexing_running
        self._search_task: Task | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 8, 0, 0)
        column.setSpacing(6)
        grid = QGridLayout()
        label = QLabel(tr("Im Index &suchen:"))
        label.setProperty("role", "section")
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("searchEdit")
        self.search_edit.setAccessibleName(tr("Im Index suchen"))
        self.search_edit.setPlaceholderText(tr("z. B. Hundesteuer Ermäßigung oder § 28 VwVfG"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.returnPressed.connect(self.search)
        label.setBuddy(self.search_edit)
        self.search_button = QPushButton(tr("Suchen"))
        self.search_button.setAccessibleName(tr("Suche starten"))
        self.search_button.clicked.connect(self.search)
        grid.addWidget(label, 0, 0)
        grid.addWidget(self.search_edit, 0, 1)
        grid.addWidget(self.search_button, 0, 2)
        self.search_status = QLabel()
        self.search_status.setObjectName("searchStatus")
        self.search_status.setProperty("role", "muted")
        self.search_status.setWordWrap(True)
        self.hits = QTreeWidget()
        self.hits.setObjectName("hitList")
        self.hits.setAccessibleName(tr("Treffer"))
        self.hits.setRootIsDecorated(False)
        self.hits.setAlternatingRowColors(True)
        self.hits.setUniformRowHeights(True)
        self.hits.setHeaderLabels([tr("Datei"), tr("Seite"), tr("Abschnitt"), tr("Ausschnitt"), tr("Suchart")])
        header = self.hits.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 250)
        header.resizeSection(1, 50)
        header.resizeSection(2, 190)
        header.resizeSection(4, 140)
        column.addLayout(grid)
        column.addWidget(self.search_status)
        column.addWidget(self.hits, 1)


    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def search(self) -> Task | None:
        query = self.search_edit.text().strip()
        if not query:
            self.search_status.setText(tr("Geben Sie einen Suchbegriff ein."))
            return None
        if self._search_task is not None:
            self._search_task.cancel()
        library = self.library
        task = self.runner.start(lambda _cancel: library.search(query, k=SEARCH_K), name="Im Index suchen")
        self._search_task = task
        task.result.connect(lambda hits, t=task, q=query: self._on_search_result(t, q, hits))
        task.failed.connect(lambda error, t=task: self._on_search_failed(t, error))
        self.search_status.setText(tr("Suche läuft …"))
        return task

    def _on_search_result(self, task: Task, query: str, hits: list[Hit]) -> None:
        if task is not self._search_task:
            return  # an older search answered after a newer one started
        self._search_task = None
        self.hits.clear()
        for hit in hits:
            chunk = hit.chunk
            page = "" if chunk.page is None else str(chunk.page)
            if chunk.page is not None and chunk.page_end and chunk.page_end != chunk.page:
                page = f"{chunk.page}–{chunk.page_end}"
            item = QTreeWidgetItem([PurePath(chunk.path).name, page, chunk.heading, snippet(chunk.text), hit.mode.label_de])
            item.setToolTip(0, chunk.path)
            item.setToolTip(2, chunk.heading)
            item.setToolTip(3, "<p>" + html.escape(snippet(chunk.text, 800)) + "</p>")
            item.setData(0, Qt.ItemDataRole.UserRole, hit)
            self.hits.addTopLevelItem(item)
        if hits:
            modes = sorted({hit.mode.label_de for hit in hits})
            text = tr("{n} Treffer für „{query}“ ({modes})").format(n=len(hits), query=query, modes=", ".join(modes))
        else:
            text = tr("Keine Treffer für „{query}“.").format(query=query)
            if self._indexing_running():
                text += " " + tr("Die Indexierung läuft noch; später gibt es vielleicht mehr.")
        self.search_status.setText(text)
        self.search_status.setAccessibleName(text)
        self.search_finished.emit(len(hits))

    def _on_search_failed(self, task: Task, error: AktenlotseError) -> None:
        if task is not self._search_task:
            return
        self._search_task = None
        message = getattr(error, "user_message", str(error))
        self.search_status.setText(tr("Die Suche ist fehlgeschlagen: {message}").format(message=message))
        self.search_finished.emit(-1)
