"""The Entwürfe page over the real ReviewService (in-memory store, real DOCX writer): the check list of a fixture
draft, confirmation that Enter never triggers, no final DOCX before confirming, confirmed DOCX properties,
editing, sources, reject/discard, policy friction, and the hand-over from Nachschlagen through the main window."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from app.adapters.docx_writer import DocxWriter
from app.config import load_config
from app.core.drafts import DraftState, ReviewPolicy
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE
from app.services.model_service import ModelService
from app.ui.drafts_page import DraftsPage
from app.ui.main_window import MainWindow
from app.ui.task_runner import TaskRunner

from .a11y import interactive_without_name
from .conftest import selection_for
from .fakes import FAKE_INFO, FakeLanguageModel
from .lookup_fakes import ANSWER, QUESTION, FakeLookup
from .review_fakes import REVIEWER, Clock, audit_of, make_review, sample_answer, sample_letter, sample_summary

pytestmark = pytest.mark.gui

UNCITED = "Bei einem Brief gilt der Bescheid am dritten Tag nach der Aufgabe zur Post als bekanntgegeben."
INVENTED_DATE = "15. April 2024"


@pytest.fixture
def make_page(qtbot):
    runners: list[TaskRunner] = []  # kept alive until the test ends

    def make(review=None, texts=None) -> DraftsPage:
        runner = TaskRunner()
        runners.append(runner)
        page = DraftsPage(review or make_review(), texts if texts is not None else FakeLookup(), runner)
        qtbot.addWidget(page)
        page.resize(1200, 720)
        page.show()
        qtbot.waitExposed(page)
        return page

    yield make
    for runner in runners:
        runner.shutdown(2000)


def rows(page: DraftsPage) -> list[str]:
    return [page.checklist.item(i).text() for i in range(page.checklist.count())]


def tick_all(page: DraftsPage, qtbot) -> None:
    """Tick every open, tickable item the way a person does: by its check box."""
    for _ in range(20):
        open_rows = [page.checklist.item(i) for i in range(page.checklist.count())
                     if page.checklist.item(i).flags() & Qt.ItemFlag.ItemIsUserCheckable
                     and page.checklist.item(i).checkState() != Qt.CheckState.Checked]
        if not open_rows:
            return
        open_rows[0].setCheckState(Qt.CheckState.Checked)
        qtbot.waitUntil(lambda: page.checklist.count() > 0)
        QApplication.processEvents()


def open_answer(make_page, review=None) -> tuple[DraftsPage, str]:
    review = review or make_review()
    draft_id = review.submit(sample_answer())
    page = make_page(review)
    page.open_draft(draft_id)
    return page, draft_id


def test_checklist_shows_the_flagged_items_of_a_fixture_draft(make_page):
    page, draft_id = open_answer(make_page)
    texts = rows(page)
    assert any(INVENTED_DATE in t and "nicht in den Quellen" in t for t in texts), texts
    assert any(UNCITED in t and "ohne Quellenangabe" in t for t in texts), texts
    assert sum(t.startswith("Quelle [") for t in texts) == 2, texts  # [1] and [2] are cited
    assert all(page.checklist.item(i).checkState() == Qt.CheckState.Unchecked for i in range(page.checklist.count()))
    assert page.current.state is DraftState.IN_REVIEW, "opening a draft starts its review"
    assert not page.confirm_button.isEnabled()
    assert "4 Punkt(e)" in page.blockers_label.text()
    assert page.banner.text() == DRAFT_LINE
    assert page.editor.toPlainText() == ANSWER


def test_enter_does_not_confirm(make_page, qtbot):
    page, draft_id = open_answer(make_page)
    tick_all(page, qtbot)
    qtbot.waitUntil(page.confirm_button.isEnabled)
    assert not page.confirm_button.isDefault() and not page.confirm_button.autoDefault()
    page.confirm_button.setFocus()
    qtbot.keyClick(page.confirm_button, Qt.Key.Key_Return)
    qtbot.keyClick(page.confirm_button, Qt.Key.Key_Enter)
    QApplication.processEvents()
    assert page.confirm_dialog is None, "Enter on the page does not even open the confirmation"
    assert page.review.get(draft_id).state is DraftState.IN_REVIEW

    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    dialog = page.confirm_dialog
    assert dialog is not None and dialog.isVisible()
    assert not dialog.confirm_button.isEnabled(), "the declaration must be ticked first"
    dialog.acknowledge.setChecked(True)
    assert dialog.confirm_button.isEnabled() and not dialog.confirm_button.autoDefault()
    dialog.confirm_button.setFocus()
    qtbot.keyClick(dialog.confirm_button, Qt.Key.Key_Return)  # the dialog's default button is "Abbrechen"
    qtbot.waitUntil(lambda: page.confirm_dialog is None)
    assert page.review.get(draft_id).state is DraftState.IN_REVIEW, "Enter cancels, it never confirms"

    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    dialog = page.confirm_dialog
    dialog.acknowledge.setChecked(True)
    qtbot.keyClick(dialog.acknowledge, Qt.Key.Key_Enter)
    qtbot.waitUntil(lambda: page.confirm_dialog is None)
    assert page.review.get(draft_id).state is DraftState.IN_REVIEW
    assert "draft_confirmed" not in audit_of(page.review).actions()


def confirm_by_clicks(page: DraftsPage, qtbot) -> None:
    tick_all(page, qtbot)
    qtbot.waitUntil(page.confirm_button.isEnabled)
    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    dialog = page.confirm_dialog
    assert dialog is not None
    dialog.acknowledge.setChecked(True)
    with qtbot.waitSignal(page.draft_decided):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)


def test_no_final_docx_before_confirming(make_page, qtbot, tmp_path, monkeypatch):
    shown: list[AktenlotseError] = []
    monkeypatch.setattr("app.ui.drafts_page.show_error", lambda parent, error: shown.append(error))
    page, draft_id = open_answer(make_page)
    target = tmp_path / "auskunft.docx"
    page.choose_export_path = lambda: str(target)
    assert page.export_button.text().startswith("Als Entwurf")
    with qtbot.waitSignal(page.export_finished) as outcome:
        page.export_docx(final=True)
    assert outcome.args == ["failed"] and not target.exists()
    assert shown and "erst nach der Bestätigung" in shown[0].user_message
    # What the button does before confirming: a DOCX clearly marked as a draft.
    with qtbot.waitSignal(page.export_finished) as outcome:
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert outcome.args == ["result"]
    assert DocxWriter().read_properties(target)["review_status"] == "draft"


def test_after_confirming_the_exported_docx_is_confirmed(make_page, qtbot, tmp_path):
    page, draft_id = open_answer(make_page)
    confirm_by_clicks(page, qtbot)
    draft = page.review.get(draft_id)
    assert draft.state is DraftState.CONFIRMED and draft.reviewer == REVIEWER
    assert page.banner.text().startswith("Bestätigt von " + REVIEWER)
    assert page.editor.isReadOnly()
    assert page.export_button.text().startswith("Endgültig")
    target = tmp_path / "auskunft_final.docx"
    page.choose_export_path = lambda: str(target)
    with qtbot.waitSignal(page.export_finished) as outcome:
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert outcome.args == ["result"]
    props = DocxWriter().read_properties(target)
    assert props["review_status"] == "confirmed" and props["reviewer"] == REVIEWER and props["reviewed_at"]
    assert [a for a in audit_of(page.review).actions() if a.startswith("draft_")][-2:] == \
        ["draft_confirmed", "draft_exported"]


def test_copy_is_a_draft_until_confirmed(make_page, qtbot):
    page, _draft_id = open_answer(make_page)
    assert page.copy_text()
    assert DRAFT_LINE in QGuiApplication.clipboard().text()
    confirm_by_clicks(page, qtbot)
    assert page.copy_text()
    copied = QGuiApplication.clipboard().text()
    assert DRAFT_LINE not in copied and REVIEWER in copied and "Quellen:" in copied


def test_editing_a_flagged_sentence_resolves_it_and_makes_a_version(make_page, qtbot):
    page, draft_id = open_answer(make_page)
    page.editor.setPlainText(ANSWER.replace(" " + UNCITED, ""))
    qtbot.waitUntil(lambda: not any(UNCITED in t and "erledigt" not in t for t in rows(page)))
    assert any(UNCITED in t and t.endswith("– erledigt") for t in rows(page))
    assert "ungespeicherte" in page.version_label.text()
    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
    draft = page.review.get(draft_id)
    assert len(draft.versions) == 2 and UNCITED not in draft.text
    assert page.version_label.text() == "Fassung 2"


def test_opening_a_source_resolves_its_item(make_page, qtbot):
    page, draft_id = open_answer(make_page)
    row = next(page.checklist.item(i) for i in range(page.checklist.count())
               if page.checklist.item(i).text().startswith("Quelle [2]"))
    page.checklist.setCurrentItem(row)
    assert page.open_source_button.isEnabled()
    with qtbot.waitSignal(page.viewer_opened) as opened:
        qtbot.mouseClick(page.open_source_button, Qt.MouseButton.LeftButton)
    viewer = opened.args[0]
    qtbot.waitUntil(lambda: viewer.is_loaded)
    assert "Widerspruch" in viewer.highlighted_text()
    assert page.review.get(draft_id).opened_sources == {2}
    qtbot.waitUntil(lambda: any(t.startswith("Quelle [2]") and t.endswith("erledigt") for t in rows(page)))
    viewer.close()


def test_reject_with_a_reason_and_discard(make_page, qtbot):
    review = make_review()
    first = review.submit(sample_answer())
    second = review.submit(sample_summary())
    page = make_page(review)
    page.open_draft(first)
    dialog = page.request_reject()
    dialog.reason_edit.setPlainText("Frist falsch berechnet")
    with qtbot.waitSignal(page.draft_decided) as decided:
        qtbot.mouseClick(dialog.reject_button, Qt.MouseButton.LeftButton)
    assert decided.args == [first, "rejected"]
    assert review.get(first).reject_reason == "Frist falsch berechnet"
    assert page.banner.text().startswith("Abgelehnt von")
    assert not page.confirm_button.isEnabled() and not page.export_button.isEnabled()
    page.open_draft(second)
    box = page.request_discard()
    discard = next(b for b in box.buttons() if b.text() == "Verwerfen")
    assert box.defaultButton() is not discard, "keeping is the default"
    with qtbot.waitSignal(page.draft_decided) as decided:
        discard.click()
    assert decided.args == [second, "discarded"]
    assert audit_of(review).actions()[-1] == "draft_discarded"
    page.filter_combo.setCurrentIndex(0)  # open drafts only
    page.refresh()
    assert page.list.topLevelItemCount() == 0 and page.empty_label.isVisible()


def test_policy_placeholders_must_be_filled_and_time_must_pass(make_page, qtbot):
    clock = Clock()
    review = make_review(ReviewPolicy(no_open_placeholders=True, min_review_seconds=30, long_draft_chars=100),
                         clock=clock)
    draft_id = review.submit(sample_letter({"empfaenger": "Frau Erika Beispiel\nLindenstraße 4\n12345 Musterstadt",
                                            "aktenzeichen": "50.2-WoG-2024/0815",
                                            "sachbearbeiter": "Jonas Weber"}))
    page = make_page(review)
    page.open_draft(draft_id)
    placeholder_rows = [page.checklist.item(i) for i in range(page.checklist.count())
                        if "Platzhalter" in page.checklist.item(i).text()]
    assert placeholder_rows, rows(page)
    assert all(not (r.flags() & Qt.ItemFlag.ItemIsUserCheckable) for r in placeholder_rows), "cannot be ticked"
    tick_all(page, qtbot)
    assert not page.confirm_button.isEnabled()
    assert "Platzhalter" in page.blockers_label.text()
    text = page.editor.toPlainText()
    for placeholder in ("[Frist eintragen]",):
        text = text.replace(placeholder, "15. Juli 2024")
    page.editor.setPlainText(text)
    page.apply_edit()
    tick_all(page, qtbot)
    assert not page.confirm_button.isEnabled(), "the minimum review time has not passed"
    assert "Mindestprüfzeit" in page.blockers_label.text()
    clock.advance(31)
    page._update_controls()  # the page's one-second timer does this in the running app
    assert page.blockers() == [] and page.confirm_button.isEnabled()


def test_page_has_accessible_names(make_page):
    page, _ = open_answer(make_page)
    assert interactive_without_name(page) == []


def test_hand_over_from_nachschlagen_reaches_entwuerfe(qtbot):
    review = make_review()
    lookup = FakeLookup()
    window = MainWindow(load_config(os.environ), ModelService(FakeLanguageModel(FAKE_INFO)),
                        selection_for(FAKE_INFO), runner=TaskRunner(), lookup=lookup, review=review)
    qtbot.addWidget(window)
    window.show()
    window.start_model_loading()
    qtbot.waitUntil(lambda: window.lookup_page.ask_button.isEnabled() or bool(window.lookup_page.question_edit))
    page = window.lookup_page
    page.question_edit.setPlainText(QUESTION)
    qtbot.waitUntil(page.ask_button.isEnabled)
    with qtbot.waitSignal(page.asking_finished, timeout=10000):
        page.ask()
    qtbot.mouseClick(page.review_button, Qt.MouseButton.LeftButton)
    drafts = window.drafts_page
    assert drafts.list.topLevelItemCount() == 1
    nav = window.navigation.item(window._page_keys.index("entwuerfe"))
    assert nav.text() == "Entwürfe (1)"
    drafts.list.setCurrentItem(drafts.list.topLevelItem(0))
    assert drafts.current is not None and drafts.current.title == QUESTION
    window.runner.shutdown(2000)


def test_letters_and_summaries_become_drafts_too(make_page, tmp_path, qtbot):
    review = make_review()
    letter_id = review.submit(sample_letter(), edited_body="Sehr geehrte Frau Beispiel, bitte [Frist eintragen].")
    summary_id = review.submit(sample_summary())
    page = make_page(review)
    lines = sorted(page.list.topLevelItem(i).text(0).split("\n")[1] for i in range(page.list.topLevelItemCount()))
    assert lines == ["Brief · Neu · gerade eben", "Zusammenfassung · Neu · gerade eben"]
    page.open_draft(letter_id)
    assert page.version_label.text() == "Fassung 2"
    assert any("[Frist eintragen]" in t for t in rows(page))
    target: Path = tmp_path / "brief.docx"
    page.choose_export_path = lambda: str(target)
    with qtbot.waitSignal(page.export_finished):
        page.export_docx()
    assert DocxWriter().read_properties(target)["kind"] == "brief"
    page.open_draft(summary_id)
    assert page.title_label.text().startswith("Zusammenfassung:")


def test_placeholders_in_a_letters_address_are_filled_in_review(make_page, qtbot):
    review = make_review(ReviewPolicy(no_open_placeholders=True))
    draft_id = review.submit(sample_letter({"aktenzeichen": "50.2-WoG-2024/0815", "frist": "15. Juli 2024",
                                            "sachbearbeiter": "Jonas Weber"}))
    page = make_page(review)
    page.open_draft(draft_id)
    assert page.frame_button.isVisible() and page.frame_button.isEnabled()
    assert any("[Empfänger eintragen]" in t for t in rows(page)), rows(page)
    dialog = page.edit_frame()
    assert dialog.recipient_edit.toPlainText() == "[Empfänger eintragen]"
    dialog.recipient_edit.setPlainText("Frau Erika Beispiel\nLindenstraße 4\n12345 Musterstadt")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not any("[Empfänger eintragen]" in t for t in rows(page)))
    stored = review.get(draft_id)
    assert stored.payload["recipient_lines"][0] == "Frau Erika Beispiel"
    assert not any("Platzhalter" in t for t in rows(page)), rows(page)
    tick_all(page, qtbot)
    assert page.confirm_button.isEnabled(), page.blockers()
