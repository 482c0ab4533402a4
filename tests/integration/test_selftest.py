"""`aktenlotse --selftest` from the source tree: every step passes with the test model; without it, exit 1."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import selftest
from app.config import paths

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.model


def test_selftest_passes_and_leaves_no_trace(test_model_path: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", "AKTENLOTSE_HOME": str(home)}
    result = subprocess.run([sys.executable, "-m", "app", "--selftest"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(("ok", "FEHLER"))]
    assert [line.split()[0] for line in lines] == ["ok"] * 8, result.stdout
    assert "Nachschlagen mit Quelle" in result.stdout and "review_status=draft" in result.stdout
    assert "Rechenzentrum-Clients" in result.stdout and "klare Meldung" in result.stdout
    assert "Selbsttest bestanden" in result.stdout
    assert not home.exists(), "the user's data folder is not touched"


def test_selftest_without_the_test_model_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(paths, "default_models_dir", lambda: tmp_path)
    out = io.StringIO()
    assert selftest.run_selftest(out) == 1
    assert "Testmodell fehlt" in out.getvalue() and str(tmp_path) in out.getvalue()
