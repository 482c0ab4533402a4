"""The passage viewer: the whole document as indexed, the cited passage highlighted and scrolled into view.

Everything from the document is shown as plain text (`setPlainText`, labels in `Qt.PlainText`): a document can
never inject markup into the viewer.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import AktenlotseError
from app.core.lookup import Source
from app.ui.i18n import tr
from app.ui.lookup_facade import LookupFacade
from app.ui.style import HIGHLIGHT_BG, INFO_BG, INFO_INK, STYLE_SHEET
from app.ui.task_runner import Task, TaskRunner, wrap_exception

CHANGED_TEXT = "Die Datei wurde seit der Indexierung geändert – angezeigt wird die gespeicherte Textstelle."
MOVED_TEXT = "Die Datei wurde seit der Indexierung geändert – die Textstelle steht jetzt an anderer Position."
SHARED_TEXT = ("Fachbereichswissen aus der Sammlung „{collection}“ (Rechenzentrum): angezeigt wird die "
               "veröffentlichte Textstelle. Das Dokument liegt nicht auf diesem Rechner und kann nicht geöffnet werden.")


def find_passage(document: str, passage: str, start: int, end: int) -> tuple[int, int] | None:
    """Where `passage` is in `document`: at its indexed offsets, else anywhere (also with other line breaks)."""
    if 0 <= start <= end <= len(document) and document[start:end] == passage:
        return start, end
    if not passage.strip():
        return None
    found = document.find(passage)
    if found >= 0:
        return found, found + len(passage)
    words = passage.split()
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.search(pattern, document)
    return (match.start(), match.end()) if match else None


class PassageViewer(QDialog):
    """`PassageViewer(source, lookup, runner)`: loads `lookup.document_text(source.path)` on the runner.

    `loaded` is emitted once the text (or the fallback: the stored passage alone) is shown. A departmental source
    (`source.chunk.is_shared`) is shown as its passage alone with its origin; nothing is loaded or opened locally.
    """

    loaded = Signal()

    def __init__(
        self,
        source: Source,
        lookup: LookupFacade,
        runner: TaskRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("passageViewer")
        self.setStyleSheet(STYLE_SHEET)
        self.source = source
        self._lookup = lookup
        self._runner = runner
        self._task: Task | None = None
        self._range: tuple[int, int] | None = None
        self._is_loaded = False
        chunk = source.chunk
        title = tr("Quelle [{n}] – {file}").format(n=source.number, file=source.file_name)
        if chunk.is_shared:
            title = tr("Quelle [{n}] – Fachbereich „{collection}“ – {file}").format(
                n=source.number, collection=chunk.collection, file=source.file_name)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.resize(860, 640)

        heading = QLabel(title)
        heading.setProperty("role", "heading")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        facts = QFormLayout()
        facts.setHorizontalSpacing(14)
        facts.setVerticalSpacing(4)
        self.fact_labels: dict[str, QLabel] = {}
        facts_rows = [
            (tr("Datei"), source.file_name),
            (tr("Seite"), source.page_label or tr("ohne Seitenangabe")),
            (tr("Abschnitt"), chunk.heading or tr("ohne Überschrift")),
            (tr("Pfad"), source.path),
        ]
        if chunk.is_shared:
            facts_rows.insert(0, (tr("Herkunft"), tr("Fachbereichswissen aus der Sammlung „{collection}“ "
                                                    "(Rechenzentrum)").format(collection=chunk.collection)))
        for key, value in facts_rows:
            label = QLabel(value)
            label.setTextFormat(Qt.TextFormat.PlainText)  # file names and headings come from documents
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if key == tr("Pfad"):
                label.setProperty("role", "muted")
            facts.addRow(key + ":", label)
            self.fact_labels[key] = label

        self.notice = QLabel()
        self.notice.setObjectName("passageNotice")
        self.notice.setProperty("role", "warning")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)

        self.text_view = QTextBrowser()
        self.text_view.setObjectName("passageText")
        self.text_view.setOpenLinks(False)
        self.text_view.setAccessibleName(tr("Text des Dokuments"))
        self.text_view.setAccessibleDescription(
            tr("Die zitierte Textstelle ist gelb hervorgehoben: {location}").format(location=source.location_de())
        )
        self.text_view.setPlainText(tr("Dokument wird geladen …"))

        self.open_button = QPushButton(tr("Original ö&ffnen"))
        self.open_button.setObjectName("openOriginal")
        self.open_button.setAccessibleName(tr("Original öffnen"))
        self.open_button.setAccessibleDescription(tr("Öffnet die Datei im zugehörigen Programm"))
        self.open_button.clicked.connect(self.open_original)
        self.close_button = QPushButton(tr("&Schließen"))
        self.close_button.setObjectName("closeViewer")
        self.close_button.setAccessibleName(tr("Schließen"))
        self.close_button.clicked.connect(self.close)
        self.close_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addLayout(facts)
        layout.addWidget(self.notice)
        layout.addWidget(self.text_view, 1)
        layout.addLayout(buttons)

        if chunk.is_shared:
            # departmental knowledge: only the published passage exists here; no local file to load or open
            self.open_button.setVisible(False)
            self.open_button.setEnabled(False)
            self._set_notice(tr(SHARED_TEXT).format(collection=chunk.collection))
            self.notice.setProperty("role", "shared-origin")
            self.notice.setStyleSheet(
                f"background: {INFO_BG}; color: {INFO_INK}; border: 1px solid #9dbbe0; padding: 6px 8px;")
            self._show_passage_alone()
        elif runner is not None:
            task = runner.start(lambda _cancel: lookup.document_text(source.path), name="Dokument laden")
            self._task = task
            task.result.connect(self._show_document)
            task.failed.connect(self._show_error)
            task.finished.connect(self._on_finished)
        else:
            self.setCursor(Qt.CursorShape.WaitCursor)
            try:
                text = lookup.document_text(source.path)
            except Exception as exc:  # noqa: BLE001 - shown to the person, the passage still appears
                self._show_error(wrap_exception(exc))
            else:
                self._show_document(text)
            finally:
                self.unsetCursor()

    # -- public ---------------------------------------------------------------------------
    @property
    def is_loaded(self) -> bool:
        return self._is_loaded

    def highlight_range(self) -> tuple[int, int] | None:
        """Character offsets of the highlighted passage in the shown text (None before loading)."""
        return self._range

    def highlighted_text(self) -> str:
        if self._range is None:
            return ""
        return self.text_view.toPlainText()[self._range[0]:self._range[1]]

    def notice_text(self) -> str:
        return self.notice.text() if self.notice.isVisibleTo(self) else ""

    def open_original(self) -> bool:
        if self.source.chunk.is_shared:
            return False
        ok = self.open_url(QUrl.fromLocalFile(self.source.path))
        if not ok:
            self._set_notice(tr("Die Datei konnte nicht geöffnet werden: {path}").format(path=self.source.path))
        return ok

    def open_url(self, url: QUrl) -> bool:
        """Overridable (tests): hands the file to the desktop's program for it."""
        return QDesktopServices.openUrl(url)

    # -- loading --------------------------------------------------------------------------
    def _show_document(self, text: object) -> None:
        document = str(text)
        chunk = self.source.chunk
        found = find_passage(document, chunk.text, chunk.start, chunk.end)
        if found is None:
            self._set_notice(tr(CHANGED_TEXT))
            self._show_passage_alone()
            return
        if found != (chunk.start, chunk.end):
            self._set_notice(tr(MOVED_TEXT))
        self.text_view.setPlainText(document)
        self._highlight(*found)

    def _show_error(self, error: AktenlotseError) -> None:
        self._set_notice(
            tr("Das Dokument kann nicht angezeigt werden: {message} Angezeigt wird die gespeicherte Textstelle.")
            .format(message=error.user_message)
        )
        self._show_passage_alone()

    def _show_passage_alone(self) -> None:
        self.text_view.setPlainText(self.source.passage)
        self._highlight(0, len(self.source.passage))

    def _highlight(self, start: int, end: int) -> None:
        self._range = (start, end)
        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        marked = QTextCharFormat()
        marked.setBackground(QColor(HIGHLIGHT_BG))
        cursor.mergeCharFormat(marked)
        self._is_loaded = True
        self.scroll_to_passage()
        QTimer.singleShot(0, self.scroll_to_passage)  # again once the dialog has its final size
        self.loaded.emit()

    def scroll_to_passage(self) -> None:
        """Put the passage near the top third of the view, its end visible too when it fits."""
        if self._range is None:
            return
        start, end = self._range
        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(end)
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()
        cursor.setPosition(start)
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()
        bar = self.text_view.verticalScrollBar()
        top = self.text_view.cursorRect(cursor).top()
        margin = self.text_view.viewport().height() // 5
        if top > margin:
            end_cursor = QTextCursor(self.text_view.document())
            end_cursor.setPosition(end)
            bottom = self.text_view.cursorRect(end_cursor).bottom()
            room = self.text_view.viewport().height() - bottom
            bar.setValue(bar.value() + max(0, min(top - margin, room)))

    def passage_is_visible(self) -> bool:
        """True if the start of the highlighted passage lies inside the visible part of the view."""
        if self._range is None:
            return False
        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(self._range[0])
        return self.text_view.viewport().rect().contains(self.text_view.cursorRect(cursor).center())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.scroll_to_passage)

    def _set_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(True)
        self.notice.setAccessibleName(text)

    def _on_finished(self) -> None:
        self._task = None
