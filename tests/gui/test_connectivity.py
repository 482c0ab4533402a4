"""The status bar names exactly the remote endpoints the policy configures, and which one is in use: the data-centre
model, the local fallback when the data centre cannot be reached, and the shared knowledge server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.config import load_config
from app.core.errors import RemoteUnavailable
from app.core.llm import ModelState
from app.services.model_service import ModelService
from tests.gui.fakes import FakeLanguageModel

pytestmark = pytest.mark.gui


def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str):
    file = tmp_path / "policy.toml"
    file.write_text(text, encoding="utf-8")
    monkeypatch.setenv("AKTENLOTSE_POLICY", str(file))
    return load_config(os.environ)


def test_offline_when_nothing_is_configured(make_window) -> None:
    window = make_window()
    assert window.status_area.connectivity.text() == "Offline – keine Verbindung nach außen"
    assert "Ihre Eingabe verlässt den Rechner nicht" in window.model_test_box.intro.text()


def test_shared_knowledge_server_and_collections_are_named(make_window, tmp_path, monkeypatch) -> None:
    config = policy(tmp_path, monkeypatch, 'shared_knowledge_url = "https://wissen.rz.example.de:8000"\n'
                                           'shared_collections = ["Gewerberecht", "Ordnungsrecht"]\n')
    window = make_window(config=config)
    label = window.status_area.connectivity
    assert label.text() == "Verbindung zu: Fachbereichswissen wissen.rz.example.de:8000 (Gewerberecht, Ordnungsrecht)"
    assert "nur der Suchvektor" in label.toolTip()
    assert label.accessibleName() == label.text()


def test_fallback_to_the_local_model_is_said_in_the_status_bar(make_window, qtbot, tmp_path, monkeypatch) -> None:
    config = policy(tmp_path, monkeypatch, 'remote_model_url = "http://127.0.0.1:9/v1"\nremote_model_name = "m"\n'
                                           'remote_fallback_local = true\n')
    remote = FakeLanguageModel(remote=True, load_error=RemoteUnavailable(
        "Das Rechenzentrum (127.0.0.1:9) ist nicht erreichbar."))
    service = ModelService(remote, fallback=FakeLanguageModel(), pseudonymise=True)
    window = make_window(config=config, service=service)
    label = window.status_area.connectivity
    assert label.text() == "Verbindung zu: Sprachmodell 127.0.0.1:9"
    assert "Platzhalter" in label.toolTip()
    intro = window.model_test_box.intro.text()  # "Modell testen" makes no false promise of staying on the PC
    assert "Rechenzentrum (http://127.0.0.1:9/v1)" in intro and "verlässt den Rechner nicht" not in intro

    window.start_model_loading()
    qtbot.waitUntil(lambda: window.model_status.state is ModelState.READY)
    qtbot.waitUntil(lambda: "lokales Modell in Verwendung" in label.text())
    assert label.text() == "Verbindung zu: Sprachmodell 127.0.0.1:9 nicht erreichbar – lokales Modell in Verwendung"
    assert "Nichts verlässt den Rechner" in label.toolTip()
    assert "Ihre Eingabe verlässt den Rechner nicht" in window.model_test_box.intro.text()


def test_model_name_and_demo_notice_follow_the_answering_model(make_window, qtbot, tmp_path, monkeypatch) -> None:
    """With a data-centre model the status bar names it (not the local demo file kept for the fallback) and shows
    no demo notice; when the fallback answers, it names the local model and its demo notice."""
    from dataclasses import replace

    from tests.gui.conftest import selection_for
    from tests.gui.fakes import FAKE_INFO

    config = policy(tmp_path, monkeypatch, 'remote_model_url = "http://127.0.0.1:9/v1"\nremote_model_name = "m"\n'
                                           'remote_fallback_local = true\n')
    remote_info = replace(FAKE_INFO, name="qwen2.5-7b-rz", role="admin")
    local_info = replace(FAKE_INFO, name="Demo lokal", role="default")
    gate = __import__("threading").Event()
    remote = FakeLanguageModel(remote_info, remote=True, load_gate=gate,
                               load_error=RemoteUnavailable("Das Rechenzentrum ist nicht erreichbar."))
    service = ModelService(remote, fallback=FakeLanguageModel(local_info))
    window = make_window(config=config, service=service, selection=selection_for(local_info))
    area = window.status_area
    assert area.model_label.text() == "Modell: qwen2.5-7b-rz" and not area.demo_label.isVisible()

    window.start_model_loading()
    gate.set()
    qtbot.waitUntil(lambda: area.model_label.text() == "Modell: Demo lokal")
    assert area.demo_label.isVisible()


def test_model_information_of_a_data_centre_model_names_the_endpoint(make_window, tmp_path, monkeypatch) -> None:
    """„Modellinformationen“ of a remote model: endpoint, encryption and the local model file – no file size or
    checksum that belong to the local model."""
    from dataclasses import replace

    from tests.gui.conftest import selection_for
    from tests.gui.fakes import FAKE_INFO

    config = policy(tmp_path, monkeypatch, 'remote_model_url = "http://127.0.0.1:9/v1"\nremote_model_name = "m"\n')
    local = replace(FAKE_INFO, path="/opt/modelle/lokal.gguf")
    window = make_window(FakeLanguageModel(replace(FAKE_INFO, name="qwen2.5-7b-rz"), remote=True), config=config,
                         selection=selection_for(local))
    facts = dict(window.show_model_info().facts)
    assert facts["Name"] == "qwen2.5-7b-rz" and facts["Endpunkt"] == "http://127.0.0.1:9/v1"
    assert facts["Verschlüsselung"].startswith("keine – nur auf diesem Rechner")
    assert facts["Lokales Modell"] == "/opt/modelle/lokal.gguf"
    assert "Größe" not in facts and "Prüfung" not in facts


def test_fallback_offers_to_reconnect_and_goes_back_to_the_data_centre(make_window, qtbot, tmp_path,
                                                                        monkeypatch) -> None:
    """The message bar says the local model stands in and offers „Erneut verbinden“: while the data centre is
    still down the bar says why; once it answers, the bar goes and the status bar names the data centre again."""
    from app.services.model_service import BACKEND_FALLBACK, BACKEND_REMOTE

    config = policy(tmp_path, monkeypatch, 'remote_model_url = "http://127.0.0.1:9/v1"\nremote_model_name = "m"\n'
                                           'remote_fallback_local = true\n')
    remote = FakeLanguageModel(remote=True, load_error=RemoteUnavailable("Das Rechenzentrum ist nicht erreichbar."))
    service = ModelService(remote, fallback=FakeLanguageModel())
    window = make_window(config=config, service=service)
    window.start_model_loading()
    qtbot.waitUntil(lambda: window.message_bar.message("fallback") is not None)
    assert "lokales Modell in Verwendung" in window.message_bar.message("fallback")
    button = window.message_bar.findChild(object, "message-fallback-action")
    assert button is not None and button.text() == "&Erneut verbinden"

    button.click()  # still down: the bar says the retry failed, the fallback stays
    qtbot.waitUntil(lambda: "Erneuter Versuch fehlgeschlagen" in (window.message_bar.message("fallback") or ""))
    assert service.active_backend == BACKEND_FALLBACK

    remote.load_error = None  # the data centre is back
    qtbot.waitUntil(lambda: window._reconnect_task is None)
    window.message_bar.findChild(object, "message-fallback-action").click()
    qtbot.waitUntil(lambda: service.active_backend == BACKEND_REMOTE)
    qtbot.waitUntil(lambda: window.message_bar.message("fallback") is None)
    assert window.status_area.connectivity.text() == "Verbindung zu: Sprachmodell 127.0.0.1:9"
