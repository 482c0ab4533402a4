"""The Zusammenfassen page over a fake summarizer: choosing documents, progress and steps, the rendered draft
(sections, citation links, flags, omissions), passage viewer, cancel, the model gate, export, copy, escaping,
choosing a folder, and the main window wiring."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication, QTextCharFormat
from PySide6.QtWidgets import QApplication, QPushButton

from app.config import load_config
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE
from app.core.llm import ModelState
from app.core.lookup import DRAFT_MARKER, FlagKind
from app.core.summary import CASE_SECTIONS, SummaryLength, SummaryStep
from app.services.model_service import ModelService
from app.ui.document_list import FOLDER_ROLE
from app.ui.main_window import MainWindow
from app.ui.passage_viewer import PassageViewer
from app.ui.summary_page import (
    CANCELLED_TEXT,
    SummaryPage,
    default_export_name,
)
from app.ui.task_runner import TaskRunner

from .a11y import interactive_without_name
from .conftest import selection_for
from .fakes import FAKE_INFO, FakeLanguageModel
from .lookup_fakes import FakeReview
from .summary_fakes import (
    AKTE,
    ANLAGEN,
    ANTRAG,
    CASE_PATHS,
    DOCUMENTS,
    HOSTILE_SECTIONS,
    INVENTED_DATE,
    MIETE,
    NACHFORDERUNG,
    OTHER_PATHS,
    PASSAGES,
    SCAN,
    SECTION_TITLES,
    UNCITED_POINT,
    FakeSummarizer,
)

pytestmark = pytest.mark.gui


@pytest.fixture
def make_summary_window(qtbot):
    """A main window with the summary page; its runner lives as long as the window (kept by the test)."""

    def make(summarizer: FakeSummarizer | None = None, *, ready: bool = True):
        summarizer = summarizer if summarizer is not None else FakeSummarizer()
        window = MainWindow(load_config(os.environ), ModelService(FakeLanguageModel(FAKE_INFO)),
                            selection_for(FAKE_INFO), runner=TaskRunner(), summarizer=summarizer)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        if ready:
            window.start_model_loading()
            qtbot.waitUntil(lambda: window.model_status.state is ModelState.READY)
        window.show_workspace("zusammenfassen")
        return window, window.summary_page

    return make


@pytest.fixture
def make_review_page(make_summary_window, qtbot):
    """A summary page of its own with a review workflow (or none), over a ready model and the window's runner."""

    def make(review: FakeReview | None, summarizer: FakeSummarizer | None = None) -> SummaryPage:
        summarizer = summarizer if summarizer is not None else FakeSummarizer()
        window, _page = make_summary_window(summarizer)
        page = SummaryPage(summarizer, window.model_status, window.runner, review=review)
        qtbot.addWidget(page)
        page.resize(1100, 760)
        page.show()
        qtbot.waitExposed(page)
        return page

    return make


def doc_items(page: SummaryPage):
    rows = (page.documents_list.item(i) for i in range(page.documents_list.count()))
    return [item for item in rows if not item.data(FOLDER_ROLE)]


def check(page: SummaryPage, paths) -> None:
    """Tick documents the way a person does: through the items' check boxes."""
    for row in range(page.documents_list.count()):
        item = page.documents_list.item(row)
        if item.data(Qt.ItemDataRole.UserRole) in paths:
            item.setCheckState(Qt.CheckState.Checked)


def start(page: SummaryPage, qtbot):
    with qtbot.waitSignal(page.summarizing_started, timeout=5000) as started:
        qtbot.mouseClick(page.summarize_button, Qt.MouseButton.LeftButton)
    return started.args[0]


def summarize_and_wait(page: SummaryPage, qtbot):
    with qtbot.waitSignal(page.summary_ready, timeout=10000) as ready:
        start(page, qtbot)
    qtbot.waitUntil(lambda: not page.is_running)
    return ready.args[0]


