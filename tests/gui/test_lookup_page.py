"""The Nachschlagen page over a fake lookup: streaming, citations → passage viewer, flags, nothing found, cancel,
copy with the draft marker, escaping of model text, the model gate, a changed file, and the main window wiring."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from app.config import load_config
from app.core.llm import ModelState
from app.core.lookup import (
    DRAFT_MARKER,
    NOTHING_FOUND,
    FlagKind,
    LookupAnswer,
    Scope,
    ScopeKind,
)
from app.services.model_service import ModelService
from app.ui.lookup_page import NO_FLAGS_TEXT, LookupPage, flag_summary
from app.ui.main_window import MainWindow
from app.ui.passage_viewer import CHANGED_TEXT, MOVED_TEXT, PassageViewer
from app.ui.style import MUTED
from app.ui.task_runner import TaskRunner

from .a11y import interactive_without_name
from .conftest import selection_for
from .fakes import FAKE_INFO, FakeLanguageModel
from .lookup_fakes import (
    ANSWER,
    BESCHEID,
    DOCUMENTS,
    INJECTION,
    NOTHING_QUESTION,
    QUESTION,
    SOURCES,
    FakeLookup,
    ground,
)
from .review_fakes import SpyReview, make_review

pytestmark = pytest.mark.gui


@pytest.fixture
def make_lookup_window(qtbot):
    def make(lookup: FakeLookup | None = None, *, ready: bool = True, review: SpyReview | None = None):
        lookup = lookup if lookup is not None else FakeLookup()
        window = MainWindow(load_config(os.environ), ModelService(FakeLanguageModel(FAKE_INFO)),
                            selection_for(FAKE_INFO), runner=TaskRunner(), lookup=lookup, review=review)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        if ready:
            window.start_model_loading()
            qtbot.waitUntil(lambda: window.model_status.state is ModelState.READY)
        return window, window.lookup_page

    return make


@pytest.fixture
def runner():
    """A runner that outlives the test body (a TaskRunner dropped while a finished task awaits deletion crashes)."""
    runner = TaskRunner()
    yield runner
    runner.shutdown(2000)


def ask(page: LookupPage, qtbot, question: str = QUESTION):
    page.question_edit.setPlainText(question)
    with qtbot.waitSignal(page.asking_started, timeout=5000) as started:
        qtbot.mouseClick(page.ask_button, Qt.MouseButton.LeftButton)
    return started.args[0]


def ask_and_wait(page: LookupPage, qtbot, question: str = QUESTION) -> LookupAnswer:
    with qtbot.waitSignal(page.answer_ready, timeout=5000) as ready:
        ask(page, qtbot, question)
    return ready.args[0]


def test_answer_streams_then_renders_with_citation_links_and_flags(make_lookup_window, qtbot):
    lookup = FakeLookup(pause_after=3)
    window, page = make_lookup_window(lookup)
    assert window.current_workspace == "nachschlagen"
    ask(page, qtbot)
    # Part of the answer is shown while the rest has not been generated yet.
    qtbot.waitUntil(lambda: page.answer_view.toPlainText().startswith("Der Widerspruch ist innerhalb"))
    assert lookup.paused.is_set() and page.is_asking
    assert page.answer_view.toPlainText() != ANSWER
    assert page.sources_list.count() == 3, "the sources are listed before the answer is complete"
    assert page.current_answer is None and not page.copy_button.isEnabled()

    with qtbot.waitSignal(page.asking_finished, timeout=5000) as finished:
        lookup.proceed.set()
    assert finished.args == ["result"]
    answer = page.current_answer
    assert answer is not None and answer.text == ANSWER
    assert page.banner.isVisible() and page.banner.text() == DRAFT_MARKER

    markup = page.answer_view.toHtml()
    assert markup.count('href="cite:1"') == 2 and markup.count('href="cite:2"') == 1
    plain = page.answer_view.toPlainText()
    assert "⚠ Bei einem Brief gilt" in plain, "the uncited sentence carries a visible warning sign"
    tips = _tooltips(page)
    assert tips["15. April 2024"].startswith("Angabe nicht in den Quellen gefunden")
    assert tips["Bei einem Brief gilt der Bescheid am dritten Tag nach der Aufgabe zur Post als bekanntgegeben."] \
        == "Aussage ohne Quellenangabe"
    assert _wavy_underlined(page) == ["15. April 2024"]
    summary = page.summary_label.text().splitlines()
    assert summary[0] == "2 Hinweise zur Prüfung: 1 Aussage ohne Quellenangabe, 1 Angabe nicht in den Quellen gefunden"
    assert summary[1] == "• Angabe nicht in den Quellen gefunden: „15. April 2024“"
    assert page.summary_label.isVisible()

    rows = [page.sources_list.item(i).text().splitlines()[0] for i in range(page.sources_list.count())]
    assert rows == [
        "✓ [1] Bescheid_Sondernutzung_2024-03.pdf, S. 2, Rechtsbehelfsbelehrung – zitiert",
        "✓ [2] VwGO_Auszug.txt, § 70 Form und Frist des Widerspruchs – zitiert",
        "[3] Sondernutzungssatzung_2021.odt, § 6 Widerruf – gefunden, nicht zitiert",
    ]
    assert page.sources_list.item(2).foreground().color().name() == MUTED, "not cited: greyed"
    assert page.sources_list.item(0).foreground().style() == Qt.BrushStyle.NoBrush
    assert page.sources_list.item(0).text().splitlines()[1].startswith("Gegen diesen Bescheid kann innerhalb")


def _tooltips(page: LookupPage) -> dict[str, str]:
    """Text fragment → its tooltip, for every fragment of the rendered answer that has one."""
    found: dict[str, str] = {}
    block = page.answer_view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().toolTip():
                found[fragment.text()] = fragment.charFormat().toolTip()
            it += 1
        block = block.next()
    return found


def _wavy_underlined(page: LookupPage) -> list[str]:
    from PySide6.QtGui import QTextCharFormat

    texts = []
    block = page.answer_view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline:
                texts.append(fragment.text())
            it += 1
        block = block.next()
    return texts


def test_clicking_a_citation_opens_the_viewer_with_the_passage_highlighted_and_visible(make_lookup_window, qtbot):
    _window, page = make_lookup_window()
    ask_and_wait(page, qtbot)
    with qtbot.waitSignal(page.viewer_opened, timeout=5000) as opened:
        page.answer_view.anchorClicked.emit(QUrl("cite:1"))
    viewer: PassageViewer = opened.args[0]
    qtbot.waitUntil(lambda: viewer.is_loaded)
    qtbot.waitExposed(viewer)
    chunk = SOURCES[0].chunk
    assert viewer.windowTitle() == "Quelle [1] – Bescheid_Sondernutzung_2024-03.pdf"
    assert viewer.text_view.toPlainText() == DOCUMENTS[BESCHEID], "the whole document is shown"
    assert viewer.highlight_range() == (chunk.start, chunk.end)
    assert viewer.highlighted_text() == chunk.text
    cursor = viewer.text_view.textCursor()
    cursor.setPosition(chunk.start + 1)
    assert cursor.charFormat().background().color().name() == "#fff176"
    qtbot.waitUntil(viewer.passage_is_visible)
    assert viewer.notice_text() == ""
    assert viewer.fact_labels["Seite"].text() == "S. 2"
    assert viewer.fact_labels["Abschnitt"].text() == "Bescheid › Rechtsbehelfsbelehrung"
    assert interactive_without_name(viewer) == []

    opened_urls = []
    viewer.open_url = lambda url: opened_urls.append(url) or True
    qtbot.mouseClick(viewer.open_button, Qt.MouseButton.LeftButton)
    assert opened_urls == [QUrl.fromLocalFile(BESCHEID)]
    viewer.close()


def test_activating_a_source_in_the_list_opens_its_passage(make_lookup_window, qtbot):
    _window, page = make_lookup_window()
    ask_and_wait(page, qtbot)
    with qtbot.waitSignal(page.viewer_opened, timeout=5000) as opened:
        page.sources_list.itemActivated.emit(page.sources_list.item(2))
    viewer = opened.args[0]
    qtbot.waitUntil(lambda: viewer.is_loaded)
    assert viewer.windowTitle() == "Quelle [3] – Sondernutzungssatzung_2021.odt"
    assert viewer.highlighted_text() == SOURCES[2].passage
    viewer.close()


def test_unknown_citation_opens_nothing(make_lookup_window, qtbot):
    _window, page = make_lookup_window()
    ask_and_wait(page, qtbot)
    assert page.open_source(9) is None
    assert page.viewer is None
    assert page.run_status.text() == "Quelle [9] gibt es in dieser Antwort nicht."


def test_nothing_found_shows_the_fixed_sentence_and_no_sources(make_lookup_window, qtbot):
    lookup = FakeLookup()
    _window, page = make_lookup_window(lookup)
    answer = ask_and_wait(page, qtbot, NOTHING_QUESTION)
    assert answer.nothing_found and answer.text == NOTHING_FOUND
    assert page.nothing_found_label.isVisible() and page.nothing_found_label.text() == NOTHING_FOUND
    assert page.answer_view.toPlainText() == NOTHING_FOUND
    assert page.sources_list.count() == 0
    assert page.sources_hint.isVisible() and "Keine passenden Textstellen" in page.sources_hint.text()
    assert "cite:" not in page.answer_view.toHtml()
    assert page.banner.isVisible()
    # A new question hides the notice again.
    ask_and_wait(page, qtbot)
    assert not page.nothing_found_label.isVisible() and page.sources_list.count() == 3


def test_cancel_mid_stream_keeps_the_partial_text_marked(make_lookup_window, qtbot):
    lookup = FakeLookup(pause_after=2)
    _window, page = make_lookup_window(lookup)
    ask(page, qtbot)
    qtbot.waitUntil(lambda: bool(page.answer_view.toPlainText()))
    with qtbot.waitSignal(page.asking_finished, timeout=5000) as finished:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["cancelled"]
    shown = page.answer_view.toPlainText()
    assert shown.startswith("Der Widerspruch") and shown.endswith("(abgebrochen)")
    assert len(shown) < len(ANSWER)
    answer = page.current_answer
    assert answer is not None and not answer.complete and answer.text.endswith("(abgebrochen)")
    assert page.summary_label.text() == "Die Antwort ist unvollständig und wurde nicht auf Quellenangaben geprüft."
    assert page.ask_button.isEnabled() and not page.cancel_button.isEnabled()
    assert page.copy_button.isEnabled()


def test_escape_cancels(make_lookup_window, qtbot):
    _window, page = make_lookup_window(FakeLookup(block_until_cancelled=True))
    window = page.window()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    page.question_edit.setFocus()
    page.question_edit.setPlainText(QUESTION)
    with qtbot.waitSignal(page.asking_started, timeout=5000):
        qtbot.keyClick(page.question_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: page.answer_view.toPlainText() == ANSWER)
    with qtbot.waitSignal(page.asking_finished, timeout=5000) as finished:
        qtbot.keyClick(page.question_edit, Qt.Key.Key_Escape)
    assert finished.args == ["cancelled"]


def test_copy_puts_the_answer_with_the_draft_marker_on_the_clipboard(make_lookup_window, qtbot):
    _window, page = make_lookup_window()
    ask_and_wait(page, qtbot)
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(page.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert copied.splitlines()[0] == f"[{DRAFT_MARKER}]"
    assert copied.splitlines()[-1] == f"[{DRAFT_MARKER} – nicht geprüft]"
    assert ANSWER in copied and "[1] Bescheid_Sondernutzung_2024-03.pdf, S. 2, Rechtsbehelfsbelehrung" in copied
    assert "Hinweise zur Prüfung: 2" in copied
    assert "Zwischenablage" in page.run_status.text() and DRAFT_MARKER in page.run_status.text()


def test_review_button_hands_the_draft_over(make_lookup_window, qtbot):
    review = make_review()
    _window, page = make_lookup_window(review=review)
    assert page.review_button is not None and not page.review_button.isEnabled()
    answer = ask_and_wait(page, qtbot)
    qtbot.mouseClick(page.review_button, Qt.MouseButton.LeftButton)
    assert review.submitted == [answer] and answer.draft
    assert not page.review_button.isEnabled(), "handed over once"


def test_no_review_button_without_a_review_workflow(make_lookup_window):
    _window, page = make_lookup_window()
    assert page.review_button is None


def test_model_text_cannot_inject_markup_or_change_the_banner(make_lookup_window, qtbot):
    lookup = FakeLookup(answer=INJECTION)
    _window, page = make_lookup_window(lookup)
    ask_and_wait(page, qtbot)
    plain = page.answer_view.toPlainText()
    assert "ENTWURF entfernt <b>x</b>" in plain, "tags are shown as text"
    assert '<img src="file:///etc/passwd">' in plain
    markup = page.answer_view.toHtml()
    assert "<b>x</b>" not in markup and "<img" not in markup
    assert 'href="cite:9"' not in markup, "a link the model wrote is text, and [9] is no source"
    assert markup.count('href="cite:') == 1
    assert _tooltips(page)["[9]"] == FlagKind.UNKNOWN_CITATION.label_de
    assert page.banner.text() == DRAFT_MARKER and page.banner.isVisible()
    assert page.banner.textFormat() == Qt.TextFormat.PlainText
    assert page.summary_label.textFormat() == Qt.TextFormat.PlainText


def test_fragen_is_disabled_with_a_reason_until_the_model_is_ready(make_lookup_window, qtbot):
    lookup = FakeLookup()
    window, page = make_lookup_window(lookup, ready=False)
    page.question_edit.setPlainText(QUESTION)
    assert not page.ask_button.isEnabled()
    assert page.reason_label.isVisible()
    assert page.reason_label.text() == "Fragen ist nicht möglich: Das Sprachmodell ist noch nicht geladen."
    assert page.ask() is None and lookup.asked == []

    window.start_model_loading()
    qtbot.waitUntil(page.ask_button.isEnabled)
    assert not page.reason_label.isVisible()
    page.question_edit.setPlainText("   ")
    assert not page.ask_button.isEnabled()
    assert page.reason_label.text() == "Bitte geben Sie eine Frage ein."


def test_scope_choice_is_shown_and_passed_to_the_lookup(make_lookup_window, qtbot, monkeypatch):
    lookup = FakeLookup()
    _window, page = make_lookup_window(lookup)
    assert page.scope_text.text() == "Gesucht wird in: alle freigegebenen Dokumente"
    monkeypatch.setattr(page, "choose_folder", lambda: "/srv/akten/Ordnungsamt")
    page.scope_combo.activated.emit(1)
    assert page.scope == Scope.folder("/srv/akten/Ordnungsamt")
    assert page.scope_text.text() == "Gesucht wird in: Ordner /srv/akten/Ordnungsamt"
    ask_and_wait(page, qtbot)
    assert lookup.asked[-1][1].kind is ScopeKind.FOLDER

    monkeypatch.setattr(page, "choose_documents", list)  # dialog cancelled: the scope stays
    page.scope_combo.activated.emit(2)
    assert page.scope.kind is ScopeKind.FOLDER and page.scope_combo.currentIndex() == 1
    monkeypatch.setattr(page, "choose_documents", lambda: ["/a/x.pdf", "/a/y.pdf"])
    page.scope_combo.activated.emit(2)
    assert page.scope_text.text() == "Gesucht wird in: 2 ausgewählte Dokumente"
    page.scope_combo.activated.emit(0)
    assert page.scope == Scope.everything()


def test_viewer_for_a_changed_file_warns_and_shows_the_stored_passage(qtbot, runner):
    source = SOURCES[0]
    lookup = FakeLookup(documents={BESCHEID: DOCUMENTS[BESCHEID].replace("eines Monats", "von zwei Wochen")})
    viewer = PassageViewer(source, lookup, runner)
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.loaded, timeout=5000):
        viewer.show()
    assert viewer.notice_text() == CHANGED_TEXT and viewer.notice.isVisible()
    assert viewer.text_view.toPlainText() == source.passage
    assert viewer.highlighted_text() == source.passage


def test_viewer_finds_a_passage_that_moved(qtbot, runner):
    source = SOURCES[0]
    moved = "Neue Vorbemerkung.\n\n" + DOCUMENTS[BESCHEID]
    viewer = PassageViewer(source, FakeLookup(documents={BESCHEID: moved}), runner)
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.loaded, timeout=5000):
        viewer.show()
    assert viewer.notice_text() == MOVED_TEXT
    assert viewer.highlighted_text() == source.passage
    assert viewer.highlight_range()[0] == source.chunk.start + len("Neue Vorbemerkung.\n\n")


def test_viewer_for_a_missing_file_shows_the_error_and_the_passage(qtbot):
    source = SOURCES[1]
    viewer = PassageViewer(source, FakeLookup(documents={}))  # synchronous path, no runner
    qtbot.addWidget(viewer)
    assert viewer.is_loaded
    assert "Die Datei ist nicht mehr vorhanden oder kann nicht gelesen werden." in viewer.notice_text()
    assert viewer.highlighted_text() == source.passage


def test_viewer_shows_document_text_as_plain_text(qtbot):
    source = SOURCES[0]
    hostile = DOCUMENTS[BESCHEID].replace("Begründung", "<h1 style='color:red'>Begründung</h1>")
    viewer = PassageViewer(source, FakeLookup(documents={BESCHEID: hostile}))
    qtbot.addWidget(viewer)
    assert "<h1 style='color:red'>Begründung</h1>" in viewer.text_view.toPlainText()
    assert viewer.highlighted_text() == source.passage


def test_flag_summary_wording():
    flags = ground(ANSWER + " Noch ein Satz. Und noch einer.", SOURCES).flags
    assert flag_summary(flags) == (
        "4 Hinweise zur Prüfung: 3 Aussagen ohne Quellenangabe, 1 Angabe nicht in den Quellen gefunden"
    )
    assert flag_summary(flags[:1]).startswith("1 Hinweis zur Prüfung: ")
    assert flag_summary(()) == NO_FLAGS_TEXT


def test_answer_without_flags_says_so(make_lookup_window, qtbot):
    clean = "Der Widerspruch ist innerhalb eines Monats nach Bekanntgabe einzulegen [1]."
    _window, page = make_lookup_window(FakeLookup(answer=clean))
    ask_and_wait(page, qtbot)
    assert page.summary_label.text() == "Keine Auffälligkeiten gefunden – bitte trotzdem an den Quellen prüfen."
    assert "⚠" not in page.answer_view.toPlainText()


def test_accessible_names_on_the_page(make_lookup_window, qtbot):
    _window, page = make_lookup_window(review=make_review())
    assert interactive_without_name(page) == []
    ask_and_wait(page, qtbot)
    assert interactive_without_name(page) == []
    for button in (page.ask_button, page.cancel_button, page.copy_button, page.review_button):
        assert "&" in button.text(), f"{button.text()} has a mnemonic"
    assert page.answer_view.accessibleDescription().startswith(DRAFT_MARKER)


def test_main_window_with_lookup_opens_on_nachschlagen(make_lookup_window, qtbot):
    window, page = make_lookup_window(ready=False)
    assert window.current_workspace == "nachschlagen"
    assert window.pages.currentWidget() is page and page.objectName() == "page-nachschlagen"
    assert window.model_test_box is not None
    window.show_workspace("modell")
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_workspace == "nachschlagen" and page.question_edit.hasFocus()


def test_main_window_without_lookup_still_opens_on_modell_testen(make_window):
    window = make_window()
    assert window.lookup_page is None and window.current_workspace == "modell"


def test_a_failing_lookup_reports_in_german(make_lookup_window, qtbot, monkeypatch):
    from app.core.errors import AktenlotseError

    shown = []
    monkeypatch.setattr("app.ui.lookup_page.show_error", lambda parent, error: shown.append(error))

    class Broken(FakeLookup):
        def ask(self, question, scope, cancel):
            yield from ()
            raise AktenlotseError("Der Index kann nicht gelesen werden.", "sqlite3.DatabaseError")

    _window, page = make_lookup_window(Broken())
    with qtbot.waitSignal(page.asking_finished, timeout=5000) as finished:
        ask(page, qtbot)
    assert finished.args == ["failed"]
    assert page.run_status.text() == "Fehlgeschlagen: Der Index kann nicht gelesen werden."
    assert [e.user_message for e in shown] == ["Der Index kann nicht gelesen werden."]
    assert page.current_answer is None and not page.copy_button.isEnabled()


def test_answer_ready_carries_the_grounded_draft(make_lookup_window, qtbot):
    _window, page = make_lookup_window()
    answer = ask_and_wait(page, qtbot)
    assert answer.draft and answer.to_dict()["review_status"] == "draft"
    assert {f.kind for f in answer.flags} == {FlagKind.UNCITED_SENTENCE, FlagKind.FACT_NOT_IN_SOURCES}
    assert replace(answer.sources[0]) == SOURCES[0]


def test_flag_summary_names_every_kind_in_singular_and_plural() -> None:
    from app.core.lookup import Flag, FlagKind
    from app.ui.lookup_page import flag_summary

    for kind in FlagKind:
        one = flag_summary([Flag(kind, 0, "x", 0, 1)])
        two = flag_summary([Flag(kind, 0, "x", 0, 1), Flag(kind, 1, "y", 2, 3)])
        assert one.startswith("1 Hinweis zur Prüfung: 1 ") and kind.label_de in one
        assert two.startswith("2 Hinweise zur Prüfung: 2 ") and kind.label_de not in two
