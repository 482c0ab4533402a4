"""What the Prüfprotokoll page shows: German action labels and filter groups, the one-line and full renderings
of a record, and the read-only table model with its action filter."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import QWidget

from app.core.audit import VerifyResult
from app.ui.i18n import tr

SORT_ROLE = Qt.ItemDataRole.UserRole
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


# -- actions: German labels and filter groups ----------------------------------------------------------------------
ACTION_LABELS: dict[str, str] = {
    "ai_request": "KI-Anfrage",
    "draft_created": "Entwurf übergeben",
    "draft_review_started": "Prüfung begonnen",
    "draft_confirmed": "Entwurf bestätigt",
    "draft_rejected": "Entwurf abgelehnt",
    "draft_discarded": "Entwurf verworfen",
    "draft_copied": "Entwurf kopiert",
    "draft_exported": "Export",
    "export": "Export",
    "model_loaded": "Modell geladen",
    "app_started": "Anwendung gestartet",
    "app_stopped": "Anwendung beendet",
    "policy_loaded": "Richtlinie geladen",
    "index_run": "Indexierung",
    "policy_violation": "Richtlinienverstoß",
    "audit_verified": "Protokoll geprüft",
    "audit_exported": "Protokoll exportiert",
    "torn_tail_recovered": "Abbruch beim Schreiben vermerkt",
}

#: (key, German label) in the order of the filter box; None = all.
ACTION_GROUPS: tuple[tuple[str | None, str], ...] = (
    (None, "Alle Aktionen"),
    ("ai", "KI-Anfragen"),
    ("decisions", "Entscheidungen"),
    ("exports", "Exporte"),
    ("app", "Anwendung und Richtlinie"),
    ("violations", "Verstöße"),
    ("checks", "Prüfungen"),
)


def action_label(action: str) -> str:
    """The German label of a known action; an unknown one is shown as it is written."""
    label = ACTION_LABELS.get(action)
    return tr(label) if label is not None else action


def action_group(action: str) -> str | None:
    """The one filter group an action belongs to (None: only under „Alle Aktionen“)."""
    if action == "ai_request":
        return "ai"
    if action in ("export", "draft_exported", "draft_copied", "audit_exported"):
        return "exports"
    if action.startswith("draft_"):
        return "decisions"
    if action == "policy_violation":
        return "violations"
    if action in ("audit_verified", "torn_tail_recovered"):
        return "checks"
    if action.startswith(("app_", "policy_", "model_")) or action == "index_run":
        return "app"
    return None


# -- formatting ------------------------------------------------------------------------------------------------------
def local_time(at: str) -> str:
    """An ISO time (UTC) as local time in German form, "26.11.2026 01:30:00"; unreadable text as it is."""
    try:
        return datetime.fromisoformat(at).astimezone().strftime("%d.%m.%Y %H:%M:%S")
    except (TypeError, ValueError):
        return str(at)


def _short(value: object) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, (list, tuple)):
        return f"[{len(value)}]" if len(value) > 3 else "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{…}"
    text = " ".join(str(value).split())
    if not text:
        return "–"
    if len(text) >= 32 and all(c in "0123456789abcdef" for c in text):  # a hash: its start identifies it
        return text[:12] + "…"
    return text if len(text) <= 48 else text[:47] + "…"


def compact_fields(fields: Mapping[str, object]) -> str:
    """One line: "feature=lookup · outcome=done · sources=3"."""
    return " · ".join(f"{key}={_short(value)}" for key, value in fields.items())


def detail_text(record: Mapping[str, Any]) -> str:
    """The full record for the detail pane: the fields as indented JSON, then the chain values."""
    fields = json.dumps(record.get("fields", {}), ensure_ascii=False, indent=2, sort_keys=True)
    mac = record.get("mac")
    signed = tr("ja (Schlüssel {key})").format(key=record.get("key_id") or "–") if mac else tr("nein")
    return "\n".join([
        tr("Eintrag Nr. {seq} – {label} ({action})").format(
            seq=record.get("seq"), label=action_label(str(record.get("action", ""))), action=record.get("action")),
        tr("Zeit:       {local}  ({utc})").format(local=local_time(str(record.get("at", ""))), utc=record.get("at")),
        tr("Benutzer:   {actor}").format(actor=record.get("actor", "")),
        tr("Signiert:   {value}").format(value=signed),
        tr("Hash:       {value}").format(value=record.get("hash", "")),
        tr("Vorgänger:  {value}").format(value=record.get("prev", "")),
        tr("Felder:     {fields}").format(fields=fields.replace("\n", "\n" + " " * 12)),
    ])


def day_start(day: date) -> datetime:
    """Local midnight at the start of `day`, as an aware datetime (DST of that very day)."""
    return datetime(day.year, day.month, day.day).astimezone()


def verify_text(result: VerifyResult) -> str:
    """The verification result in one or two German sentences (warnings on lines of their own)."""
    if result.problem is not None:
        text = tr("Das Protokoll ist nicht unversehrt. {problem}").format(problem=result.problem.describe_de())
    else:
        files = tr("1 Datei") if result.files == 1 else tr("{n} Dateien").format(n=result.files)
        signed = tr("signiert") if result.signed else tr("nicht signiert (ohne Schlüssel geprüft)")
        text = tr("Protokoll unverändert: {n} Einträge in {files}, {signed}.").format(
            n=result.records, files=files, signed=signed)
        if result.torn_tails:
            text += " " + tr("Vermerkte Abbrüche beim Schreiben: {n}.").format(n=result.torn_tails)
    for warning in result.warnings:
        text += "\n" + tr("Hinweis: {warning}").format(warning=warning)
    return text


def count_rows(text: str, fmt: str) -> int:
    if fmt == "json":
        return len(json.loads(text))
    return max(0, len(list(csv.reader(io.StringIO(text)))) - 1)


# -- the table -------------------------------------------------------------------------------------------------------
class AuditTableModel(QAbstractTableModel):
    """The records of one period; read-only (no cell is editable)."""

    SEQ, TIME, ACTION, ACTOR, DETAILS, SIGNED = range(6)
    HEADERS = ("Nr.", "Zeit", "Aktion", "Benutzer", "Details", "signiert")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._records: list[dict] = []

    def set_records(self, records: list[dict]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def record(self, row: int) -> dict:
        return self._records[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(self.HEADERS[section])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        record = self._records[index.row()]
        column = index.column()
        if role == RECORD_ROLE:
            return record
        if role == SORT_ROLE:
            return {self.SEQ: int(record["seq"]), self.TIME: str(record["at"]), self.SIGNED: bool(record["mac"])}.get(
                column, self.data(index, Qt.ItemDataRole.DisplayRole))
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.SEQ:
                return str(record["seq"])
            if column == self.TIME:
                return local_time(record["at"])
            if column == self.ACTION:
                return action_label(record["action"])
            if column == self.ACTOR:
                return record["actor"]
            if column == self.DETAILS:
                return compact_fields(record["fields"])
            return tr("ja") if record["mac"] else tr("nein")
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.ACTION:
                return record["action"]
            if column == self.TIME:
                return record["at"]
            if column == self.DETAILS:
                return compact_fields(record["fields"]).replace(" · ", "\n")
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.SEQ:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ActionFilterModel(QSortFilterProxyModel):
    """Sorts by the raw values and keeps the rows of one action group."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._group: str | None = None
        self.setSortRole(SORT_ROLE)

    def set_group(self, group: str | None) -> None:
        self.beginFilterChange()
        self._group = group
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if self._group is None:
            return True
        model = self.sourceModel()
        record = model.data(model.index(source_row, 0, source_parent), RECORD_ROLE)
        return action_group(str(record["action"])) == self._group