def fragments(page: SummaryPage) -> list[tuple[str, QTextCharFormat]]:
    found = []
    block = page.result_view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            found.append((fragment.text(), fragment.charFormat()))
            it += 1
        block = block.next()
    return found


def test_documents_list_offers_only_indexed_files_with_checkboxes(make_summary_window):
    _window, page = make_summary_window()
    assert page.objectName() == "page-zusammenfassen"
    assert page.documents_list.objectName() == "summaryDocuments"
    assert sorted(page.available_paths()) == sorted((*CASE_PATHS, *OTHER_PATHS))
    assert SCAN not in page.available_paths(), "a file without text layer is not offered"
    assert all(item.flags() & Qt.ItemFlag.ItemIsUserCheckable for item in doc_items(page))
    headers = [page.documents_list.item(i) for i in range(page.documents_list.count())
               if page.documents_list.item(i).data(FOLDER_ROLE)]
    assert [h.text() for h in headers] == ["/srv/akten/Ordnungsamt/Sondernutzung_Marktplatz", AKTE,
                                           f"{AKTE}/Anlagen"]
    assert not any(h.flags() & Qt.ItemFlag.ItemIsUserCheckable for h in headers), "folder rows are headings"
    assert page.count_label.text() == "Kein Dokument ausgewählt"
    check(page, {ANTRAG, MIETE})
    assert page.selected_paths() == [ANTRAG, MIETE]
    assert page.count_label.text() == "2 Dokumente ausgewählt"
    assert [page.length_combo.itemText(i) for i in range(page.length_combo.count())] == [
        "Kurz (3–5 Punkte)", "Standard", "Ausführlich"]
    assert page.length_combo.currentText() == "Standard"
    assert page.focus_edit.placeholderText() == "z. B.: Worum geht es dem Antragsteller?"


def test_filter_hides_but_keeps_the_choice(make_summary_window, qtbot):
    _window, page = make_summary_window()
    check(page, {ANTRAG, OTHER_PATHS[0]})
    page.filter_edit.setText("wohngeld")
    visible = [item.data(Qt.ItemDataRole.UserRole) for item in doc_items(page) if not item.isHidden()]
    assert sorted(visible) == sorted(CASE_PATHS)
    hidden_headers = [page.documents_list.item(i).text() for i in range(page.documents_list.count())
                      if page.documents_list.item(i).data(FOLDER_ROLE) and page.documents_list.item(i).isHidden()]
    assert hidden_headers == ["/srv/akten/Ordnungsamt/Sondernutzung_Marktplatz"], "a folder with no match hides"
    assert page.selected_paths() == [OTHER_PATHS[0], ANTRAG], "hidden documents stay chosen, in list order"
    assert page.count_label.text() == "2 Dokumente ausgewählt"


