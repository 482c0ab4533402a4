"""The Entwerfen page over a fake drafter: type and field form, streaming into the body editor, the finished draft
(head, banner, closing), placeholders (highlighted, listed, refreshed by recheck), plain-language findings, export
with the edited body, copy, cancel, the model gate, escaping, accessibility and the main window wiring."""

from __future__ import annotations

import os
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QPushButton

from app.config import load_config
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE
from app.core.letters import LetterDraft, LetterStyle
from app.core.llm import ModelState
from app.core.lookup import DRAFT_MARKER
from app.services.model_service import ModelService
from app.ui.letter_page import CANCELLED_TEXT, LetterPage, default_export_name
from app.ui.main_window import MainWindow
from app.ui.style import HIGHLIGHT_BG
from app.ui.task_runner import TaskRunner

from .a11y import interactive_without_name
from .conftest import selection_for
from .fakes import FAKE_INFO, FakeLanguageModel
from .letter_fakes import LONG_SENTENCE, RECIPIENT, FakeDrafter
from .lookup_fakes import FakeReview
from .summary_fakes import ANTRAG, CASE_PATHS, SCAN

pytestmark = pytest.mark.gui

FRIST = "[Frist eintragen]"


@pytest.fixture
def make_letter_window(qtbot):
    """A main window with the letter page; its runner lives as long as the test (kept in `runners`)."""
    runners: list[TaskRunner] = []

    def make(drafter: FakeDrafter | None = None, *, ready: bool = True):
        drafter = drafter if drafter is not None else FakeDrafter()
        runner = TaskRunner()
        runners.append(runner)
        window = MainWindow(load_config(os.environ), ModelService(FakeLanguageModel(FAKE_INFO)),
                            selection_for(FAKE_INFO), runner=runner, drafter=drafter)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        if ready:
            window.start_model_loading()
            qtbot.waitUntil(lambda: window.model_status.state is ModelState.READY)
        window.show_workspace("entwerfen")
        return window, window.letter_page

    yield make
    for runner in runners:
        runner.shutdown(2000)


@pytest.fixture
def make_review_page(make_letter_window, qtbot):
    """A letter page of its own with a review workflow (or none), over a ready model and the window's runner."""

    def make(review: FakeReview | None, drafter: FakeDrafter | None = None) -> LetterPage:
        drafter = drafter if drafter is not None else FakeDrafter()
        window, _page = make_letter_window(drafter)
        page = LetterPage(drafter, window.model_status, window.runner, review=review)
        qtbot.addWidget(page)
        page.resize(1200, 800)
        page.show()
        qtbot.waitExposed(page)
        return page

    return make


def type_at_end(page: LetterPage, qtbot, text: str) -> None:
    """Type into the body editor the way a person does: cursor to the end, then keys."""
    cursor = page.body_edit.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    page.body_edit.setTextCursor(cursor)
    qtbot.keyClicks(page.body_edit, text)


def fill_anhoerung(page: LetterPage, frist: str = "") -> None:
    page.set_type("anhoerung")
    page.set_field("empfaenger", RECIPIENT)
    page.set_field("aktenzeichen", "50.2-WG-2024-0815")
    page.set_field("sachbearbeiter", "M. Schmidt")
    page.set_field("frist", frist)
    page.instructions_edit.setPlainText("Fehlende Unterlagen: Lohnabrechnungen der letzten drei Monate")


def start(page: LetterPage, qtbot):
    with qtbot.waitSignal(page.drafting_started, timeout=5000) as started:
        qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    return started.args[0]


def draft_and_wait(page: LetterPage, qtbot) -> LetterDraft:
    with qtbot.waitSignal(page.draft_ready, timeout=10000) as ready:
        start(page, qtbot)
    qtbot.waitUntil(lambda: not page.is_running)
    return ready.args[0]


def list_texts(widget) -> list[str]:
    return [widget.item(i).text() for i in range(widget.count())]


def formats_at(page: LetterPage, position: int):
    block = page.body_edit.document().findBlock(position)
    offset = position - block.position()
    ranges = block.layout().formats()  # keep the ranges alive while their formats are copied
    return [QTextCharFormat(r.format) for r in ranges if r.start <= offset < r.start + r.length]


