"""GUI fixtures: a window factory over the fake model, with the same object graph the bootstrap builds."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from app.config import EffectiveConfig, load_config, save_user_settings
from app.core.llm import ModelInfo, ModelState
from app.core.models import CheckStatus, ModelSelection
from app.services.model_service import ModelService
from app.ui.main_window import MainWindow
from app.ui.task_runner import TaskRunner

from .fakes import FAKE_INFO, FakeLanguageModel


def selection_for(info: ModelInfo, status: CheckStatus = CheckStatus.OK, source: str = "Richtlinie") -> ModelSelection:
    return ModelSelection(
        path=Path(info.path), status=status, info=info, entry=None, expected_sha256=None,
        actual_sha256="ab" * 32, source=source,
    )


@pytest.fixture
def write_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], EffectiveConfig]:
    """Write a policy file, point AKTENLOTSE_POLICY at it and return the loaded config."""

    def write(text: str) -> EffectiveConfig:
        file = tmp_path / "policy.toml"
        file.write_text(text, encoding="utf-8")
        monkeypatch.setenv("AKTENLOTSE_POLICY", str(file))
        return load_config(os.environ)

    return write


@pytest.fixture
def make_window(qtbot) -> Callable[..., MainWindow]:
    """Build a MainWindow over a fake model (or none), shown, as the bootstrap would."""

    def make(
        model: FakeLanguageModel | None = None,
        *,
        info: ModelInfo | None = None,
        config: EffectiveConfig | None = None,
        service: ModelService | None = None,
        selection: ModelSelection | None = None,
        with_save: bool = True,
        show: bool = True,
    ) -> MainWindow:
        config = config or load_config(os.environ)
        if service is None:
            model = model if model is not None else FakeLanguageModel(info or FAKE_INFO)
            service = ModelService(model)
        if selection is None and service.info is not None:
            selection = selection_for(service.info)
        save = (lambda changes: save_user_settings(config, changes)) if with_save else None
        window = MainWindow(config, service, selection, runner=TaskRunner(), save_settings=save)
        qtbot.addWidget(window)
        if show:
            window.show()
            qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def ready_window(make_window, qtbot) -> Callable[..., MainWindow]:
    """A window whose (fake) model has finished loading."""

    def make(model: FakeLanguageModel | None = None, **kwargs) -> MainWindow:
        window = make_window(model, **kwargs)
        window.start_model_loading()
        qtbot.waitUntil(lambda: window.model_status.state is ModelState.READY)
        return window

    return make

