"""The main window over a fake model: start-up order, streaming under the banner, cancel, errors, settings, a11y."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit

from app.core.errors import ModelError, ModelNotFound
from app.core.llm import ModelState
from app.services.model_service import ModelService
from app.ui.model_test_box import DRAFT_BANNER
from app.ui.settings_dialog import LOCKED_TEXT
from app.ui.workspaces import PlaceholderPage

from .a11y import interactive_without_name
from .fakes import ANSWER, FAKE_INFO, FakeLanguageModel

pytestmark = pytest.mark.gui

DEMO_NOTICE = "Demo-Modell – für den Produktivbetrieb stellt Ihre IT ein Modell bereit"


def send(window, qtbot, prompt: str = "Was ist eine Eingangsbestätigung?"):
    box = window.model_test_box
    box.prompt_edit.setPlainText(prompt)
    with qtbot.waitSignal(box.generation_started, timeout=5000) as started:
        qtbot.mouseClick(box.send_button, Qt.MouseButton.LeftButton)
    return started.args[0]


def test_window_is_shown_before_the_model_has_loaded(make_window, qtbot):
    gate = threading.Event()
    window = make_window(FakeLanguageModel(load_gate=gate))
    task = window.start_model_loading()
    qtbot.waitUntil(lambda: window.model_status.state is ModelState.LOADING)
    box = window.model_test_box
    assert window.isVisible()
    assert window.status_area.state_label.text() == "Status: lädt"
    assert window.status_area.busy.isVisible()
    assert not box.send_button.isEnabled()
    assert box.reason_label.isVisible() and "geladen" in box.reason_label.text()

    with qtbot.waitSignal(task.finished, timeout=5000):
        gate.set()
    qtbot.waitUntil(lambda: window.status_area.state_label.text() == "Status: bereit")
    assert box.send_button.isEnabled()
    assert not box.reason_label.isVisible()
    assert not window.status_area.busy.isVisible()


def test_answer_streams_into_the_output_under_the_draft_banner(ready_window, qtbot):
    model = FakeLanguageModel(piece_delay=0.01)  # ~30 pieces over ~0.3 s: several batches
    window = ready_window(model)
    box = window.model_test_box
    assert box.banner.isVisible() and box.banner.text() == DRAFT_BANNER
    task = send(window, qtbot)
    chunks: list[str] = []
    task.partial_result.connect(chunks.append)
    assert not box.send_button.isEnabled() and box.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: bool(box.output.toPlainText()))
    assert box.banner.isVisible(), "the banner is shown whenever AI output is shown"
    with qtbot.waitSignal(box.generation_finished, timeout=10000) as finished:
        pass
    assert finished.args == ["result"]
    assert box.output.toPlainText() == ANSWER
    assert len(chunks) >= 2, "the answer streamed in several pieces"
    assert model.prompts == ["Was ist eine Eingangsbestätigung?"]
    assert box.banner.isVisible()
    assert box.banner.mapTo(window, box.banner.rect().bottomLeft()).y() <= box.output.mapTo(window, box.output.rect().topLeft()).y()
    assert box.send_button.isEnabled() and not box.cancel_button.isEnabled()
    assert "Fertig" in box.run_status.text()


def test_abbrechen_stops_a_long_generation(ready_window, qtbot):
    model = FakeLanguageModel(endless=True, piece_delay=0.002)
    window = ready_window(model)
    box = window.model_test_box
    send(window, qtbot)
    qtbot.waitUntil(lambda: len(box.output.toPlainText()) > 50)
    with qtbot.waitSignal(box.generation_finished, timeout=5000) as finished:
        qtbot.mouseClick(box.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["cancelled"]
    assert "Abgebrochen" in box.run_status.text()
    assert box.output.toPlainText(), "what was generated stays visible"
    assert box.banner.isVisible()
    assert box.send_button.isEnabled() and not box.cancel_button.isEnabled()


def test_escape_cancels_a_generation_that_waits(ready_window, qtbot):
    model = FakeLanguageModel(pieces=["Erster ", "Teil"], block_until_cancelled=True)
    window = ready_window(model)
    box = window.model_test_box
    send(window, qtbot)
    qtbot.waitUntil(lambda: box.output.toPlainText() == "Erster Teil")
    box.prompt_edit.setFocus()
    with qtbot.waitSignal(box.generation_finished, timeout=5000) as finished:
        box.cancel()  # what Esc triggers; the shortcut itself needs an active window, see test below
    assert finished.args == ["cancelled"]
    assert box.send_button.isEnabled()


def test_model_load_error_disables_send_with_the_reason(make_window, qtbot):
    error = ModelNotFound(detail="/opt/models/fehlt.gguf")
    window = make_window(FakeLanguageModel(load_error=error))
    with qtbot.waitSignal(window.model_load_finished, timeout=5000) as finished:
        window.start_model_loading()
    assert finished.args == ["failed"]
    qtbot.waitUntil(lambda: window.model_status.state is ModelState.ERROR)
    box = window.model_test_box
    assert not box.send_button.isEnabled()
    assert box.reason_label.isVisible() and error.user_message in box.reason_label.text()
    assert window.status_area.state_label.text() == "Status: Fehler"
    assert window.message_bar.isVisible()
    assert error.user_message in window.message_bar.message("model")


def test_no_model_at_all_shows_why(make_window):
    reason = ModelError("Es ist kein Sprachmodell eingerichtet.")
    window = make_window(service=ModelService(None, reason), selection=None)
    assert window.start_model_loading() is None
    assert not window.model_test_box.send_button.isEnabled()
    assert "kein Sprachmodell" in window.model_test_box.reason_label.text()
    assert "kein Sprachmodell" in window.message_bar.message("model")
    assert window.status_area.model_label.text() == "Modell: kein Modell"


def test_broken_policy_fails_closed(make_window, write_policy):
    config = write_policy("unbekannter_schluessel = 1\n")
    assert config.policy_error is not None
    window = make_window(config=config)
    assert window.start_model_loading() is None, "no model is loaded while the policy is broken"
    assert window.message_bar.isVisible()
    assert "unbekannte Schlüssel" in window.message_bar.message("policy")
    assert not window.model_test_box.send_button.isEnabled()
    assert "Richtlinie" in window.model_test_box.reason_label.text()


@pytest.mark.parametrize(("role", "shown"), [("default", True), ("test", True), ("admin", False)])
def test_demo_notice_in_status_bar(make_window, role, shown):
    window = make_window(info=replace(FAKE_INFO, role=role))
    assert window.status_area.demo_label.isVisible() is shown
    assert window.status_area.demo_label.text() == DEMO_NOTICE
    assert window.status_area.connectivity.text() == "Offline – keine Verbindung nach außen"


def test_remote_endpoint_is_named(make_window):
    window = make_window(FakeLanguageModel(remote=True))
    assert window.status_area.connectivity.text() == "Verbindung zu: Sprachmodell 127.0.0.1:9"
    assert "Platzhalter" in window.status_area.connectivity.toolTip()  # pseudonymisation on by default


def test_workspaces_say_honestly_they_are_not_available(make_window, qtbot):
    window = make_window()
    pages = [window.pages.widget(i) for i in range(4)]
    assert all(isinstance(page, PlaceholderPage) for page in pages)
    assert [p.workspace.title for p in pages] == ["Nachschlagen", "Zusammenfassen", "Entwerfen", "Entwürfe"]
    for page in pages:
        notice = page.findChild(QLabel, "notAvailable")
        assert "Noch nicht verfügbar" in notice.text()
        assert page.findChildren(QAbstractButton) == [], "no fake buttons"
    view_menu = window.menuBar().actions()[1].menu()
    assert view_menu.title() == "&Ansicht"
    for key, index in (("nachschlagen", 0), ("entwuerfe", 3), ("modell", 4)):
        view_menu.actions()[index].trigger()
        assert window.current_workspace == key


def test_keyboard_shortcuts(make_window, qtbot):
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_workspace == "nachschlagen"
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.current_workspace == "modell"
    assert window.model_test_box.prompt_edit.hasFocus()


def test_ctrl_return_sends_and_escape_cancels(ready_window, qtbot):
    window = ready_window(FakeLanguageModel(pieces=["Teil"], block_until_cancelled=True))
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    box = window.model_test_box
    box.prompt_edit.setFocus()
    qtbot.keyClicks(box.prompt_edit, "Hallo")
    with qtbot.waitSignal(box.generation_started, timeout=5000):
        qtbot.keyClick(box.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: box.output.toPlainText() == "Teil")
    with qtbot.waitSignal(box.generation_finished, timeout=5000) as finished:
        qtbot.keyClick(box.prompt_edit, Qt.Key.Key_Escape)
    assert finished.args == ["cancelled"]


def test_empty_prompt_is_explained_not_sent(ready_window, qtbot):
    window = ready_window()
    box = window.model_test_box
    box.prompt_edit.setPlainText("   ")
    assert box.send() is None
    assert "Frage ein" in box.run_status.text()


def test_locked_key_is_read_only_in_settings(make_window, write_policy, qtbot):
    config = write_policy('n_threads = 2\nlocked = ["language"]\n')
    window = make_window(config=config)
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    for key in ("n_threads", "language"):
        editor = dialog.editors[key]
        assert isinstance(editor, QLineEdit) and editor.isReadOnly(), key
        assert dialog.findChild(QLabel, f"locked-{key}").text() == LOCKED_TEXT
        assert LOCKED_TEXT in editor.accessibleDescription()
    assert dialog.editors["n_threads"].text() == "2"
    assert dialog.editors["language"].text() == "Deutsch"
    assert not dialog.editors["data_dir"].isReadOnly()
    assert dialog.findChild(QLabel, "locked-data_dir") is None


def test_settings_are_saved_through_the_callback(make_window, qtbot, tmp_path):
    window = make_window()
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    dialog.editors["data_dir"].setText(str(tmp_path / "daten"))
    dialog.editors["n_threads"].setText("3")
    with qtbot.waitSignal(window.settings_saved, timeout=5000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert window.config.settings.data_dir == tmp_path / "daten"
    assert window.config.settings.n_threads == 3


def test_invalid_settings_are_explained_in_the_dialog(make_window, qtbot):
    window = make_window()
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    dialog.editors["n_threads"].setText("viele")
    assert not dialog.save()
    assert dialog.error_label.isVisible() and "ganze Zahl" in dialog.error_label.text()
    dialog.editors["n_threads"].setText("")
    dialog.editors["context_length"].setText("100")  # below the schema's minimum: the callback's ConfigError
    assert not dialog.save()
    assert "ungültig" in dialog.error_label.text()
    assert dialog.isVisible()


def test_model_information_dialog(ready_window, qtbot):
    window = ready_window()
    dialog = window.show_model_info()
    qtbot.addWidget(dialog)
    facts = dict(dialog.facts)
    assert facts["Datei"] == FAKE_INFO.path
    assert facts["Größe"] == "4,37 GB"
    assert facts["Architektur"] == "llama"
    assert facts["Kontextlänge"] == "8.192 Token"
    assert facts["Chat-Vorlage"] == "vorhanden"
    assert facts["Prüfung"].startswith("Prüfsumme korrekt")
    assert facts["Herkunft"] == "Richtlinie"
    assert dialog.template_view is not None and "im_start" in dialog.template_view.toPlainText()


def test_every_interactive_widget_has_an_accessible_name(ready_window, write_policy, qtbot):
    config = write_policy('n_threads = 2\n')
    window = ready_window(config=config)
    assert interactive_without_name(window) == []
    for page in ("nachschlagen", "entwuerfe", "modell"):
        window.show_workspace(page)
        assert interactive_without_name(window) == [], page
    for dialog in (window.open_settings(), window.show_model_info()):
        qtbot.addWidget(dialog)
        qtbot.waitExposed(dialog)
        assert interactive_without_name(dialog) == [], dialog.objectName()
        dialog.close()
    for action in window.menuBar().actions():
        assert "&" in action.text(), f"menu {action.text()} has a mnemonic"


def test_closing_the_window_while_generating_stops_the_worker(ready_window, qtbot):
    model = FakeLanguageModel(endless=True, piece_delay=0.002)
    window = ready_window(model)
    send(window, qtbot)
    qtbot.waitUntil(lambda: bool(window.model_test_box.output.toPlainText()))
    window.close()
    assert window.runner.shutdown(0), "close() cancelled the generation and waited for the worker"


def test_review_switches_are_check_boxes_and_policy_locks_them(make_window, write_policy, qtbot):
    from PySide6.QtWidgets import QCheckBox

    config = write_policy("review_require_source_opened = true\n")
    window = make_window(config=config)
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    locked = dialog.editors["review_require_source_opened"]
    assert isinstance(locked, QCheckBox) and locked.isChecked() and not locked.isEnabled()
    stats = dialog.editors["review_stats"]
    assert isinstance(stats, QCheckBox) and stats.isChecked() and stats.isEnabled()
    stats.setChecked(False)
    assert dialog.changes() == {"review_stats": False}
    with qtbot.waitSignal(window.settings_saved, timeout=5000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert window.config.settings.review_stats is False
    assert window.config.settings.review_require_source_opened is True