def test_type_change_rebuilds_the_field_form(make_letter_window):
    _window, page = make_letter_window()
    assert page.objectName() == "page-entwerfen"
    assert [page.type_combo.itemText(i) for i in range(page.type_combo.count())] == [
        "Anhörung vor Erlass eines Verwaltungsakts", "Eingangsbestätigung", "Freies Schreiben"]
    assert [page.style_combo.itemText(i) for i in range(page.style_combo.count())] == [
        "förmlich", "bürgernah", "Leichte Sprache"]
    page.set_type("anhoerung")
    assert page.legal_label.isVisible() and page.legal_label.text() == "Rechtsgrundlage: § 28 VwVfG / § 24 SGB X"
    assert "§ 28 VwVfG" in page.type_combo.toolTip() and "belastenden Entscheidung" in page.type_combo.toolTip()
    assert "frist" in page.field_values()
    assert page.field_label("frist").text() == "Frist *:", "required fields carry a star"
    assert page.field_label("ihr_zeichen").text() == "Ihr Zeichen:"
    assert isinstance(page.field_edit("empfaenger"), QPlainTextEdit)
    assert isinstance(page.field_edit("aktenzeichen"), QLineEdit)
    assert page.field_values()["datum"] == date.today().strftime("%d.%m.%Y"), "Datum is prefilled with today"
    assert page.instructions_edit.placeholderText().startswith("Was soll der Brief sagen?")

    page.set_field("aktenzeichen", "AZ-1")
    page.set_type("eingangsbestaetigung")
    values = page.field_values()
    assert "frist" not in values and page.field_edit("frist") is None
    assert "eingang" in values and page.field_label("eingang").text() == "Eingangsdatum *:"
    assert values["aktenzeichen"] == "AZ-1", "typed values survive a type change"
    assert not page.legal_label.isVisible(), "no legal basis, no label"
    page.set_type("frei")
    assert next(iter(page.field_values())) == "betreff"


def test_missing_required_fields_are_allowed_but_listed(make_letter_window):
    _window, page = make_letter_window()
    fill_anhoerung(page)
    assert page.missing_label.isVisible()
    assert page.missing_label.text() == "Fehlende Angaben werden als Platzhalter eingefügt: Frist"
    page.set_field("aktenzeichen", "")
    assert page.missing_label.text() == "Fehlende Angaben werden als Platzhalter eingefügt: Aktenzeichen, Frist"
    assert page.create_button.isEnabled(), "empty required fields do not block"
    page.set_field("aktenzeichen", "A")
    page.set_field("frist", "30.06.2024")
    assert not page.missing_label.isVisible()


def test_documents_offer_only_indexed_files(make_letter_window):
    _window, page = make_letter_window()
    assert sorted(CASE_PATHS) == sorted(p for p in page.available_paths() if p in CASE_PATHS)
    assert SCAN not in page.available_paths()
    page.filter_edit.setText("Mietbesch")
    visible = [page.documents_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(page.documents_list.count())
               if not page.documents_list.item(i).isHidden() and page.documents_list.item(i).data(Qt.ItemDataRole.UserRole)]
    assert [v.rsplit("/", 1)[1] for v in visible] == ["Mietbescheinigung.pdf"]
    page.set_selected_paths([ANTRAG])
    assert page.count_label.text() == "1 Dokument ausgewählt"


def test_a_picked_file_joins_the_list_ticked_and_goes_into_the_request(make_letter_window, monkeypatch):
    _window, page = make_letter_window()
    picked = "/srv/akten/Sozialamt/Nachtrag_nicht_indexiert.pdf"
    monkeypatch.setattr(page, "choose_files", lambda: [picked])
    page.set_selected_paths([ANTRAG])
    assert page.add_files() == [picked]
    assert picked in page.available_paths()
    assert set(page.build_request().paths) == {ANTRAG, picked}
    page.refresh_documents()  # "Aktualisieren" keeps the picked file
    assert picked in page.available_paths()


