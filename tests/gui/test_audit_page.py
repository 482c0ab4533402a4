"""The Prüfprotokoll page over a real JsonlAuditLog on tmp_path: labels, local times, filter, period, details,
verification (untouched and with one changed byte), CSV export, read-only, accessibility, and the main window."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from app.adapters.audit_log import JsonlAuditLog
from app.config import load_config
from app.services.model_service import ModelService
from app.ui.audit_model import AuditTableModel
from app.ui.audit_page import AuditPage
from app.ui.main_window import MainWindow
from app.ui.task_runner import TaskRunner

from .a11y import interactive_without_name
from .conftest import selection_for
from .fakes import FAKE_INFO, FakeLanguageModel

pytestmark = pytest.mark.gui

KEY = b"k" * 32
ACTOR = "VERWALTUNG\\j.weber"
BERLIN = "CET-1CEST,M3.5.0,M10.5.0/3"  # POSIX rule: works without a zoneinfo database

#: (days ago, second, action, fields), in the order written; local noon of that day.
ENTRIES = [
    (45, 0, "app_started", {"version": "0.4.0"}),
    (40, 0, "ai_request", {"feature": "lookup", "outcome": "done", "sources": 2}),
    (20, 0, "policy_loaded", {"source": "registry", "sha256": "ab" * 32}),
    (20, 5, "model_loaded", {"model": "test.gguf", "sha256": "cd" * 32}),
    (10, 0, "ai_request", {"feature": "lookup", "outcome": "done", "sources": 3}),
    (10, 5, "draft_created", {"draft_id": "d1", "kind": "lookup"}),
    (9, 0, "draft_confirmed", {"draft_id": "d1", "reviewer": ACTOR, "edited": False}),
    (8, 0, "draft_exported", {"draft_id": "d1", "format": "docx", "final": True}),
    (5, 0, "ai_request", {"feature": "summary", "outcome": "done", "sources": 1}),
    (5, 5, "draft_rejected", {"draft_id": "d2", "reason_given": True}),
    (3, 0, "policy_violation", {"key": "allowed_roots", "path_sha256": "ef" * 32}),
    (2, 0, "index_run", {"files": 12, "skipped": 1}),
    (1, 0, "backup_done", {"bytes": 1}),
    (1, 5, "draft_discarded", {"draft_id": "d3"}),
]
IN_DEFAULT_PERIOD = [seq for seq, entry in enumerate(ENTRIES, start=1) if entry[0] <= 30]


def local_noon(days_ago: int, second: int = 0) -> datetime:
    day = date.today() - timedelta(days=days_ago)
    return datetime.combine(day, clock_time(12, 0, second)).astimezone().astimezone(UTC)


@pytest.fixture(autouse=True)
def berlin_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time ≠ UTC, so a missing conversion shows."""
    monkeypatch.setenv("TZ", BERLIN)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def log(tmp_path: Path) -> JsonlAuditLog:
    moments: list[datetime] = []
    writer = JsonlAuditLog(tmp_path / "audit", actor=ACTOR, key=KEY, clock=lambda: moments[-1])
    for days_ago, second, action, fields in ENTRIES:
        moments.append(local_noon(days_ago, second))
        writer.record(action, fields)
    return JsonlAuditLog(tmp_path / "audit", actor=ACTOR, key=KEY)  # later records at the real time


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.shutdown(3000)


@pytest.fixture
def page(qtbot, log, runner) -> AuditPage:
    page = AuditPage(log, runner)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.records_loaded, timeout=5000):
        pass  # the first reading was started in the constructor
    page.resize(1100, 700)
    page.show()
    qtbot.waitExposed(page)
    return page


def shown(page: AuditPage) -> list[list[str]]:
    proxy = page.proxy
    return [[proxy.index(row, column).data() for column in range(proxy.columnCount())]
            for row in range(proxy.rowCount())]


def seqs(page: AuditPage) -> list[int]:
    return [int(row[AuditTableModel.SEQ]) for row in shown(page)]


