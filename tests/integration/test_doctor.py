"""`aktenlotse doctor` (as `python -m app doctor`): exit 0 on a good installation, a German reason otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bad_models import write_case

REPO = Path(__file__).resolve().parents[2]
TEST_SHA = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def doctor(tmp_path: Path, policy_text: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """Run doctor with a policy file holding `policy_text`; None points AKTENLOTSE_POLICY at a missing file."""
    policy = tmp_path / "policy.toml"
    env = {**os.environ, "AKTENLOTSE_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO),
           "AKTENLOTSE_POLICY": str(policy)}
    if policy_text is not None:
        policy.write_text(policy_text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "app", "doctor", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def test_doctor_ok_prints_versions_model_checksum_policy_and_paths(tmp_path: Path, test_model_path: Path) -> None:
    result = doctor(tmp_path, f'model_path = "{test_model_path}"\nmodel_sha256 = "{TEST_SHA}"\n')
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "llama_cpp_python" in out and "PySide6_Essentials" in out
    assert str(test_model_path) in out
    assert "Prüfsumme korrekt" in out
    assert str(tmp_path / "policy.toml") in out
    assert "model_path, model_sha256" in out  # locked keys
    assert str(tmp_path / "home") in out  # per-user data lives under AKTENLOTSE_HOME
    assert "Ergebnis: OK" in out


def test_doctor_json_and_generation(tmp_path: Path, test_model_path: Path) -> None:
    result = doctor(tmp_path, f'model_path = "{test_model_path}"\n', "--json", "--load")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["model"]["architecture"] == "llama"
    assert report["model"]["context_length"] > 0
    assert report["generation"]["ok"] is True


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing", "nicht gefunden"),
        ("checksum", "Prüfsumme"),
        ("truncated", "unvollständig"),
        ("not_gguf", "GGUF"),
        ("policy_toml", "keine gültige TOML-Datei"),
        ("policy_unreadable", "kann nicht gelesen werden"),
    ],
)
def test_doctor_fails_with_a_german_reason(tmp_path: Path, test_model_path: Path, case: str, needle: str) -> None:
    policy = write_case(case, tmp_path, test_model_path)
    result = doctor(tmp_path, policy)
    assert result.returncode != 0, result.stdout
    assert "Ergebnis: FEHLER" in result.stdout
    assert needle in result.stdout
    assert "Traceback" not in result.stderr


def test_doctor_finds_a_model_an_admin_placed_in_the_models_folder(tmp_path: Path, test_model_path: Path) -> None:
    models = tmp_path / "modelle"
    models.mkdir()
    shutil.copy(test_model_path, models / "produktiv-8b.gguf")
    result = doctor(tmp_path, f'models_dir = "{models}"\n')
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Datei                {models / 'produktiv-8b.gguf'}" in result.stdout
    assert "im Modellordner gefunden" in result.stdout
    assert "keine Prüfsumme hinterlegt" in result.stdout  # no model_sha256 in policy: said plainly
    assert "produktiv-8b.gguf" in result.stdout.split("Modelle im Modellordner")[1]
    assert "von der IT" in result.stdout
    assert "Demo-Modell" not in result.stdout


def test_doctor_names_the_configured_data_centre_endpoints(tmp_path: Path, test_model_path: Path) -> None:
    """Policy names a remote model and shared knowledge: doctor lists both with their settings (no connection is
    made – `aktenlotse remote check` does that); a missing local model is then no problem."""
    result = doctor(tmp_path, 'model_path = "/nicht/da.gguf"\n'
                    'remote_model_url = "https://llm.rz.example.de/v1"\nremote_model_name = "qwen2.5-7b"\n'
                    'shared_knowledge_url = "https://wissen.rz.example.de:8000"\n'
                    'shared_collections = ["Gewerberecht", "Ordnungsrecht"]\n', "--json")
    report = json.loads(result.stdout)
    assert report["network"]["mode"] == "remote"
    model, knowledge = report["network"]["remote_endpoints"]
    assert (model["purpose"], model["display"], model["tls"], model["model"], model["pseudonymise"]) == (
        "Sprachmodell", "llm.rz.example.de:443", True, "qwen2.5-7b", True)
    assert (knowledge["display"], knowledge["collections"]) == ("wissen.rz.example.de:8000",
                                                                ["Gewerberecht", "Ordnungsrecht"])
    assert result.returncode == 0, report["problems"]  # no fallback allowed: the local model is not needed

    text = doctor(tmp_path, 'remote_model_url = "https://llm.rz.example.de/v1"\nremote_model_name = "q"\n').stdout
    assert "Sprachmodell         llm.rz.example.de:443 (TLS)" in text and "Pseudonymisierung an" in text


def test_doctor_refuses_plain_http_to_another_host(tmp_path: Path) -> None:
    result = doctor(tmp_path, 'remote_model_url = "http://llm.rz.example.de/v1"\nremote_model_name = "q"\n')
    assert result.returncode == 1
    assert "muss verschlüsselt sein (https://)" in result.stdout