def test_create_draft_streams_into_the_editor_then_shows_the_letter(make_letter_window, qtbot):
    drafter = FakeDrafter(piece_delay=0.01)
    _window, page = make_letter_window(drafter)
    fill_anhoerung(page, frist="30.06.2024")
    page.set_selected_paths([ANTRAG])
    page.set_style(LetterStyle.FOERMLICH)
    streamed: list[str] = []
    task = start(page, qtbot)
    task.partial_result.connect(lambda _t: streamed.append(page.body_edit.toPlainText()))
    assert page.is_running and not page.create_button.isEnabled() and page.cancel_button.isEnabled()
    assert page.body_edit.isReadOnly() and page.banner.isVisible()
    with qtbot.waitSignal(page.drafting_finished, timeout=10000) as finished:
        pass
    assert finished.args == ["result"]
    assert len(streamed) >= 2 and streamed[0].startswith("mit Ihrem Antrag"), "the body streamed piece by piece"

    request = drafter.requests[-1]
    assert request.type_key == "anhoerung" and request.style is LetterStyle.FOERMLICH
    assert request.fields["frist"] == "30.06.2024" and request.fields["empfaenger"] == RECIPIENT
    assert request.paths == (ANTRAG,) and request.instructions.startswith("Fehlende Unterlagen")

    draft = page.current_draft
    assert draft is not None and draft.draft
    assert page.banner.isVisible() and page.banner.text() == DRAFT_MARKER
    assert page.body_edit.objectName() == "letterBody" and not page.body_edit.isReadOnly()
    assert page.body_edit.toPlainText() == draft.body and "30.06.2024" in draft.body
    head = page.head_label.text()
    assert "Anhörung vor Erlass eines Bescheides – Aktenzeichen 50.2-WG-2024-0815" in head
    assert "Frau Erika Beispiel<br>Lindenstraße 4<br>12345 Musterstadt" in head
    assert "Sehr geehrte Frau Beispiel," in head
    assert "Mit freundlichen Grüßen" in page.closing_label.text() and "M. Schmidt" in page.closing_label.text()
    assert page.placeholders_label.text() == "Offene &Platzhalter (0)"
    assert page.placeholders_list.count() == 0 and page.placeholders_hint.text() == "Keine offenen Platzhalter."
    assert page.findings_list.count() == 0, "förmlich: no plain-language findings"
    assert page.export_button.isEnabled() and page.copy_button.isEnabled() and page.recheck_button.isEnabled()
    assert not page.cancel_button.isEnabled() and page.create_button.isEnabled()


def test_empty_frist_becomes_a_highlighted_placeholder_and_recheck_clears_it(make_letter_window, qtbot):
    drafter = FakeDrafter()
    _window, page = make_letter_window(drafter)
    fill_anhoerung(page)
    draft_and_wait(page, qtbot)
    assert list_texts(page.placeholders_list) == [FRIST]
    assert page.placeholders_label.text() == "Offene &Platzhalter (1)"
    assert page.placeholders_list.objectName() == "letterPlaceholders"
    position = page.body_edit.toPlainText().index(FRIST)
    backgrounds = [f.background().color().name() for f in formats_at(page, position + 3)]
    assert HIGHLIGHT_BG in backgrounds, "the placeholder is yellow in the editor"
    assert not formats_at(page, 2), "ordinary text is not highlighted"

    qtbot.mouseClick(page.placeholders_list.viewport(), Qt.MouseButton.LeftButton,
                     pos=page.placeholders_list.visualItemRect(page.placeholders_list.item(0)).center())
    assert page.body_edit.textCursor().selectedText() == FRIST, "clicking selects it in the editor"

    page.body_edit.textCursor().insertText("30.06.2024")  # type over the selection
    checked = page.recheck()
    assert checked is not None and drafter.rechecks[-1] == page.body_edit.toPlainText()
    assert page.placeholders_list.count() == 0 and page.placeholders_label.text() == "Offene &Platzhalter (0)"
    assert page.current_draft.body.count("30.06.2024") == 1 and page.current_draft.placeholders == []
    assert page.run_status.text().startswith("Geprüft: 0 offene Platzhalter")


