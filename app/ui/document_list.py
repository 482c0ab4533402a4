"""The checkable list of indexed documents grouped under folder headings (Zusammenfassen and Entwerfen share it)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import PurePath

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from app.ui.i18n import tr
from app.ui.style import MUTED

FOLDER_ROLE = Qt.ItemDataRole.UserRole + 1  # set on the folder header rows of the document list


def fill_documents(widget: QListWidget, paths: Iterable[str], checked: set[str]) -> int:
    """Replace the rows by `paths` (sorted by folder, then name), a bold header row per folder; returns the count."""
    ordered = sorted(set(paths), key=lambda p: (str(PurePath(p).parent).casefold(), PurePath(p).name.casefold()))
    widget.blockSignals(True)
    widget.clear()
    folder = None
    for path in ordered:
        pure = PurePath(path)
        if str(pure.parent) != folder:  # a header row per folder, so file names need no folder beside them
            folder = str(pure.parent)
            header = QListWidgetItem(folder)
            header.setData(FOLDER_ROLE, folder)
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            header.setData(Qt.ItemDataRole.AccessibleTextRole, tr("Ordner {folder}").format(folder=folder))
            header.setToolTip(f"<p>{html.escape(folder)}</p>")
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            header.setForeground(QBrush(QColor(MUTED)))
            widget.addItem(header)
        item = QListWidgetItem(pure.name)
        item.setData(Qt.ItemDataRole.UserRole, path)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, tr("{name} im Ordner {folder}").format(
            name=pure.name, folder=pure.parent))
        item.setToolTip(f"<p>{html.escape(path)}</p>")
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if path in checked else Qt.CheckState.Unchecked)
        widget.addItem(item)
    widget.blockSignals(False)
    return len(ordered)


def document_items(widget: QListWidget) -> list[QListWidgetItem]:
    """The document rows (without the folder headers)."""
    rows = (widget.item(i) for i in range(widget.count()))
    return [item for item in rows if item.data(Qt.ItemDataRole.UserRole)]


def checked_paths(widget: QListWidget) -> list[str]:
    """The checked documents, in list order (hidden by the filter or not)."""
    return [item.data(Qt.ItemDataRole.UserRole) for item in document_items(widget)
            if item.checkState() == Qt.CheckState.Checked]


def check_paths(widget: QListWidget, paths: Iterable[str]) -> None:
    """Check exactly these documents (paths not in the list are ignored), without emitting itemChanged."""
    wanted = {str(p) for p in paths}
    widget.blockSignals(True)
    for item in document_items(widget):
        item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in wanted
                           else Qt.CheckState.Unchecked)
    widget.blockSignals(False)


def filter_documents(widget: QListWidget, text: str) -> None:
    """Hide documents whose path does not contain `text`, and folder headers with nothing left under them."""
    needle = text.strip().casefold()
    header: QListWidgetItem | None = None
    shown_in_folder = False
    for row in range(widget.count()):
        item = widget.item(row)
        if item.data(FOLDER_ROLE):
            if header is not None:
                header.setHidden(not shown_in_folder)
            header, shown_in_folder = item, False
            continue
        hidden = bool(needle) and needle not in str(item.data(Qt.ItemDataRole.UserRole)).casefold()
        item.setHidden(hidden)
        shown_in_folder = shown_in_folder or not hidden
    if header is not None:
        header.setHidden(not shown_in_folder)
