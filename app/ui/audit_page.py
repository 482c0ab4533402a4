"""The "Prüfprotokoll" workspace: a read-only view of the audit log for the security officers the policy names.

The page reads, filters, verifies and exports; it never changes a record. Reading and checking run on the
TaskRunner (the log may span many monthly files). A verification and an export are themselves recorded
(`audit_verified`, `audit_exported`, with the same fields as `aktenlotse audit verify/export`). The export covers
the chosen period; the action filter only narrows what the table shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QDate, QModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.audit import VerifyResult
from app.core.errors import AktenlotseError
from app.ui.audit_model import (
    ACTION_GROUPS,
    RECORD_ROLE,
    ActionFilterModel,
    AuditTableModel,
    count_rows,
    day_start,
    detail_text,
    verify_text,
)
from app.ui.i18n import tr
from app.ui.task_runner import Task, TaskRunner

DEFAULT_DAYS = 30
CSV_FILTER = "CSV-Datei (*.csv)"
JSON_FILTER = "JSON-Datei (*.json)"


class AuditFacade(Protocol):
    """What the page needs of the log – exactly `JsonlAuditLog`'s reading, checking, exporting and `record`."""

    def records(self, start: datetime | None = None, end: datetime | None = None) -> list[dict]: ...

    def verify(self) -> VerifyResult: ...

    def export(self, start: datetime | None, end: datetime | None, fmt: str) -> str: ...

    def record(self, action: str, fields: Mapping[str, object]) -> None: ...