def test_export_passes_the_edited_body_and_reports_open_placeholders(make_letter_window, qtbot, tmp_path,
                                                                     monkeypatch):
    drafter = FakeDrafter()
    _window, page = make_letter_window(drafter)
    assert not page.export_button.isEnabled()
    fill_anhoerung(page)
    draft_and_wait(page, qtbot)
    page.body_edit.setPlainText(page.body_edit.toPlainText() + "\n\nNachtrag der Sachbearbeiterin.")
    target = tmp_path / "Anhoerung_Beispiel"  # without suffix: the page adds .docx
    monkeypatch.setattr(page, "choose_export_path", lambda: str(target))
    with qtbot.waitSignal(page.export_finished, timeout=5000) as finished:
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["result"]
    written = tmp_path / "Anhoerung_Beispiel.docx"
    exported, path = drafter.exports[-1]
    assert path == written
    assert exported.body.endswith("Nachtrag der Sachbearbeiterin."), "the EDITED body is exported"
    assert drafter.rechecks[-1] == exported.body, "checked again before the export"
    assert written.read_text(encoding="utf-8").startswith(DRAFT_LINE)
    assert page.run_status.text() == (
        f"Als Entwurf gespeichert: {written} – Kopf- und Fußzeile tragen „{DRAFT_LINE}“. "
        "1 offener Platzhalter – bitte vor dem Versand ausfüllen.")

    monkeypatch.setattr(page, "choose_export_path", lambda: "")  # dialog cancelled
    assert page.export_letter() is None and len(drafter.exports) == 1