def test_summarize_reports_progress_and_steps_then_renders_the_draft(make_summary_window, qtbot):
    summarizer = FakeSummarizer(step_delay=0.08)
    _window, page = make_summary_window(summarizer)
    check(page, {ANTRAG, NACHFORDERUNG, MIETE})
    page.length_combo.setCurrentIndex(2)
    page.focus_edit.setText("Worum geht es der Antragstellerin?")
    steps: list[SummaryStep] = []
    values: list[int] = []
    step_texts: list[str] = []
    page.step_reported.connect(steps.append)
    page.step_reported.connect(lambda _s: step_texts.append(page.step_label.text()))
    page.progress_bar.valueChanged.connect(values.append)
    streamed: list[str] = []
    task = start(page, qtbot)
    task.partial_result.connect(lambda _t: streamed.append(page.result_view.toPlainText()))
    assert page.is_running and not page.summarize_button.isEnabled() and page.cancel_button.isEnabled()
    assert page.progress_row.isVisible()
    with qtbot.waitSignal(page.summarizing_finished, timeout=10000) as finished:
        pass
    assert finished.args == ["result"]

    request = summarizer.requests[-1]
    assert set(request.paths) == {ANTRAG, NACHFORDERUNG, MIETE}
    assert request.length is SummaryLength.AUSFUEHRLICH and request.focus == "Worum geht es der Antragstellerin?"
    assert [(s.kind, s.index, s.total) for s in steps] == [("map", 1, 3), ("map", 2, 3), ("map", 3, 3),
                                                           ("reduce", 1, 1)]
    assert step_texts[0] == "Schritt 1: Teil 1 von 3 zusammengefasst"
    assert step_texts[-1] == "Schritt 4: Zusammenführen"
    assert len(set(values)) >= 3 and max(values) == page.progress_bar.maximum(), "the bar moved step by step"
    assert values == sorted(values)
    assert streamed and streamed[0].startswith("## Sachverhalt"), "the final step streamed as plain text"

    summary = page.current_summary
    assert summary is not None and summary.draft
    assert page.banner.isVisible() and page.banner.text() == DRAFT_MARKER
    plain = page.result_view.toPlainText()
    for title in SECTION_TITLES:
        assert title in plain
    assert SECTION_TITLES == list(CASE_SECTIONS)
    markup = page.result_view.toHtml()
    for number in (1, 2, 3, 4, 5):
        assert f'href="cite:{number}"' in markup
    assert 'href="cite:6"' not in markup, "passage 6 is not cited by any point"
    assert f"⚠ {UNCITED_POINT}" in plain, "the point without a source carries the warning sign"
    tips = {text: fmt.toolTip() for text, fmt in fragments(page) if fmt.toolTip()}
    assert tips[INVENTED_DATE] == "Angabe nicht in den Quellen gefunden: steht in keiner der zitierten Quellen"
    assert tips[UNCITED_POINT] == "Aussage ohne Quellenangabe"
    wavy = [text for text, fmt in fragments(page)
            if fmt.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline]
    assert wavy == [INVENTED_DATE]
    assert page.flags_label.text() == ("2 Hinweise zur Prüfung: 1 Aussage ohne Quellenangabe, "
                                       "1 Angabe nicht in den Quellen gefunden")
    assert f"• Angabe nicht in den Quellen gefunden: „{INVENTED_DATE}“" in page.flags_label.accessibleDescription()
    assert page.omitted_label.isVisible()
    assert page.omitted_label.text() == (
        "Nicht berücksichtigt:\n• Kontoauszuege_2024.pdf, S. 12–20: zu lang für das Sprachmodell – nur die "
        "Seiten 1–11 wurden gelesen")
    assert page.steps_label.text() == "Hierarchisch zusammengefasst: 3 Teilschritte, 1 Zusammenführung"
    rows = [page.sources_list.item(i).text().splitlines()[0] for i in range(page.sources_list.count())]
    assert rows == [
        "[1] Antrag_Wohngeld_2024-05-02.pdf, S. 1, Antrag auf Wohngeld (Mietzuschuss)",
        "[2] Schreiben_Nachforderung_2024-05-17.odt, S. 1",
        "[3] Mietbescheinigung.pdf, S. 1, Mietbescheinigung",
        "[4] Antrag_Wohngeld_2024-05-02.pdf, S. 1, Antrag auf Wohngeld (Mietzuschuss)",
        "[5] Schreiben_Nachforderung_2024-05-17.odt, S. 1",
    ]
    assert page.export_button.isEnabled() and page.copy_button.isEnabled()
    assert not page.cancel_button.isEnabled() and page.summarize_button.isEnabled()


