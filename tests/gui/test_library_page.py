"""The Bibliothek page over fake library services: progress and ETA, live file statuses, cancel, folders, search, a11y."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from app.config import Settings, load_config
from app.core.documents import FileEvent, FileStatus, IndexProgress, SearchMode
from app.services.model_service import ModelService
from app.ui.file_status_model import FileRow, FileStatusModel, StatusGroup
from app.ui.library_facade import apply_event, format_eta
from app.ui.library_page import LOCKED_ROOTS_TEXT
from app.ui.main_window import LIBRARY_PAGE, MainWindow
from app.ui.task_runner import TaskRunner

from .a11y import interactive_without_name
from .conftest import selection_for
from .fakes import FAKE_INFO, FakeLanguageModel
from .library_fakes import ROOT, FakeLibrary, events, records

pytestmark = pytest.mark.gui


@pytest.fixture
def roots(tmp_path: Path) -> list[Path]:
    root = tmp_path / "Akten"
    (root / "Hundesteuer").mkdir(parents=True)
    (tmp_path / "Privat").mkdir()
    return [root]


@pytest.fixture
def make_library_window(qtbot, roots):
    def make(library: FakeLibrary | None = None, *, locked: bool = False):
        base = load_config(os.environ)
        config = replace(base, settings=Settings(allowed_roots=roots),
                         locked=frozenset({"allowed_roots"}) if locked else frozenset())
        library = library or FakeLibrary()
        model = FakeLanguageModel(FAKE_INFO)
        window = MainWindow(config, ModelService(model), selection_for(FAKE_INFO), runner=TaskRunner(), library=library)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.show_workspace(LIBRARY_PAGE)
        return window, window.library_page

    return make


def start(page, qtbot):
    with qtbot.waitSignal(page.runner.task_started, timeout=5000) as started:
        qtbot.mouseClick(page.index_button, Qt.MouseButton.LeftButton)
    return started.args[0]


def cancel(page, qtbot):
    with qtbot.waitSignal(page.indexing_finished, timeout=5000) as finished:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["cancelled"]


@pytest.mark.parametrize(
    ("progress", "text", "phase"),
    [
        (IndexProgress(123, 400, "123/400 Dateien geprüft", phase="lexical", eta_s=118.0),
         "123 von 400 Dateien – noch etwa 2 Min.", "Texte werden gelesen – Stichwortsuche ist sofort möglich"),
        (IndexProgress(40, 900, "Bedeutungssuche: 40/900 Abschnitte", phase="embed", eta_s=31.0),
         "40 von 900 Abschnitten – noch etwa 30 Sek.", "Bedeutungssuche wird vorbereitet (Vektoren) …"),
        (IndexProgress(5, 400, "5/400 Dateien geprüft", phase="lexical", eta_s=None),
         "5 von 400 Dateien", "Texte werden gelesen – Stichwortsuche ist sofort möglich"),
    ],
)
def test_progress_eta_and_phase_are_shown_and_abbrechen_stops(make_library_window, qtbot, roots, progress, text, phase):
    service = FakeLibrary(progress=[progress], block_until_cancelled=True)
    _window, page = make_library_window(service)
    assert page.index_button.isEnabled() and not page.cancel_button.isEnabled()
    start(page, qtbot)
    qtbot.waitUntil(lambda: page.progress_label.text() == text)
    assert page.phase_label.text() == phase
    assert (page.progress_bar.value(), page.progress_bar.maximum()) == (progress.done, progress.total)
    assert page.is_indexing and page.cancel_button.isEnabled() and not page.index_button.isEnabled()
    assert service.runs == [roots], "the allowed roots are indexed by default"

    cancel(page, qtbot)
    assert not page.is_indexing
    assert page.index_button.isEnabled() and not page.cancel_button.isEnabled()
    assert page.progress_label.text().startswith("Abgebrochen.")
    assert page.phase_label.text() == ""


def test_abbrechen_by_keyboard(make_library_window, qtbot):
    service = FakeLibrary(block_until_cancelled=True)
    window, page = make_library_window(service)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    start(page, qtbot)
    qtbot.waitUntil(service.yielded_all.is_set)
    with qtbot.waitSignal(page.indexing_finished, timeout=5000) as finished:
        qtbot.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)  # the mnemonic of "Abbre&chen"
    assert finished.args == ["cancelled"]


def test_table_fills_live_with_statuses_and_reasons(make_library_window, qtbot):
    service = FakeLibrary(file_events=events(), block_until_cancelled=True)
    _window, page = make_library_window(service)
    start(page, qtbot)
    qtbot.waitUntil(lambda: page.file_model.rowCount() == 10)
    assert page.summary_label.text() == "5 indexiert · 4 übersprungen · 1 Fehler"

    model = page.file_model
    by_name = {model.index(r, 0).data(): r for r in range(model.rowCount())}
    row = by_name["Gehaltsnachweise_vertraulich.pdf"]
    assert model.index(row, FileStatusModel.STATUS).data() == "verschlüsselt"
    assert model.index(row, FileStatusModel.REASON).data() == "Die PDF-Datei ist mit einem Kennwort geschützt."
    assert model.index(row, FileStatusModel.FILE).data(Qt.ItemDataRole.ToolTipRole) == f"{ROOT}/Gehaltsnachweise_vertraulich.pdf"
    assert model.index(row, FileStatusModel.STATUS).data(Qt.ItemDataRole.DecorationRole) is not None, "a shape, not only colour"
    row = by_name["Personalausweis_Scan_2023.pdf"]
    assert model.index(row, FileStatusModel.STATUS).data() == "keine Textebene – OCR nötig"
    row = by_name["Anhörung_Gewerbeuntersagung_Müller.pdf"]
    assert model.index(row, FileStatusModel.STATUS).data() == "indexiert (Stichwortsuche)"
    assert model.index(row, FileStatusModel.CHUNKS).data() == "14"

    # filter by status, through the keyboard-reachable combo box
    page.filter_combo.setCurrentIndex(page.filter_combo.findData(StatusGroup.ERROR.value))
    assert page.file_proxy.rowCount() == 1
    assert page.file_proxy.index(0, 0).data() == "Protokoll_Bauausschuss_März.pdf"
    page.filter_combo.setCurrentIndex(page.filter_combo.findData(StatusGroup.SKIPPED.value))
    assert page.file_proxy.rowCount() == 4
    page.filter_combo.setCurrentIndex(0)
    assert page.file_proxy.rowCount() == 10

    # sortable: by chunks, numerically
    page.table.sortByColumn(FileStatusModel.CHUNKS, Qt.SortOrder.DescendingOrder)
    assert page.file_proxy.index(0, 0).data() == "Anhörung_Gewerbeuntersagung_Müller.pdf"
    cancel(page, qtbot)


def test_after_the_run_the_manifest_gives_pages_and_embedded_state(make_library_window, qtbot):
    service = FakeLibrary(file_events=events(), manifest=records())
    _window, page = make_library_window(service)
    with qtbot.waitSignal(page.indexing_finished, timeout=5000) as finished:
        qtbot.mouseClick(page.index_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["result"]
    assert page.progress_label.text() == "Fertig: 5 indexiert · 4 übersprungen · 1 Fehler"
    row = lambda: page.file_model.get(f"{ROOT}/Anhörung_Gewerbeuntersagung_Müller.pdf")
    qtbot.waitUntil(lambda: row().embedded)  # the manifest is reloaded after the run
    assert row().pages == 4
    assert page.file_model.index(0, FileStatusModel.STATUS).data() in {"indexiert", "verschlüsselt",
        "keine Textebene – OCR nötig", "Format nicht unterstützt", "Fehler", "leer"}


def test_embedded_and_removed_events():
    path = f"{ROOT}/Bescheid_Hundesteuer_2024.docx"
    lexical = apply_event(None, FileEvent(path, FileStatus.INDEXED, "", 6, "indexed"))
    assert lexical == FileRow(path, FileStatus.INDEXED, "", 6, None, False)
    assert apply_event(lexical, FileEvent(path, FileStatus.INDEXED, "", 0, "embedded")).embedded
    assert apply_event(lexical, FileEvent(path, FileStatus.INDEXED, "", 0, "embedded")).chunks == 6
    assert apply_event(lexical, FileEvent(path, FileStatus.PENDING, "entfernt", 0, "removed")) is None
    assert [format_eta(s) for s in (None, 5, 31, 118, 4000)] == [
        "", "noch wenige Sekunden", "noch etwa 30 Sek.", "noch etwa 2 Min.", "noch etwa 1 Std. 7 Min."]


def test_a_removed_file_leaves_the_table(make_library_window, qtbot):
    path = f"{ROOT}/Leere_Vorlage.txt"
    service = FakeLibrary(file_events=[FileEvent(path, FileStatus.PENDING, "Datei entfernt", 0, "removed")],
                               manifest=records())
    _window, page = make_library_window(service)
    qtbot.waitUntil(lambda: page.file_model.rowCount() == 10)  # the manifest of earlier runs
    assert page.file_model.get(path) is not None
    service.manifest = [r for r in records() if r.path != path]
    with qtbot.waitSignal(page.indexing_finished, timeout=5000):
        qtbot.mouseClick(page.index_button, Qt.MouseButton.LeftButton)
    assert page.file_model.get(path) is None, "removed live, before the run ended"
    assert page.file_model.rowCount() == 9


def test_folder_outside_the_allowed_roots_is_refused(make_library_window, qtbot, monkeypatch, roots, tmp_path):
    _window, page = make_library_window()
    outside = tmp_path / "Privat"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(outside))
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    assert page.folders == roots
    assert page.folder_message.isVisible()
    assert "außerhalb der freigegebenen Ordner" in page.folder_message.text()
    assert str(outside) in page.folder_message.text()
    assert "Einstellungen" in page.folder_message.text()

    inside = roots[0] / "Hundesteuer"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(inside))
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    assert page.folders == [*roots, inside]
    assert not page.folder_message.isVisible()

    page.folder_list.setCurrentRow(0)
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert page.folders == [inside]


def test_the_services_own_check_is_respected(make_library_window, monkeypatch, roots):
    from app.core.errors import PolicyViolation

    library = FakeLibrary(refuse=PolicyViolation("Der Ordner existiert nicht."))
    _window, page = make_library_window(library)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(roots[0] / "Hundesteuer"))
    assert page.add_folder() is False
    assert page.folders == roots
    assert page.folder_message.text() == "Der Ordner existiert nicht."


def test_dialog_cancelled_changes_nothing(make_library_window, qtbot, monkeypatch, roots):
    _window, page = make_library_window()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: "")
    assert page.add_folder() is False
    assert page.folders == roots and not page.folder_message.isVisible()


def test_locked_roots_are_shown(make_library_window, qtbot, monkeypatch, roots, tmp_path):
    _window, page = make_library_window(locked=True)
    assert page.locked_label.isVisible() and page.locked_label.text() == LOCKED_ROOTS_TEXT
    assert str(roots[0]) in page.roots_label.text()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(tmp_path / "Privat"))
    page.add_folder()
    assert "außerhalb der freigegebenen Ordner" in page.folder_message.text()
    assert "Wenden Sie sich an Ihre IT" in page.folder_message.text()
    assert "Einstellungen" not in page.folder_message.text(), "a locked setting cannot be changed there"
    assert page.locked_label.isVisible()


def test_unlocked_roots_have_no_lock_notice(make_library_window):
    _window, page = make_library_window(locked=False)
    assert not page.locked_label.isVisible()


def test_search_shows_hits_with_mode_while_indexing_goes_on(make_library_window, qtbot):
    service = FakeLibrary(file_events=events(), block_until_cancelled=True)
    _window, page = make_library_window(service)
    start(page, qtbot)
    qtbot.waitUntil(service.yielded_all.is_set)
    page.search_box.search_edit.setFocus()
    qtbot.keyClicks(page.search_box.search_edit, "Hundesteuer Satzung")  # QTest types ASCII only
    with qtbot.waitSignal(page.search_box.search_finished, timeout=5000) as finished:
        qtbot.keyClick(page.search_box.search_edit, Qt.Key.Key_Return)
    assert finished.args == [3]
    assert page.is_indexing, "the lookup was answered while indexing went on"
    assert service.queries == ["Hundesteuer Satzung"]
    rows = [[page.search_box.hits.topLevelItem(i).text(c) for c in range(5)] for i in range(page.search_box.hits.topLevelItemCount())]
    assert rows[0][0] == "Satzung_Hundesteuer_2022.odt"
    assert rows[0][2] == "Hundesteuersatzung › § 6 Steuerermäßigungen"
    assert rows[0][3].startswith("Die Steuer wird auf Antrag um die Hälfte ermäßigt")
    assert [row[4] for row in rows] == [SearchMode.HYBRID.label_de, "Stichwortsuche", "Bedeutungssuche"]
    assert rows[2][1] == "2"
    assert page.search_box.hits.topLevelItem(0).toolTip(0) == f"{ROOT}/Satzung_Hundesteuer_2022.odt"
    assert page.search_box.search_status.text().startswith("3 Treffer für „Hundesteuer Satzung“")
    cancel(page, qtbot)


def test_empty_search_is_explained_and_no_hits_said(make_library_window, qtbot):
    retrieval = FakeLibrary(hits=[])
    _window, page = make_library_window(retrieval)
    assert page.search_box.search() is None
    assert page.search_box.search_status.text() == "Geben Sie einen Suchbegriff ein."
    page.search_box.search_edit.setText("Baugenehmigung")
    with qtbot.waitSignal(page.search_box.search_finished, timeout=5000) as finished:
        page.search_box.search()
    assert finished.args == [0]
    assert page.search_box.search_status.text() == "Keine Treffer für „Baugenehmigung“."


def test_failed_indexing_says_why(make_library_window, qtbot):
    from app.core.errors import AktenlotseError

    service = FakeLibrary(error=AktenlotseError("Der Indexordner ist schreibgeschützt.", "PermissionError"))
    _window, page = make_library_window(service)
    with qtbot.waitSignal(page.indexing_finished, timeout=5000) as finished:
        qtbot.mouseClick(page.index_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["failed"]
    assert page.index_error.isVisible() and "schreibgeschützt" in page.index_error.text()


def test_ctrl_6_opens_the_library_and_ctrl_5_still_the_model_test(make_library_window, qtbot):
    window, page = make_library_window()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.current_workspace == "modell"
    qtbot.keyClick(window, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert window.current_workspace == LIBRARY_PAGE
    assert page.index_button.hasFocus()
    qtbot.keyClick(page, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.search_box.search_edit.hasFocus()


def test_every_interactive_widget_has_an_accessible_name(make_library_window, qtbot, monkeypatch, tmp_path):
    service = FakeLibrary(file_events=events(), block_until_cancelled=True)
    window, page = make_library_window(service, locked=True)
    assert interactive_without_name(window) == []
    start(page, qtbot)
    qtbot.waitUntil(lambda: page.file_model.rowCount() == 10)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(tmp_path / "Privat"))
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not page.is_indexing)
    page.add_folder()
    page.search_box.search_edit.setText("Hundesteuer")
    with qtbot.waitSignal(page.search_box.search_finished, timeout=5000):
        page.search_box.search()
    assert interactive_without_name(window) == []
    focusable = [w for w in page.findChildren(QWidget) if w.isVisible() and w.focusPolicy() & Qt.FocusPolicy.TabFocus]
    names = {w.accessibleName() for w in focusable}
    assert {"Ordner im Index", "Ordner hinzufügen", "Jetzt indexieren", "Indexierung abbrechen",
            "Dateien nach Status filtern", "Dateien und ihr Status", "Im Index suchen", "Treffer"} <= names


def test_without_library_the_page_says_so(make_window):
    window = make_window()
    window.show_workspace(LIBRARY_PAGE)
    assert window.library_page is None
    assert "Noch nicht verfügbar" in window.pages.currentWidget().findChild(QWidget, "notAvailable").text()


def test_summary_counts_follow_status_changes(qtbot):
    model = FileStatusModel()
    path = f"{ROOT}/Bescheid_Hundesteuer_2024.docx"
    model.upsert(FileRow(path, FileStatus.PENDING))
    model.upsert(FileRow(f"{ROOT}/Scan.pdf", FileStatus.NO_TEXT_LAYER, "keine Textebene – OCR nötig"))
    assert model.counts() == {StatusGroup.PENDING: 1, StatusGroup.SKIPPED: 1}
    model.upsert(FileRow(path, FileStatus.INDEXED, "", 6))
    assert model.counts() == {StatusGroup.INDEXED: 1, StatusGroup.SKIPPED: 1}
    model.remove(path)
    assert model.counts() == {StatusGroup.SKIPPED: 1} and model.rowCount() == 1
    assert model.index(0, FileStatusModel.FILE).data() == "Scan.pdf"


def test_saved_settings_update_the_allowed_roots(make_library_window, roots, tmp_path):
    window, page = make_library_window()
    new_root = tmp_path / "Neu"
    new_root.mkdir()
    config = replace(window.config, settings=Settings(allowed_roots=[new_root]))
    window._on_settings_saved(config)  # what the settings dialog triggers
    assert str(new_root) in page.roots_label.text()
    assert page.folders == [new_root], "a folder outside the new roots is no longer indexed"


def test_auto_update_rechecks_then_watches_and_reindexes_on_change(make_library_window, qtbot, roots) -> None:
    from .library_fakes import WatchedFakeLibrary

    library = WatchedFakeLibrary(file_events=events(), manifest=records())  # indexed in an earlier session
    window, page = make_library_window(library)
    page._watch_timer.setInterval(20)  # the real app polls every 2 s
    with qtbot.waitSignal(page.indexing_finished, timeout=10_000):
        page.enable_auto_update()  # the start-up re-check runs without a click
    assert len(library.runs) == 1
    qtbot.waitUntil(lambda: library.watched == [[roots[0]]], timeout=5_000)
    qtbot.waitUntil(page._watch_timer.isActive, timeout=5_000)
    assert len(library.runs) == 1  # nothing changed: no second run
    with qtbot.waitSignal(page.indexing_finished, timeout=10_000):
        library.pending.add(str(roots[0] / "Hundesteuer" / "neu.txt"))
    assert len(library.runs) == 2


def test_auto_update_leaves_a_never_indexed_library_alone(make_library_window, qtbot) -> None:
    from .library_fakes import WatchedFakeLibrary

    library = WatchedFakeLibrary()
    window, page = make_library_window(library)
    qtbot.waitUntil(lambda: page._statuses_seen, timeout=5_000)
    page.enable_auto_update()
    assert library.runs == [] and not page.is_indexing
