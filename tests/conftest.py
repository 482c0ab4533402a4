"""Shared fixtures: an isolated AKTENLOTSE_HOME, an in-memory keyring, and the real test model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _session_keyring() -> None:
    """A keyring from the start of the session (module-scoped fixtures build containers before any function
    fixture runs); `test_keyring` below gives each test its own file."""
    import tempfile

    import keyring

    from tests.keyring_backend import FileKeyring

    os.environ.setdefault("AKTENLOTSE_TEST_KEYRING", str(Path(tempfile.mkdtemp(prefix="aktenlotse-keyring-"))
                                                         / "keyring.json"))
    os.environ["PYTHON_KEYRING_BACKEND"] = "tests.keyring_backend.FileKeyring"
    keyring.set_keyring(FileKeyring())


_session_keyring()


@pytest.fixture(autouse=True)
def aktenlotse_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own per-user folder and no system policy unless it sets one."""
    home = tmp_path / "aktenlotse_home"
    home.mkdir()
    monkeypatch.setenv("AKTENLOTSE_HOME", str(home))
    empty_policy = tmp_path / "no_policy.toml"
    empty_policy.write_text("", encoding="utf-8")
    monkeypatch.setenv("AKTENLOTSE_POLICY", str(empty_policy))
    return home


@pytest.fixture(autouse=True)
def test_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A keyring for every test (headless Linux has none): one file, shared with CLI subprocesses, so the audit
    log is signed with the same key in the test and in `python -m app ...`."""
    import keyring

    from tests.keyring_backend import FileKeyring

    monkeypatch.setenv("AKTENLOTSE_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.FileKeyring")
    previous = keyring.get_keyring()
    backend = FileKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def test_model_path() -> Path:
    """The small real model (SmolLM2-135M-Instruct Q4_1) that `make test` puts into models/."""
    path = REPO / "models" / TEST_MODEL_FILE
    if not path.exists():
        pytest.fail(f"Test model {path} is missing: run `make test` (scripts/fetch_models.py --role test).")
    return path
