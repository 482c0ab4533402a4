"""Offline guarantee: start-up, model load, generation and the window open no network socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("offline_probe.py")
REPO = Path(__file__).resolve().parents[2]


def run_probe(*args: str, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, str(PROBE), *args],
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_guard_catches_a_connection_attempt() -> None:
    """The check can fail: a real connection attempt is seen."""
    report = run_probe("--self-check", env={})
    assert report["attempts"], "the socket guard did not see an attempted connection"


@pytest.mark.model
def test_startup_load_and_generation_stay_offline(tmp_path: Path, test_model_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'model_path = "{test_model_path}"\n', encoding="utf-8")
    report = run_probe(
        env={"AKTENLOTSE_POLICY": str(policy), "AKTENLOTSE_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    )
    assert report["attempts"] == []
    assert report["state"] == "ready"
    assert report["text"].strip()
    assert report["shown"] is True