def test_table_shows_the_period_newest_first_with_german_labels_and_local_time(page):
    assert seqs(page) == sorted(IN_DEFAULT_PERIOD, reverse=True)
    headers = [page.proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(page.proxy.columnCount())]
    assert headers == ["Nr.", "Zeit", "Aktion", "Benutzer", "Details", "signiert"]
    by_seq = {int(row[0]): row for row in shown(page)}
    assert by_seq[5][1:] == [local_noon(10).astimezone().strftime("%d.%m.%Y") + " 12:00:00", "KI-Anfrage", ACTOR,
                            "feature=lookup · outcome=done · sources=3", "ja"]
    labels = {int(row[0]): row[2] for row in shown(page)}
    assert labels[7] == "Entwurf bestätigt" and labels[10] == "Entwurf abgelehnt"
    assert labels[14] == "Entwurf verworfen" and labels[6] == "Entwurf übergeben"
    assert labels[8] == "Export" and labels[4] == "Modell geladen" and labels[3] == "Richtlinie geladen"
    assert labels[11] == "Richtlinienverstoß" and labels[12] == "Indexierung"
    assert labels[13] == "backup_done", "an unknown action is shown as written"
    assert "…" in by_seq[3][4] and "ab" * 32 not in by_seq[3][4], "a hash is shortened in the one-line details"
    assert page.count_label.text() == "12 Einträge im gewählten Zeitraum."


def test_action_filter_narrows_the_rows(page):
    def choose(label: str) -> list[int]:
        page.action_combo.setCurrentIndex(page.action_combo.findText(label))
        return seqs(page)

    assert choose("KI-Anfragen") == [9, 5]
    assert choose("Entscheidungen") == [14, 10, 7, 6]
    assert choose("Exporte") == [8]
    assert choose("Anwendung und Richtlinie") == [12, 4, 3]
    assert choose("Verstöße") == [11]
    assert choose("Prüfungen") == []
    assert page.count_label.text() == "0 von 12 Einträgen im gewählten Zeitraum angezeigt."
    assert len(choose("Alle Aktionen")) == 12


def test_the_period_leaves_out_records_before_and_after_it(page, qtbot):
    page.set_period(date.today() - timedelta(days=10), date.today() - timedelta(days=5))
    with qtbot.waitSignal(page.records_loaded, timeout=5000):
        page.refresh()
    assert seqs(page) == [10, 9, 8, 7, 6, 5]
    page.set_period(date.today() - timedelta(days=60), date.today() - timedelta(days=35))
    with qtbot.waitSignal(page.records_loaded, timeout=5000):
        page.refresh()
    assert seqs(page) == [2, 1]
    assert shown(page)[1][2] == "Anwendung gestartet"


def test_selecting_a_row_shows_the_whole_record(page, qtbot, log):
    assert page.detail.toPlainText() == ""
    row = seqs(page).index(7)
    rect = page.table.visualRect(page.proxy.index(row, AuditTableModel.ACTION))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    text = page.detail.toPlainText()
    record = next(r for r in log.records() if r["seq"] == 7)
    assert "Eintrag Nr. 7 – Entwurf bestätigt (draft_confirmed)" in text
    assert '"draft_id": "d1"' in text and '"edited": false' in text and '"reviewer": "VERWALTUNG\\\\j.weber"' in text
    assert record["hash"] in text and record["prev"] in text
    assert page.detail.isReadOnly()


def test_verifying_an_untouched_log_says_unchanged_and_is_recorded(page, qtbot, log):
    with qtbot.waitSignal(page.verify_finished, timeout=10000) as finished:
        qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["result"]
    files = len(log.files())  # one per month: the records span two or three
    assert files >= 2
    assert page.status_label.text() == f"Protokoll unverändert: 14 Einträge in {files} Dateien, signiert."
    assert page.status_label.property("role") == "audit-ok" and page.status_label.isVisible()
    last = log.records()[-1]
    assert last["action"] == "audit_verified" and last["actor"] == ACTOR
    assert last["fields"]["ok"] is True and last["fields"]["records"] == 14 and last["fields"]["problem"] == ""
    qtbot.waitUntil(lambda: 15 in seqs(page), timeout=5000)  # the page re-reads and shows the new record
    assert shown(page)[0][2] == "Protokoll geprüft"


def test_one_changed_byte_is_found_with_its_kind_and_record_number(page, qtbot, log):
    for path in log.files():
        lines = path.read_bytes().split(b"\n")
        for number, line in enumerate(lines):
            if line and json.loads(line)["seq"] == 5:
                lines[number] = line.replace(b'"done"', b'"dune"')  # one byte
                path.write_bytes(b"\n".join(lines))

    with qtbot.waitSignal(page.verify_finished, timeout=10000):
        page.verify()
    text = page.status_label.text()
    assert text.startswith("Das Protokoll ist nicht unversehrt. Verändert: ")
    assert "Eintrag Nr. 5" in text and "Hash" in text
    assert page.status_label.property("role") == "reason"
    last = log.records()[-1]
    assert last["action"] == "audit_verified"
    assert last["fields"]["ok"] is False and last["fields"]["problem"] == "modified"


