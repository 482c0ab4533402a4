"""The composition root and the audit log: who sees the Prüfprotokoll page, what the window says without a
keyring or when the log cannot be written, and that start, policy and stop are recorded."""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QLabel

from app import bootstrap
from app.bootstrap import build_container, is_security_officer
from app.services.model_service import ModelService
from app.ui.main_window import MainWindow
from app.ui.task_runner import TaskRunner

from .review_fakes import sample_answer

pytestmark = pytest.mark.gui


def window_for(container, qtbot) -> MainWindow:
    window = MainWindow(container.config, ModelService(None), None, runner=TaskRunner())
    qtbot.addWidget(window)
    return window


def test_only_accounts_named_by_policy_are_security_officers(write_policy, monkeypatch) -> None:
    write_policy('security_officers = ["VERWALTUNG\\\\m.muster"]\n')
    monkeypatch.setattr(bootstrap, "os_account", lambda: "verwaltung\\M.Muster")
    container = build_container(os.environ)
    assert is_security_officer(container)
    monkeypatch.setattr(bootstrap, "os_account", lambda: "VERWALTUNG\\j.weber")
    assert not is_security_officer(container)
    container.close()


def test_start_and_policy_are_recorded_and_signed(write_policy, qtbot) -> None:
    config = write_policy("locked = [\"language\"]\n")
    container = build_container(os.environ)
    window = window_for(container, qtbot)
    bootstrap._show_audit_state(window, container)
    records = container.audit_log.records()
    assert [r["action"] for r in records] == ["app_started", "policy_loaded"]
    assert records[1]["fields"] == {"source": config.policy.description, "sha256": config.policy.sha256,
                                    "locked": ["language"], "remote_endpoints": [], "pseudonymise": True}
    assert all(r["mac"] for r in records) and container.audit_log.verify().signed
    assert window.message_bar.findChild(object, "message-audit") is None  # nothing to say when all is well
    container.close()


def test_without_a_keyring_the_window_says_the_log_is_unsigned(qtbot) -> None:
    keyring.set_keyring(fail.Keyring())
    container = build_container(os.environ)
    assert container.key_message and container.audit_log.key is None
    window = window_for(container, qtbot)
    bootstrap._show_audit_state(window, container)
    frame = window.message_bar.findChild(object, "message-audit")
    assert frame is not None
    shown = " ".join(label.text() for label in frame.findChildren(QLabel))
    assert "ohne Signatur" in shown and "verkettet" in shown, shown
    assert container.audit_log.records()[0]["mac"] is None and container.audit_log.verify().ok
    container.close()


def test_an_unwritable_audit_folder_blocks_what_must_be_logged(write_policy, tmp_path: Path, qtbot) -> None:
    blocker = tmp_path / "keine_ordner"
    blocker.write_text("eine Datei, kein Ordner", encoding="utf-8")
    write_policy(f'audit_dir = "{blocker / "audit"}"\n')
    container = build_container(os.environ)
    window = window_for(container, qtbot)
    bootstrap._show_audit_state(window, container)
    frame = window.message_bar.findChild(object, "message-audit")
    shown = " ".join(label.text() for label in frame.findChildren(QLabel))
    assert "kann nicht geschrieben werden" in shown
    review = container.review()
    with pytest.raises(Exception, match="Prüfprotokoll"):
        review.submit(sample_answer())
    assert review.drafts() == [], "nothing is handed over without its record"
    container.close()