# -- the page --------------------------------------------------------------------------------------------------------
class AuditPage(QWidget):
    """`AuditPage(log, runner)`. `records_loaded(n)` after each reading, `verify_finished` / `export_finished`
    with "result" | "failed" after a check or an export."""

    records_loaded = Signal(int)
    verify_finished = Signal(str)
    export_finished = Signal(str)

    def __init__(self, log: AuditFacade, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page-pruefprotokoll")
        self.log = log
        self.runner = runner
        self._load_task: Task | None = None
        self._reload = False
        self._verify_task: Task | None = None
        self._export_task: Task | None = None
        self._export_dir = ""
        self._verify_outcome = ""
        self._export_outcome = ""
        self._shown_before = False
        self._build()
        self._update_buttons()
        self.refresh()

    # -- building ---------------------------------------------------------------------------------------------
    def _build(self) -> None:
        heading = QLabel(tr("Prüfprotokoll"))
        heading.setProperty("role", "heading")
        heading.setAccessibleName(tr("Prüfprotokoll"))
        intro = QLabel(tr(
            "Wer hat wann welche KI-Funktion genutzt, welchen Entwurf bestätigt, abgelehnt oder exportiert – "
            "nur lesend. Das Protokoll enthält Kennungen, Prüfsummen und Zahlen, keine Dokumentinhalte (außer "
            "die Richtlinie schaltet das ein). Jeder Eintrag ist mit dem vorigen verkettet und signiert: "
            "Änderungen werden erkannt (manipulationserkennbar), verhindert werden können sie nicht."))
        intro.setObjectName("auditIntro")
        intro.setProperty("role", "muted")
        intro.setWordWrap(True)

        today = QDate.currentDate()
        self.from_edit = self._date_edit("auditFrom", tr("Von Datum"), today.addDays(-DEFAULT_DAYS))
        self.to_edit = self._date_edit("auditTo", tr("Bis Datum (einschließlich)"), today)
        self.to_edit.setMinimumDate(self.from_edit.date())
        self.from_edit.dateChanged.connect(lambda day: self.to_edit.setMinimumDate(day))
        from_label = QLabel(tr("&Von:"))
        from_label.setBuddy(self.from_edit)
        to_label = QLabel(tr("&bis:"))
        to_label.setBuddy(self.to_edit)
        self.action_combo = QComboBox()
        self.action_combo.setObjectName("auditActions")
        self.action_combo.setAccessibleName(tr("Aktionen filtern"))
        for key, label in ACTION_GROUPS:
            self.action_combo.addItem(tr(label), key)
        self.action_combo.currentIndexChanged.connect(self._on_filter_changed)
        action_label_widget = QLabel(tr("&Aktionen:"))
        action_label_widget.setBuddy(self.action_combo)
        self.refresh_button = QPushButton(tr("Akt&ualisieren"))
        self.refresh_button.setObjectName("auditRefresh")
        self.refresh_button.setAccessibleName(tr("Aktualisieren"))
        self.refresh_button.setAccessibleDescription(tr("Liest die Einträge des gewählten Zeitraums neu"))
        self.refresh_button.clicked.connect(self.refresh)
        self.verify_button = QPushButton(tr("Protokoll &prüfen"))
        self.verify_button.setObjectName("auditVerify")
        self.verify_button.setAccessibleName(tr("Protokoll prüfen"))
        self.verify_button.setAccessibleDescription(tr(
            "Prüft Kette und Signatur aller Einträge; die Prüfung wird selbst protokolliert"))
        self.verify_button.clicked.connect(self.verify)
        self.export_button = QPushButton(tr("E&xportieren …"))
        self.export_button.setObjectName("auditExport")
        self.export_button.setAccessibleName(tr("Protokoll exportieren"))
        self.export_button.setAccessibleDescription(tr(
            "Speichert alle Einträge des gewählten Zeitraums als CSV oder JSON, unabhängig vom Aktionsfilter"))
        self.export_button.setToolTip(self.export_button.accessibleDescription())
        self.export_button.clicked.connect(self.export_log)
        controls = QHBoxLayout()
        controls.setSpacing(8)
        controls.addWidget(from_label)
        controls.addWidget(self.from_edit)
        controls.addWidget(to_label)
        controls.addWidget(self.to_edit)
        controls.addSpacing(12)
        controls.addWidget(action_label_widget)
        controls.addWidget(self.action_combo)
        controls.addWidget(self.refresh_button)
        controls.addStretch(1)
        controls.addWidget(self.verify_button)
        controls.addWidget(self.export_button)

        self.status_label = QLabel()
        self.status_label.setObjectName("auditStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setProperty("role", "audit-ok")  # polished with its padding from the start
        self.status_label.setVisible(False)
        self.count_label = QLabel()
        self.count_label.setObjectName("auditCount")
        self.count_label.setProperty("role", "muted")

        self.model = AuditTableModel(self)
        self.proxy = ActionFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("auditTable")
        self.table.setAccessibleName(tr("Einträge des Prüfprotokolls"))
        self.table.setAccessibleDescription(tr("Nur lesend; ein Eintrag zeigt unten seine Einzelheiten"))
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(AuditTableModel.SEQ, Qt.SortOrder.DescendingOrder)  # newest first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(AuditTableModel.DETAILS, QHeaderView.ResizeMode.Stretch)
        for column, width in ((AuditTableModel.SEQ, 56), (AuditTableModel.TIME, 150), (AuditTableModel.ACTION, 200),
                              (AuditTableModel.ACTOR, 170), (AuditTableModel.SIGNED, 72)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

        details_title = QLabel(tr("&Einzelheiten"))
        details_title.setProperty("role", "subheading")
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("auditDetail")
        self.detail.setReadOnly(True)
        self.detail.setAccessibleName(tr("Einzelheiten des Eintrags"))
        self.detail.setTabChangesFocus(True)
        self.detail.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.detail.setFont(QFont("DejaVu Sans Mono, Consolas, monospace", 9))
        self.detail.setPlaceholderText(tr("Wählen Sie oben einen Eintrag."))
        details_title.setBuddy(self.detail)

        table_box = QWidget()
        table_column = QVBoxLayout(table_box)
        table_column.setContentsMargins(0, 0, 0, 0)
        table_column.setSpacing(4)
        table_column.addWidget(self.count_label)
        table_column.addWidget(self.table, 1)
        detail_box = QWidget()
        detail_column = QVBoxLayout(detail_box)
        detail_column.setContentsMargins(0, 4, 0, 0)
        detail_column.setSpacing(4)
        detail_column.addWidget(details_title)
        detail_column.addWidget(self.detail, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(table_box)
        splitter.addWidget(detail_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 14)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addLayout(controls)
        layout.addWidget(self.status_label)
        layout.addWidget(splitter, 1)

        for first, second in ((self.from_edit, self.to_edit), (self.to_edit, self.action_combo),
                              (self.action_combo, self.refresh_button), (self.refresh_button, self.verify_button),
                              (self.verify_button, self.export_button), (self.export_button, self.table),
                              (self.table, self.detail)):
            self.setTabOrder(first, second)

    def _date_edit(self, name: str, accessible: str, day: QDate) -> QDateEdit:
        edit = QDateEdit(day)
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setDisplayFormat("dd.MM.yyyy")
        edit.setCalendarPopup(True)
        edit.setMaximumDate(QDate.currentDate().addYears(1))
        inner = edit.findChild(QLineEdit)  # takes the focus; a screen reader announces it
        if inner is not None:
            inner.setAccessibleName(accessible)
        return edit

    def showEvent(self, event: QShowEvent) -> None:
        """Opening the page (first time or again) shows what was recorded meanwhile: the page is built at start-up,
        the log keeps growing."""
        super().showEvent(event)
        self.refresh()
        self._shown_before = True

    # -- period -----------------------------------------------------------------------------------------------
    def period(self) -> tuple[datetime, datetime]:
        """[start, end) of the chosen days in local time; „bis“ is inclusive."""
        first = self.from_edit.date().toPython()
        last = self.to_edit.date().toPython()
        return day_start(first), day_start(last + timedelta(days=1))

    def set_period(self, first: date, last: date) -> None:
        self.from_edit.setDate(QDate(first))
        self.to_edit.setDate(QDate(last))

    # -- reading ----------------------------------------------------------------------------------------------
    def refresh(self) -> Task | None:
        """Read the period's records in the background; a refresh asked for while one runs follows it."""
        if self._load_task is not None:
            self._reload = True
            return self._load_task
        start, end = self.period()
        log = self.log
        task = self.runner.start(lambda _cancel: log.records(start, end), name="Prüfprotokoll lesen")
        self._load_task = task
        task.result.connect(self._on_records)
        task.failed.connect(self._on_records_failed)
        task.finished.connect(self._on_load_finished)
        self._update_buttons()
        return task

    def _on_records(self, records: list[dict]) -> None:
        if self._reload:
            return  # a newer reading follows
        current = self.current_record()
        self.model.set_records(records)
        self._update_count()
        if current is not None:
            self.select_seq(int(current["seq"]))
        else:
            self._show_detail(None)

    def _on_records_failed(self, error: AktenlotseError) -> None:
        self._set_status(tr("Das Prüfprotokoll kann nicht gelesen werden: {message}").format(
            message=error.user_message), problem=True)

    def _on_load_finished(self) -> None:
        self._load_task = None
        self._update_buttons()
        if self._reload:
            self._reload = False
            self.refresh()
        else:
            self.records_loaded.emit(self.model.rowCount())

    def _on_filter_changed(self, _index: int) -> None:
        self.proxy.set_group(self.action_combo.currentData())
        self._update_count()
        if self.current_record() is None:
            self._show_detail(None)

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        if total == 0:
            text = tr("Keine Einträge im gewählten Zeitraum.")
        elif shown == total:
            text = tr("{n} Einträge im gewählten Zeitraum.").format(n=total) if total != 1 else tr(
                "1 Eintrag im gewählten Zeitraum.")
        else:
            text = tr("{shown} von {n} Einträgen im gewählten Zeitraum angezeigt.").format(shown=shown, n=total)
        self.count_label.setText(text)
        self.table.setAccessibleDescription(text)

    # -- selection --------------------------------------------------------------------------------------------
    def current_record(self) -> dict | None:
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return self.proxy.data(index, RECORD_ROLE)

    def select_seq(self, seq: int) -> bool:
        """Select the shown row of record `seq`; False if it is not shown."""
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if self.proxy.data(index, RECORD_ROLE)["seq"] == seq:
                self.table.selectRow(row)
                self.table.scrollTo(index)
                self._show_detail(self.proxy.data(index, RECORD_ROLE))
                return True
        return False

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_detail(self.proxy.data(current, RECORD_ROLE) if current.isValid() else None)

    def _show_detail(self, record: dict | None) -> None:
        self.detail.setPlainText(detail_text(record) if record is not None else "")

    # -- verifying --------------------------------------------------------------------------------------------
    def verify(self) -> Task | None:
        """Check the whole log in the background, record that it was checked, show the result and re-read."""
        if self._verify_task is not None:
            return None
        log = self.log

        def check(_cancel) -> tuple[VerifyResult, AktenlotseError | None]:
            result = log.verify()
            problem = result.problem
            try:
                log.record("audit_verified", {"ok": result.ok, "records": result.records, "files": result.files,
                                              "problem": problem.kind.value if problem else "",
                                              "signed": result.signed})
            except AktenlotseError as error:
                return result, error
            return result, None

        self._verify_outcome = ""
        self._set_status(tr("Das Protokoll wird geprüft …"), problem=False)
        task = self.runner.start(check, name="Prüfprotokoll prüfen")
        self._verify_task = task
        task.result.connect(self._on_verified)
        task.failed.connect(self._on_verify_failed)
        task.finished.connect(self._on_verify_finished)
        self._update_buttons()
        return task

    def _on_verified(self, outcome: tuple[VerifyResult, AktenlotseError | None]) -> None:
        result, error = outcome
        text = verify_text(result)
        if error is not None:
            text += "\n" + tr("Die Prüfung konnte nicht protokolliert werden: {message}").format(
                message=error.user_message)
        self._set_status(text, problem=not result.ok or error is not None)
        self._verify_outcome = "result"

    def _on_verify_failed(self, error: AktenlotseError) -> None:
        self._set_status(tr("Das Protokoll konnte nicht geprüft werden: {message}").format(
            message=error.user_message), problem=True)
        self._verify_outcome = "failed"

    def _on_verify_finished(self) -> None:
        self._verify_task = None
        self._update_buttons()
        self.refresh()  # the new `audit_verified` record
        self.verify_finished.emit(self._verify_outcome)

    # -- exporting --------------------------------------------------------------------------------------------
    def choose_export_path(self) -> str:
        """Overridable (tests): the file to write; its ending (.csv or .json) chooses the format."""
        first, last = self.from_edit.date().toPython(), self.to_edit.date().toPython()
        folder = Path(self._export_dir or Path.home())
        name = f"Pruefprotokoll_{first:%Y-%m-%d}_{last:%Y-%m-%d}.csv"
        chosen, selected = QFileDialog.getSaveFileName(self, tr("Prüfprotokoll exportieren"), str(folder / name),
                                                       f"{tr(CSV_FILTER)};;{tr(JSON_FILTER)}")
        if chosen and Path(chosen).suffix.lower() not in (".csv", ".json"):
            chosen += ".json" if selected == tr(JSON_FILTER) else ".csv"
        return chosen

    def export_log(self) -> Task | None:
        """Write the chosen period (all actions) as CSV or JSON; the export is recorded before it counts as done."""
        if self._export_task is not None:
            return None
        chosen = self.choose_export_path()
        if not chosen:
            return None
        path = Path(chosen)
        fmt = "json" if path.suffix.lower() == ".json" else "csv"
        self._export_dir = str(path.parent)
        start, end = self.period()
        first, last = self.from_edit.date().toPython(), self.to_edit.date().toPython()
        log = self.log

        def write(_cancel) -> tuple[Path, int]:
            text = log.export(start, end, fmt)
            rows = count_rows(text, fmt)
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise AktenlotseError(tr("Die Datei kann nicht geschrieben werden."), f"{path}: {exc}") from exc
            try:
                log.record("audit_exported", {"format": fmt, "records": rows, "from": first.isoformat(),
                                              "to": last.isoformat()})
            except AktenlotseError:
                path.unlink(missing_ok=True)  # not recorded, so not done
                raise
            return path, rows

        self._export_outcome = ""
        task = self.runner.start(write, name="Prüfprotokoll exportieren")
        self._export_task = task
        task.result.connect(self._on_exported)
        task.failed.connect(self._on_export_failed)
        task.finished.connect(self._on_export_finished)
        self._update_buttons()
        return task

    def _on_exported(self, outcome: tuple[Path, int]) -> None:
        path, rows = outcome
        self._set_status(tr("{n} Einträge des Zeitraums exportiert: {path}").format(n=rows, path=path), problem=False)
        self._export_outcome = "result"

    def _on_export_failed(self, error: AktenlotseError) -> None:
        self._set_status(tr("Der Export ist fehlgeschlagen: {message}").format(message=error.user_message),
                         problem=True)
        self._export_outcome = "failed"

    def _on_export_finished(self) -> None:
        self._export_task = None
        self._update_buttons()
        self.refresh()  # the new `audit_exported` record
        self.export_finished.emit(self._export_outcome)

    # -- state ------------------------------------------------------------------------------------------------
    def _set_status(self, text: str, *, problem: bool) -> None:
        self.status_label.setText(text)
        self.status_label.setAccessibleName(text)
        self.status_label.setProperty("role", "reason" if problem else "audit-ok")
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)
        self.status_label.setVisible(bool(text))

    def _update_buttons(self) -> None:
        self.verify_button.setEnabled(self._verify_task is None)
        self.export_button.setEnabled(self._export_task is None)