def test_clicking_a_citation_opens_the_viewer_on_that_passage(make_summary_window, qtbot):
    _window, page = make_summary_window()
    check(page, CASE_PATHS)
    summarize_and_wait(page, qtbot)
    with qtbot.waitSignal(page.viewer_opened, timeout=5000) as opened:
        page.result_view.anchorClicked.emit(QUrl("cite:2"))
    viewer: PassageViewer = opened.args[0]
    qtbot.waitUntil(lambda: viewer.is_loaded)
    chunk = PASSAGES[1].chunk
    assert viewer.windowTitle() == "Quelle [2] – Schreiben_Nachforderung_2024-05-17.odt"
    assert viewer.text_view.toPlainText() == DOCUMENTS[NACHFORDERUNG]
    assert viewer.highlighted_text() == chunk.text
    assert viewer.highlight_range() == (chunk.start, chunk.end)
    assert page.sources_list.currentItem().data(Qt.ItemDataRole.UserRole) == 2
    viewer.close()

    with qtbot.waitSignal(page.viewer_opened, timeout=5000) as opened:
        page.sources_list.itemActivated.emit(page.sources_list.item(2))
    viewer = opened.args[0]
    qtbot.waitUntil(lambda: viewer.is_loaded)
    assert viewer.highlighted_text() == PASSAGES[2].chunk.text
    viewer.close()
    assert page.open_passage(99) is None
    assert page.run_status.text() == "Quelle [99] gibt es in dieser Zusammenfassung nicht."


def test_cancel_half_way_leaves_no_result(make_summary_window, qtbot):
    summarizer = FakeSummarizer()
    _window, page = make_summary_window(summarizer)
    check(page, CASE_PATHS)
    previous = summarize_and_wait(page, qtbot)  # a finished summary from before …
    assert page.current_summary is previous
    summarizer.pause_after_steps = 2
    start(page, qtbot)
    assert page.current_summary is None, "… is cleared as soon as a new run starts"
    qtbot.waitUntil(summarizer.paused.is_set)
    qtbot.waitUntil(lambda: page.step_label.text() == "Schritt 2: Teil 2 von 3 zusammengefasst")
    with qtbot.waitSignal(page.summarizing_finished, timeout=5000) as finished:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["cancelled"]
    assert page.current_summary is None and not page.is_running
    assert page.result_view.toPlainText() == CANCELLED_TEXT
    assert "cite:" not in page.result_view.toHtml()
    assert not page.export_button.isEnabled() and not page.copy_button.isEnabled()
    assert not page.banner.isVisible() and not page.omitted_label.isVisible()
    assert page.sources_list.count() == 0
    assert page.export_memo() is None and page.copy_summary() is False
    assert page.summarize_button.isEnabled()


