"""The per-file status table of the library: one row per file, updated live, sortable and filterable by status."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePath
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QPolygonF

from app.core.documents import FileRecord, FileStatus
from app.ui.i18n import tr

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
GROUP_ROLE = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex


class StatusGroup(str, Enum):
    """What the summary line and the filter count: every FileStatus falls into exactly one group."""

    INDEXED = "indexed"
    SKIPPED = "skipped"
    ERROR = "error"
    PENDING = "pending"

    @property
    def label_de(self) -> str:
        return {
            StatusGroup.INDEXED: tr("indexiert"),
            StatusGroup.SKIPPED: tr("übersprungen"),
            StatusGroup.ERROR: tr("Fehler"),
            StatusGroup.PENDING: tr("warten"),
        }[self]


def group_of(status: FileStatus) -> StatusGroup:
    if status is FileStatus.INDEXED:
        return StatusGroup.INDEXED
    if status is FileStatus.ERROR:
        return StatusGroup.ERROR
    if status is FileStatus.PENDING:
        return StatusGroup.PENDING
    return StatusGroup.SKIPPED


def summary_text(counts: Counter[StatusGroup]) -> str:
    """ "380 indexiert · 12 übersprungen · 3 Fehler" (waiting files only when there are any)."""
    parts = [f"{counts[StatusGroup.INDEXED]} {StatusGroup.INDEXED.label_de}",
             f"{counts[StatusGroup.SKIPPED]} {StatusGroup.SKIPPED.label_de}",
             f"{counts[StatusGroup.ERROR]} {StatusGroup.ERROR.label_de}"]
    if counts[StatusGroup.PENDING]:
        parts.append(f"{counts[StatusGroup.PENDING]} {StatusGroup.PENDING.label_de}")
    return " · ".join(parts)


_ICON_COLOURS = {
    StatusGroup.INDEXED: "#1e6b34",
    StatusGroup.SKIPPED: "#8a5a00",
    StatusGroup.ERROR: "#a3241a",
    StatusGroup.PENDING: "#4a525c",
}


def status_icon(group: StatusGroup, size: int = 16) -> QIcon:
    """A shape per group (tick, triangle, cross, ring), so the status is not told by colour alone."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(_ICON_COLOURS[group]))
    pen.setWidthF(size / 7)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    s = float(size)
    if group is StatusGroup.INDEXED:
        painter.drawPolyline(QPolygonF([QPointF(s * .18, s * .55), QPointF(s * .42, s * .78), QPointF(s * .84, s * .24)]))
    elif group is StatusGroup.SKIPPED:
        painter.drawPolygon(QPolygonF([QPointF(s * .5, s * .1), QPointF(s * .92, s * .88), QPointF(s * .08, s * .88)]))
        painter.drawLine(QPointF(s * .5, s * .4), QPointF(s * .5, s * .6))
        painter.drawPoint(QPointF(s * .5, s * .75))
    elif group is StatusGroup.ERROR:
        painter.drawLine(QPointF(s * .2, s * .2), QPointF(s * .8, s * .8))
        painter.drawLine(QPointF(s * .8, s * .2), QPointF(s * .2, s * .8))
    else:
        painter.drawEllipse(QRectF(s * .2, s * .2, s * .6, s * .6))
    painter.end()
    return QIcon(pixmap)


@dataclass(frozen=True)
class FileRow:
    """What the table shows of one file: from the manifest (`from_record`) or from a live FileEvent."""

    path: str
    status: FileStatus
    reason: str = ""
    chunks: int = 0
    pages: int | None = None
    embedded: bool = False

    @classmethod
    def from_record(cls, record: FileRecord) -> FileRow:
        return cls(record.path, record.status, record.reason, len(record.chunk_ids), record.page_count, record.embedded)


class FileStatusModel(QAbstractTableModel):
    """Rows keyed by path; `upsert` changes one row in place (or appends it), `set_records` replaces all."""

    FILE, STATUS, REASON, CHUNKS, PAGES = range(5)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._records: list[FileRow] = []
        self._rows: dict[str, int] = {}
        self._counts: Counter[StatusGroup] = Counter()  # kept up to date: the summary line reads it per event
        self._icons = {group: status_icon(group) for group in StatusGroup}
        self._headers = [tr("Datei"), tr("Status"), tr("Grund"), tr("Abschnitte"), tr("Seiten")]

    # -- data -----------------------------------------------------------------------------
    def set_records(self, records: list[FileRow]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self._rows = {record.path: row for row, record in enumerate(self._records)}
        self._counts = Counter(group_of(record.status) for record in self._records)
        self.endResetModel()

    def upsert(self, record: FileRow) -> None:
        row = self._rows.get(record.path)
        if row is None:
            row = len(self._records)
            self.beginInsertRows(QModelIndex(), row, row)
            self._records.append(record)
            self._rows[record.path] = row
            self._counts[group_of(record.status)] += 1
            self.endInsertRows()
        else:
            self._counts[group_of(self._records[row].status)] -= 1
            self._counts[group_of(record.status)] += 1
            self._records[row] = record
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self._headers) - 1))

    def remove(self, path: str) -> None:
        row = self._rows.get(path)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        self._counts[group_of(self._records[row].status)] -= 1
        del self._records[row]
        self._rows = {record.path: index for index, record in enumerate(self._records)}
        self.endRemoveRows()

    def get(self, path: str) -> FileRow | None:
        row = self._rows.get(path)
        return None if row is None else self._records[row]

    def record(self, row: int) -> FileRow:
        return self._records[row]

    def records(self) -> list[FileRow]:
        return list(self._records)

    def counts(self) -> Counter[StatusGroup]:
        return Counter({group: n for group, n in self._counts.items() if n})

    # -- Qt model -------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's name and default
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record = self._records[index.row()]
        column = index.column()
        group = group_of(record.status)
        if role == GROUP_ROLE:
            return group.value
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._display(record, column)
        if role == SORT_ROLE:
            if column == self.CHUNKS:
                return record.chunks
            if column == self.PAGES:
                return record.pages if record.pages is not None else -1
            if column == self.STATUS:
                return f"{list(StatusGroup).index(group)}{record.status.label_de}"
            return self._display(record, column).casefold()
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.FILE:
                return record.path
            if column == self.REASON and record.reason:
                return record.reason
            if column == self.STATUS:
                return record.status.label_de
        if role == Qt.ItemDataRole.DecorationRole and column == self.STATUS:
            return self._icons[group]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (self.CHUNKS, self.PAGES):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, record: FileRow, column: int) -> str:
        if column == self.FILE:
            return PurePath(record.path).name or record.path
        if column == self.STATUS:
            text = record.status.label_de
            if record.status is FileStatus.INDEXED and record.chunks and not record.embedded:
                text += " " + tr("(Stichwortsuche)")
            return text
        if column == self.REASON:
            return record.reason
        if column == self.CHUNKS:
            return str(record.chunks) if record.chunks else ""
        if column == self.PAGES:
            return str(record.pages) if record.pages else ""
        return ""


class StatusFilterModel(QSortFilterProxyModel):
    """Sorts by SORT_ROLE (numbers as numbers) and shows only one StatusGroup, or all (None)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._group: StatusGroup | None = None
        self.setSortRole(SORT_ROLE)

    def set_group(self, group: StatusGroup | str | None) -> None:
        self.beginFilterChange()
        self._group = StatusGroup(group) if group else None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    @property
    def group(self) -> StatusGroup | None:
        return self._group

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if self._group is None:
            return True
        index = self.sourceModel().index(source_row, 0, source_parent)
        return index.data(GROUP_ROLE) == self._group.value
