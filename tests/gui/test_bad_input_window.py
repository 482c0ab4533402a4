"""Bad model files and a bad policy, through the real bootstrap: the window stays up, says why in German,
and keeps the model features off."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.bootstrap import build_container
from app.core.llm import ModelState
from app.ui.main_window import MainWindow
from tests.bad_models import write_case

pytestmark = pytest.mark.gui


def make_case(case: str, tmp_path: Path, test_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "policy.toml"
    policy = write_case(case, tmp_path, test_model_path)
    if policy is not None:
        file.write_text(policy, encoding="utf-8")
    monkeypatch.setenv("AKTENLOTSE_POLICY", str(file))


@pytest.mark.parametrize(
    ("case", "key", "needle"),
    [
        ("missing", "model", "nicht gefunden"),
        ("checksum", "model", "Prüfsumme"),
        ("truncated", "model", "unvollständig"),
        ("not_gguf", "model", "GGUF"),
        ("policy_toml", "policy", "keine gültige TOML-Datei"),
        ("policy_unreadable", "policy", "kann nicht gelesen werden"),
    ],
)
def test_window_explains_bad_input_and_disables_model_features(
    qtbot, tmp_path: Path, test_model_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, key: str, needle: str
) -> None:
    make_case(case, tmp_path, test_model_path, monkeypatch)
    container = build_container()
    window = MainWindow(container.config, container.model_service, container.selection)
    qtbot.addWidget(window)
    window.show()
    window.start_model_loading()  # the checksum case fails only here, on the loading thread
    qtbot.waitUntil(lambda: window.message_bar.message(key) is not None, timeout=20_000)
    assert needle in window.message_bar.message(key)
    assert window.isVisible()
    box = window.model_test_box
    qtbot.waitUntil(lambda: box.reason_label.isVisible(), timeout=5_000)
    assert not box.send_button.isEnabled()
    assert box.reason_label.text().startswith("Senden ist nicht möglich")
    assert container.model_service.state is ModelState.ERROR
    window.close()


def test_good_model_with_checksum_is_verified_while_loading(
    qtbot, tmp_path: Path, test_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checksum is not computed before the window shows; the load step verifies it."""
    import hashlib

    digest = hashlib.sha256(test_model_path.read_bytes()).hexdigest()
    file = tmp_path / "policy.toml"
    file.write_text(f'model_path = "{test_model_path}"\nmodel_sha256 = "{digest}"\n', encoding="utf-8")
    monkeypatch.setenv("AKTENLOTSE_POLICY", str(file))
    container = build_container()
    assert container.selection is not None and container.selection.status.value == "pending"
    window = MainWindow(container.config, container.model_service, container.selection)
    qtbot.addWidget(window)
    window.show()
    window.start_model_loading()
    qtbot.waitUntil(lambda: container.model_service.state is ModelState.READY, timeout=60_000)
    assert container.model_service.verified_sha256 == digest
    qtbot.waitUntil(window.model_test_box.send_button.isEnabled, timeout=5_000)
    window.close()