def test_escape_cancels_and_ctrl_return_starts(make_summary_window, qtbot):
    summarizer = FakeSummarizer(pause_after_steps=1)
    window, page = make_summary_window(summarizer)
    check(page, {ANTRAG})
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    page.focus_edit.setFocus()
    with qtbot.waitSignal(page.summarizing_started, timeout=5000):
        qtbot.keyClick(page.focus_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(summarizer.paused.is_set)
    with qtbot.waitSignal(page.summarizing_finished, timeout=5000) as finished:
        qtbot.keyClick(page.result_view, Qt.Key.Key_Escape)
    assert finished.args == ["cancelled"]


def test_button_disabled_with_a_reason_until_model_ready_and_documents_chosen(make_summary_window, qtbot):
    summarizer = FakeSummarizer()
    window, page = make_summary_window(summarizer, ready=False)
    check(page, {ANTRAG})
    assert not page.summarize_button.isEnabled()
    assert page.reason_label.isVisible()
    assert page.reason_label.text() == "Zusammenfassen ist nicht möglich: Das Sprachmodell ist noch nicht geladen."
    assert page.summarize() is None and summarizer.requests == []

    window.start_model_loading()
    qtbot.waitUntil(page.summarize_button.isEnabled)
    assert not page.reason_label.isVisible()
    page.set_selected_paths([])
    assert not page.summarize_button.isEnabled()
    assert page.reason_label.text() == "Bitte wählen Sie mindestens ein Dokument aus."
    assert page.count_label.text() == "Kein Dokument ausgewählt"
    assert page.summarize() is None and summarizer.requests == []


def test_export_writes_the_memo_to_the_chosen_path(make_summary_window, qtbot, tmp_path, monkeypatch):
    summarizer = FakeSummarizer()
    _window, page = make_summary_window(summarizer)
    assert not page.export_button.isEnabled()
    check(page, CASE_PATHS)
    summary = summarize_and_wait(page, qtbot)
    target = tmp_path / "Vermerk_Wohngeld"  # without suffix: the page adds .docx
    monkeypatch.setattr(page, "choose_export_path", lambda: str(target))
    with qtbot.waitSignal(page.export_finished, timeout=5000) as finished:
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["result"]
    written = tmp_path / "Vermerk_Wohngeld.docx"
    assert summarizer.exports == [(summary, written)]
    assert written.read_text(encoding="utf-8").startswith(DRAFT_LINE)
    assert page.run_status.text() == (
        f"Als Entwurf gespeichert: {written} – der Vermerk trägt die Kennzeichnung „{DRAFT_LINE}“.")

    monkeypatch.setattr(page, "choose_export_path", lambda: "")  # dialog cancelled
    assert page.export_memo() is None and len(summarizer.exports) == 1


def test_export_failure_is_reported_in_german(make_summary_window, qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("app.ui.summary_page.show_error", lambda parent, error: shown.append(error))
    summarizer = FakeSummarizer(export_error=AktenlotseError("Die Datei ist schreibgeschützt.", "PermissionError"))
    _window, page = make_summary_window(summarizer)
    check(page, {ANTRAG})
    summarize_and_wait(page, qtbot)
    monkeypatch.setattr(page, "choose_export_path", lambda: str(tmp_path / "x.docx"))
    with qtbot.waitSignal(page.export_finished, timeout=5000) as finished:
        page.export_memo()
    assert finished.args == ["failed"]
    assert [e.user_message for e in shown] == ["Die Datei ist schreibgeschützt."]
    assert page.run_status.text() == "Der Vermerk wurde nicht gespeichert: Die Datei ist schreibgeschützt."
    assert page.export_button.isEnabled(), "a second try is possible"


def test_default_export_name():
    from datetime import date

    assert default_export_name(date(2026, 11, 25)) == "Vermerk_Zusammenfassung_2026-11-25.docx"


def test_copy_keeps_the_draft_marker(make_summary_window, qtbot):
    _window, page = make_summary_window()
    check(page, CASE_PATHS)
    summarize_and_wait(page, qtbot)
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(page.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    lines = copied.splitlines()
    assert lines[0] == f"[{DRAFT_MARKER}]" and lines[-1] == f"[{DRAFT_MARKER} – nicht geprüft]"
    assert f"- {UNCITED_POINT}" in lines
    assert "Nicht berücksichtigt:" in lines
    assert "Zwischenablage" in page.run_status.text() and DRAFT_MARKER in page.run_status.text()


def test_model_text_with_html_is_escaped(make_summary_window, qtbot):
    _window, page = make_summary_window(FakeSummarizer(sections=list(HOSTILE_SECTIONS), omitted=[]))
    check(page, {ANTRAG})
    summarize_and_wait(page, qtbot)
    plain = page.result_view.toPlainText()
    assert "<h1>Sachverhalt</h1>" in plain, "a section title from the model is text"
    assert "ENTWURF entfernt <b>x</b>" in plain and '<img src="file:///etc/passwd">' in plain
    markup = page.result_view.toHtml()
    assert "<b>x</b>" not in markup and "<img" not in markup
    assert 'href="cite:9"' not in markup and markup.count('href="cite:') == 1
    assert page.banner.text() == DRAFT_MARKER and page.banner.isVisible()
    assert page.banner.textFormat() == Qt.TextFormat.PlainText
    assert page.flags_label.textFormat() == Qt.TextFormat.PlainText
    assert not page.omitted_label.isVisible(), "no omissions, no notice"


def test_reference_to_a_missing_passage_is_marked_not_linked(make_summary_window, qtbot):
    from app.core.summary import SummaryPoint, SummarySection

    sections = [SummarySection("Kernpunkte", (SummaryPoint("Ein Punkt mit falscher Quelle.", (7,)),))]
    _window, page = make_summary_window(FakeSummarizer(sections=sections, omitted=[]))
    check(page, {ANTRAG})
    summarize_and_wait(page, qtbot)
    assert "cite:7" not in page.result_view.toHtml()
    tips = {text: fmt.toolTip() for text, fmt in fragments(page) if fmt.toolTip()}
    assert tips["[7]"] == FlagKind.UNKNOWN_CITATION.label_de


def test_choosing_a_folder_checks_exactly_the_documents_under_it(make_summary_window, monkeypatch):
    _window, page = make_summary_window()
    check(page, {OTHER_PATHS[0]})
    page.filter_edit.setText("Satzung")
    monkeypatch.setattr(page, "choose_folder", lambda: f"{AKTE}/Anlagen")
    page.folder_button.click()
    assert page.selected_paths() == [ANLAGEN]
    assert page.filter_edit.text() == "", "the filter is cleared so the choice is visible"
    monkeypatch.setattr(page, "choose_folder", lambda: AKTE)
    page.folder_button.click()
    assert sorted(page.selected_paths()) == sorted(CASE_PATHS)
    assert page.count_label.text() == "4 Dokumente ausgewählt"

    monkeypatch.setattr(page, "choose_folder", lambda: "/srv/akten/Bauamt")  # nothing indexed there
    page.folder_button.click()
    assert sorted(page.selected_paths()) == sorted(CASE_PATHS), "the choice stays"
    assert "keine indexierten Dokumente" in page.run_status.text()
    monkeypatch.setattr(page, "choose_folder", lambda: "")  # dialog cancelled
    page.folder_button.click()
    assert sorted(page.selected_paths()) == sorted(CASE_PATHS)


def test_refresh_keeps_the_choice_and_shows_new_documents(make_summary_window):
    summarizer = FakeSummarizer()
    _window, page = make_summary_window(summarizer)
    check(page, {ANTRAG})
    summarizer.records = [r for r in summarizer.records if r.path != MIETE]
    page.refresh_button.click()
    assert MIETE not in page.available_paths() and page.selected_paths() == [ANTRAG]
    summarizer.records = []
    page.refresh_button.click()
    assert page.documents_hint.isVisible() and "Bibliothek" in page.documents_hint.text()
    assert not page.summarize_button.isEnabled()


def test_a_failing_summary_reports_in_german(make_summary_window, qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr("app.ui.summary_page.show_error", lambda parent, error: shown.append(error))
    summarizer = FakeSummarizer(fail_with=AktenlotseError("Der Index kann nicht gelesen werden.", "sqlite3"))
    _window, page = make_summary_window(summarizer)
    check(page, {ANTRAG})
    with qtbot.waitSignal(page.summarizing_finished, timeout=5000) as finished:
        start(page, qtbot)
    assert finished.args == ["failed"]
    assert page.run_status.text() == "Fehlgeschlagen: Der Index kann nicht gelesen werden."
    assert [e.user_message for e in shown] == ["Der Index kann nicht gelesen werden."]
    assert page.current_summary is None and not page.export_button.isEnabled()


def test_accessible_names_on_the_page(make_summary_window, qtbot):
    _window, page = make_summary_window()
    assert interactive_without_name(page) == []
    check(page, CASE_PATHS)
    summarize_and_wait(page, qtbot)
    assert interactive_without_name(page) == []
    for button in (page.summarize_button, page.cancel_button, page.export_button, page.copy_button,
                   page.folder_button, page.refresh_button):
        assert "&" in button.text(), f"{button.text()} has a mnemonic"
    assert page.result_view.accessibleDescription().startswith(DRAFT_MARKER)
    assert page.documents_list.item(0).data(Qt.ItemDataRole.AccessibleTextRole)


def test_main_window_wires_the_summary_page(make_summary_window, qtbot, make_window):
    window, page = make_summary_window(ready=False)
    assert isinstance(window.summary_page, SummaryPage)
    assert window.current_workspace == "zusammenfassen" and window.pages.currentWidget() is page
    window.show_workspace("modell")
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_workspace == "zusammenfassen" and page.documents_list.hasFocus()

    plain = make_window()
    assert plain.summary_page is None
    assert plain.pages.widget(1).objectName() == "page-zusammenfassen"  # the placeholder



def test_review_button_hands_the_summary_over_once(make_review_page, qtbot):
    review = FakeReview()
    summarizer = FakeSummarizer()
    page = make_review_page(review, summarizer)
    button = page.review_button
    assert button is not None and button.objectName() == "submitReview"
    assert button.text() == "Zur &Prüfung übergeben"
    assert not button.isEnabled(), "nothing to hand over before a summary"
    assert page.submit_for_review() is None and review.submitted == []
    check(page, CASE_PATHS)
    summary = summarize_and_wait(page, qtbot)
    assert button.isEnabled() and button.isVisible()

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert len(review.submitted) == 1 and review.submitted[0] is summary, "the shown summary, as it is"
    assert review.edited_bodies == [None]
    assert page.run_status.text() == "Zur Prüfung übergeben. Sie finden den Entwurf unter „Entwürfe“."
    assert not button.isEnabled(), "handed over once"
    assert page.submit_for_review() is None and len(review.submitted) == 1

    summarizer.pause_after_steps = 1  # a new summary: disabled while it runs, enabled again when it is there
    start(page, qtbot)
    qtbot.waitUntil(summarizer.paused.is_set)
    assert page.is_running and not button.isEnabled()
    assert page.submit_for_review() is None
    with qtbot.waitSignal(page.summary_ready, timeout=10000) as ready:
        summarizer.proceed.set()
    qtbot.waitUntil(lambda: not page.is_running)
    assert button.isEnabled(), "the next summary can be handed over"
    assert page.submit_for_review() == "draft-2"
    assert review.submitted[1] is ready.args[0] and review.submitted[1] is not summary


def test_review_button_is_in_the_tab_order_and_named(make_review_page, qtbot):
    page = make_review_page(FakeReview())
    check(page, CASE_PATHS)
    summarize_and_wait(page, qtbot)
    assert interactive_without_name(page) == []
    button = page.review_button
    assert button.accessibleName() == "Zur Prüfung übergeben"
    assert "Entwürfe" in button.accessibleDescription()
    assert page.copy_button.nextInFocusChain() is button
    assert button.nextInFocusChain() is page.sources_list
    assert button.parentWidget() is page.copy_button.parentWidget(), "in the row with export and copy"


def test_a_refused_hand_over_shows_the_error_and_keeps_the_button(make_review_page, qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr("app.ui.summary_page.show_error", lambda parent, error: shown.append(error))
    review = FakeReview(fail_with=AktenlotseError("Die Entwurfsablage ist nicht erreichbar.", "sqlite3"))
    page = make_review_page(review)
    check(page, {ANTRAG})
    summarize_and_wait(page, qtbot)
    qtbot.mouseClick(page.review_button, Qt.MouseButton.LeftButton)
    assert [e.user_message for e in shown] == ["Die Entwurfsablage ist nicht erreichbar."]
    assert review.submitted == []
    assert page.review_button.isEnabled(), "the person can try again"
    assert "Zur Prüfung übergeben" not in page.run_status.text()
    review.fail_with = None
    qtbot.mouseClick(page.review_button, Qt.MouseButton.LeftButton)
    assert review.submitted == [page.current_summary] and not page.review_button.isEnabled()


def test_no_review_button_without_a_review_workflow(make_review_page, qtbot):
    page = make_review_page(None)
    check(page, {ANTRAG})
    summarize_and_wait(page, qtbot)
    assert page.review_button is None and page.review is None
    assert page.findChild(QPushButton, "submitReview") is None
    assert page.submit_for_review() is None
    assert page.copy_button.nextInFocusChain() is page.sources_list