def test_export_writes_the_chosen_period_as_csv_and_is_recorded(page, qtbot, log, tmp_path):
    target = tmp_path / "export" / "protokoll.csv"
    target.parent.mkdir()
    page.choose_export_path = lambda: str(target)
    page.set_period(date.today() - timedelta(days=10), date.today() - timedelta(days=3))
    with qtbot.waitSignal(page.records_loaded, timeout=5000):
        page.refresh()
    page.action_combo.setCurrentIndex(page.action_combo.findText("KI-Anfragen"))  # the table only
    with qtbot.waitSignal(page.export_finished, timeout=10000) as finished:
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["result"]
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0] == ["seq", "at", "action", "actor", "fields", "hash", "signed"]
    assert [int(r[0]) for r in rows[1:]] == [5, 6, 7, 8, 9, 10, 11]
    assert page.status_label.text() == f"7 Einträge des Zeitraums exportiert: {target}"
    last = log.records()[-1]
    assert last["action"] == "audit_exported"
    assert last["fields"] == {"format": "csv", "records": 7,
                              "from": (date.today() - timedelta(days=10)).isoformat(),
                              "to": (date.today() - timedelta(days=3)).isoformat()}


def test_the_page_is_read_only(page, qtbot):
    model = page.model
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            flags = model.flags(model.index(row, column))
            assert not flags & Qt.ItemFlag.ItemIsEditable
            assert flags & Qt.ItemFlag.ItemIsSelectable
    rect = page.table.visualRect(page.proxy.index(0, AuditTableModel.DETAILS))
    qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.table.state() != page.table.State.EditingState
    assert page.table.indexWidget(page.proxy.index(0, AuditTableModel.DETAILS)) is None
    assert page.detail.isReadOnly()


def test_every_control_has_an_accessible_name_and_tab_follows_the_layout(page):
    assert interactive_without_name(page) == []
    chain, widget = [], page.from_edit
    for _ in range(7):
        chain.append(widget)
        widget = widget.nextInFocusChain()
        while widget.focusProxy() is not None or not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            widget = widget.nextInFocusChain()
    assert chain == [page.from_edit, page.to_edit, page.action_combo, page.refresh_button, page.verify_button,
                     page.export_button, page.table]


def _window(qtbot, runner, **kwargs) -> MainWindow:
    window = MainWindow(load_config(os.environ), ModelService(FakeLanguageModel(FAKE_INFO)), selection_for(FAKE_INFO),
                        runner=runner, **kwargs)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _titles(window: MainWindow) -> list[str]:
    return [window.navigation.item(row).text() for row in range(window.navigation.count())]


def test_main_window_without_the_audit_view_has_no_audit_page(qtbot, runner):
    window = _window(qtbot, runner)
    assert "Prüfprotokoll" not in _titles(window)
    assert window.audit_page is None
    assert not [a for a in window.menuBar().findChildren(type(window.actions_by_name["quit"]))
                if a.shortcut() == QKeySequence("Ctrl+7")]


def test_main_window_with_the_audit_view_adds_it_after_the_library_on_ctrl_7(qtbot, runner, log):
    window = _window(qtbot, runner, audit_view=log)
    titles = _titles(window)
    assert titles[-2:] == ["Bibliothek", "Prüfprotokoll"] and len(titles) == 7
    action = next(a for a in window.findChildren(type(window.actions_by_name["quit"]))
                  if a.shortcut() == QKeySequence("Ctrl+7"))
    assert action.text() == "Prüfprotokoll"
    action.trigger()
    qtbot.waitUntil(lambda: window.audit_page.proxy.rowCount() == len(IN_DEFAULT_PERIOD), timeout=5000)
    assert window.current_workspace == "pruefprotokoll"
    assert window.pages.currentWidget() is window.audit_page
    qtbot.waitUntil(lambda: window.audit_page.table.hasFocus())
    assert sorted(seqs(window.audit_page)) == IN_DEFAULT_PERIOD
    assert interactive_without_name(window) == []


def test_records_written_after_the_page_was_built_appear_when_it_is_first_shown(qtbot, log, runner) -> None:
    """The page is built at start-up, hidden; what the session records meanwhile must be there when it opens."""
    page = AuditPage(log, runner)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.records_loaded, timeout=5000) as first:
        pass
    log.record("ai_request", {"feature": "lookup", "outcome": "done"})
    with qtbot.waitSignal(page.records_loaded, timeout=5000) as second:
        page.show()
    assert second.args[0] == first.args[0] + 1