def test_export_failure_is_reported_in_german(make_letter_window, qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("app.ui.letter_page.show_error", lambda parent, error: shown.append(error))
    drafter = FakeDrafter(export_error=AktenlotseError("Die Datei ist schreibgeschützt.", "PermissionError"))
    _window, page = make_letter_window(drafter)
    fill_anhoerung(page, frist="30.06.2024")
    draft_and_wait(page, qtbot)
    monkeypatch.setattr(page, "choose_export_path", lambda: str(tmp_path / "x.docx"))
    with qtbot.waitSignal(page.export_finished, timeout=5000) as finished:
        page.export_letter()
    assert finished.args == ["failed"]
    assert [e.user_message for e in shown] == ["Die Datei ist schreibgeschützt."]
    assert page.run_status.text() == "Der Brief wurde nicht gespeichert: Die Datei ist schreibgeschützt."
    assert page.export_button.isEnabled(), "a second try is possible"


def test_default_export_name():
    assert default_export_name("anhoerung", date(2026, 11, 25)) == "Entwurf_anhoerung_2026-11-25.docx"


def test_leichte_sprache_runs_a_second_round_and_shows_findings(make_letter_window, qtbot):
    drafter = FakeDrafter(piece_delay=0.005)
    _window, page = make_letter_window(drafter)
    fill_anhoerung(page, frist="30.06.2024")
    page.set_style("leicht")
    messages: list[str] = []
    task = start(page, qtbot)
    task.progress_changed.connect(lambda p: messages.append(p.message))
    with qtbot.waitSignal(page.draft_ready, timeout=10000):
        pass
    qtbot.waitUntil(lambda: not page.is_running)
    assert "Prüfung der Verständlichkeit … Runde 2" in messages
    draft = page.current_draft
    assert page.body_edit.toPlainText() == draft.body, "the second round replaced the first, not appended"
    assert draft.body.count("Sie haben Wohngeld beantragt.") == 1
    assert page.findings_list.objectName() == "letterFindings" and page.findings_list.isVisible()
    assert page.findings_label.text() == "Hinweise zur Verständlichkeit (1)"
    assert list_texts(page.findings_list)[0].startswith("Langer Satz (21 Wörter, höchstens 15): „Wenn die Unterlagen")
    finding = draft.plain_findings[0]
    assert [f.underlineStyle() for f in formats_at(page, finding.start + 1)], "the finding is marked in the text"
    page.findings_list.itemClicked.emit(page.findings_list.item(0))
    assert page.body_edit.textCursor().selectedText() == finding.text

    cursor = page.body_edit.textCursor()  # the caseworker splits the long sentence
    cursor.insertText("Wenn die Unterlagen fehlen, können wir nicht helfen. Dann lehnen wir den Antrag ab.")
    page.recheck_button.click()
    assert page.findings_list.count() == 0 and page.findings_hint.text() == "Keine Hinweise."
    assert page.findings_label.text() == "Hinweise zur Verständlichkeit (0)"


def test_replaced_facts_are_shown_as_a_warning(make_letter_window, qtbot):
    _window, page = make_letter_window(FakeDrafter(replaced_facts=["14. Juni 2024"]))
    fill_anhoerung(page)
    draft_and_wait(page, qtbot)
    assert page.replaced_label.isVisible()
    assert page.replaced_label.text() == (
        "⚠ Nicht aus Ihren Angaben belegt und durch Platzhalter ersetzt: „14. Juni 2024“")


def test_cancel_mid_stream_leaves_no_draft(make_letter_window, qtbot):
    drafter = FakeDrafter()
    _window, page = make_letter_window(drafter)
    fill_anhoerung(page)
    previous = draft_and_wait(page, qtbot)  # a finished draft from before …
    assert page.current_draft is previous
    drafter.pause_after_pieces = 3
    start(page, qtbot)
    assert page.current_draft is None, "… is cleared as soon as a new run starts"
    qtbot.waitUntil(drafter.paused.is_set)
    qtbot.waitUntil(lambda: bool(page.body_edit.toPlainText()))
    with qtbot.waitSignal(page.drafting_finished, timeout=5000) as finished:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["cancelled"]
    assert page.current_draft is None and not page.is_running
    assert page.body_edit.toPlainText() == "" and page.body_edit.isReadOnly()
    assert page.body_edit.placeholderText() == CANCELLED_TEXT
    assert not page.banner.isVisible() and not page.head_label.isVisible()
    assert not page.export_button.isEnabled() and not page.copy_button.isEnabled()
    assert not page.recheck_button.isEnabled() and page.placeholders_list.count() == 0
    assert page.export_letter() is None and page.copy_letter() is False and page.recheck() is None
    assert page.create_button.isEnabled()


def test_escape_cancels_and_ctrl_return_starts_from_the_inputs(make_letter_window, qtbot):
    drafter = FakeDrafter(pause_after_pieces=1)
    window, page = make_letter_window(drafter)
    fill_anhoerung(page)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    page.instructions_edit.setFocus()
    with qtbot.waitSignal(page.drafting_started, timeout=5000):
        qtbot.keyClick(page.instructions_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(drafter.paused.is_set)
    with qtbot.waitSignal(page.drafting_finished, timeout=5000) as finished:
        qtbot.keyClick(page.body_edit, Qt.Key.Key_Escape)
    assert finished.args == ["cancelled"]


def test_editing_then_redrafting_asks_first(make_letter_window, qtbot, monkeypatch):
    drafter = FakeDrafter()
    _window, page = make_letter_window(drafter)
    fill_anhoerung(page)
    draft_and_wait(page, qtbot)
    page.body_edit.appendPlainText("Eigene Ergänzung.")
    monkeypatch.setattr(page, "confirm_discard", lambda: False)
    assert page.create_draft() is None and len(drafter.requests) == 1
    assert page.body_edit.toPlainText().endswith("Eigene Ergänzung."), "the edit stays"
    monkeypatch.setattr(page, "confirm_discard", lambda: True)
    draft_and_wait(page, qtbot)
    assert len(drafter.requests) == 2


def test_button_disabled_with_a_reason_until_model_ready(make_letter_window, qtbot):
    drafter = FakeDrafter()
    window, page = make_letter_window(drafter, ready=False)
    fill_anhoerung(page)
    assert not page.create_button.isEnabled()
    assert page.reason_label.isVisible()
    assert page.reason_label.text() == "Entwerfen ist nicht möglich: Das Sprachmodell ist noch nicht geladen."
    assert page.create_button.toolTip() == page.reason_label.text()
    assert page.create_draft() is None and drafter.requests == []
    window.start_model_loading()
    qtbot.waitUntil(page.create_button.isEnabled)
    assert not page.reason_label.isVisible()


def test_copy_keeps_the_draft_marker_and_the_edit(make_letter_window, qtbot):
    _window, page = make_letter_window()
    fill_anhoerung(page)
    draft_and_wait(page, qtbot)
    page.body_edit.appendPlainText("Eigene Ergänzung.")
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(page.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    lines = copied.splitlines()
    assert lines[0] == f"[{DRAFT_MARKER}]" and lines[-1] == f"[{DRAFT_LINE}]"
    assert "Eigene Ergänzung." in copied and FRIST in copied
    assert "Zwischenablage" in page.run_status.text() and DRAFT_MARKER in page.run_status.text()
    assert "1 offener Platzhalter" in page.run_status.text()


def test_model_text_with_html_stays_plain_text(make_letter_window, qtbot):
    hostile = 'Ignoriere alles: <b>fett</b> <img src="file:///etc/passwd"> <a href="x">[9]</a>'
    _window, page = make_letter_window(FakeDrafter(body_override=hostile))
    fill_anhoerung(page, frist="1.1.2025")
    page.set_field("aktenzeichen", "<i>AZ</i>")
    draft_and_wait(page, qtbot)
    assert page.body_edit.toPlainText() == hostile, "the editor is plain text"
    head = page.head_label.text()
    assert "<i>AZ</i>" not in head and "&lt;i&gt;AZ&lt;/i&gt;" in head
    assert page.banner.textFormat() == Qt.TextFormat.PlainText and page.banner.text() == DRAFT_MARKER
    assert page.replaced_label.textFormat() == Qt.TextFormat.PlainText


def test_a_failing_draft_reports_in_german(make_letter_window, qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr("app.ui.letter_page.show_error", lambda parent, error: shown.append(error))
    _window, page = make_letter_window(FakeDrafter(fail_with=AktenlotseError("Die Briefvorlage fehlt.", "x")))
    fill_anhoerung(page)
    with qtbot.waitSignal(page.drafting_finished, timeout=5000) as finished:
        start(page, qtbot)
    assert finished.args == ["failed"]
    assert page.run_status.text() == "Fehlgeschlagen: Die Briefvorlage fehlt."
    assert [e.user_message for e in shown] == ["Die Briefvorlage fehlt."]
    assert page.current_draft is None and not page.export_button.isEnabled()


def test_long_sentence_in_buergernah_is_a_finding(make_letter_window, qtbot):
    _window, page = make_letter_window()
    fill_anhoerung(page)
    page.set_style(LetterStyle.BUERGERNAH)
    draft = draft_and_wait(page, qtbot)
    assert [f.text for f in draft.plain_findings] == [LONG_SENTENCE]
    assert page.findings_list.count() == 1 and page.placeholders_list.count() == 1


def test_accessible_names_on_the_page(make_letter_window, qtbot):
    _window, page = make_letter_window()
    assert interactive_without_name(page) == []
    fill_anhoerung(page)
    page.set_style(LetterStyle.BUERGERNAH)
    draft_and_wait(page, qtbot)
    assert interactive_without_name(page) == []
    for button in (page.create_button, page.cancel_button, page.export_button, page.copy_button,
                   page.recheck_button):
        assert "&" in button.text(), f"{button.text()} has a mnemonic"
    assert page.body_edit.accessibleDescription().startswith(DRAFT_MARKER)
    assert page.placeholders_list.accessibleName() == "Offene Platzhalter (1)"
    assert page.field_edit("frist").accessibleName() == "Frist (Pflichtangabe)"
    assert FRIST in page.field_edit("frist").accessibleDescription()


def test_main_window_wires_the_letter_page(make_letter_window, qtbot, make_window):
    window, page = make_letter_window(ready=False)
    assert isinstance(window.letter_page, LetterPage)
    assert window.current_workspace == "entwerfen" and window.pages.currentWidget() is page
    window.show_workspace("modell")
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_workspace == "entwerfen" and page.type_combo.hasFocus()

    plain = make_window()
    assert plain.letter_page is None
    assert plain.pages.widget(2).objectName() == "page-entwerfen"  # the placeholder


def test_review_button_hands_over_the_letter_with_the_edited_body(make_review_page, qtbot, monkeypatch):
    review = FakeReview()
    drafter = FakeDrafter()
    page = make_review_page(review, drafter)
    button = page.review_button
    assert button is not None and button.objectName() == "submitReview"
    assert button.text() == "Zur P&rüfung übergeben", "Alt+P is taken by „Offene Platzhalter“"
    assert not button.isEnabled(), "nothing to hand over before a letter"
    assert page.submit_for_review() is None and review.submitted == []
    fill_anhoerung(page)
    draft = draft_and_wait(page, qtbot)
    assert button.isEnabled() and button.isVisible()

    type_at_end(page, qtbot, " Eigener Nachtrag.")  # QTest types ASCII only
    edited = page.body_edit.toPlainText()
    assert edited.endswith("Eigener Nachtrag.") and edited != draft.body
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert len(review.submitted) == 1 and review.submitted[0] is draft
    assert review.edited_bodies == [edited], "the body as the caseworker left it in the editor"
    assert page.run_status.text() == "Zur Prüfung übergeben. Sie finden den Entwurf unter „Entwürfe“."
    assert not button.isEnabled(), "handed over once"

    type_at_end(page, qtbot, " Noch ein Satz.")  # later edits belong to the review under „Entwürfe“
    assert page.body_edit.toPlainText().endswith("Noch ein Satz.")
    assert not button.isEnabled()
    assert page.recheck() is not None and not button.isEnabled(), "a check is no new letter"
    assert page.submit_for_review() is None and len(review.submitted) == 1

    monkeypatch.setattr(page, "confirm_discard", lambda: True)
    drafter.pause_after_pieces = 2  # a new letter: disabled while it runs, enabled again when it is there
    start(page, qtbot)
    qtbot.waitUntil(drafter.paused.is_set)
    assert page.is_running and not button.isEnabled()
    with qtbot.waitSignal(page.draft_ready, timeout=10000) as ready:
        drafter.proceed.set()
    qtbot.waitUntil(lambda: not page.is_running)
    assert button.isEnabled(), "the next letter can be handed over"
    assert page.submit_for_review() == "draft-2"
    assert review.submitted[1] is ready.args[0] and review.edited_bodies[1] == ready.args[0].body


def test_review_button_is_in_the_tab_order_and_named(make_review_page, qtbot):
    page = make_review_page(FakeReview())
    fill_anhoerung(page)
    draft_and_wait(page, qtbot)
    assert interactive_without_name(page) == []
    button = page.review_button
    assert button.accessibleName() == "Zur Prüfung übergeben"
    assert "Entwürfe" in button.accessibleDescription()
    assert page.export_button.nextInFocusChain() is page.copy_button
    assert page.copy_button.nextInFocusChain() is button, "after copy, in the row with export and copy"
    assert button.parentWidget() is page.copy_button.parentWidget()
    assert page.recheck_button.nextInFocusChain() is page.findings_list, "the check sits above its findings"


def test_a_refused_hand_over_shows_the_error_and_keeps_the_button(make_review_page, qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr("app.ui.letter_page.show_error", lambda parent, error: shown.append(error))
    review = FakeReview(fail_with=AktenlotseError("Die Entwurfsablage ist nicht erreichbar.", "sqlite3"))
    page = make_review_page(review)
    fill_anhoerung(page)
    draft_and_wait(page, qtbot)
    qtbot.mouseClick(page.review_button, Qt.MouseButton.LeftButton)
    assert [e.user_message for e in shown] == ["Die Entwurfsablage ist nicht erreichbar."]
    assert review.submitted == []
    assert page.review_button.isEnabled(), "the person can try again"
    assert "Zur Prüfung übergeben" not in page.run_status.text()
    review.fail_with = None
    qtbot.mouseClick(page.review_button, Qt.MouseButton.LeftButton)
    assert review.submitted == [page.current_draft] and not page.review_button.isEnabled()


def test_no_review_button_without_a_review_workflow(make_review_page, qtbot):
    page = make_review_page(None)
    fill_anhoerung(page)
    draft_and_wait(page, qtbot)
    assert page.review_button is None and page.review is None
    assert page.findChild(QPushButton, "submitReview") is None
    assert page.submit_for_review() is None
    assert interactive_without_name(page) == []
