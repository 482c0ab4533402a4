"""`aktenlotse audit verify|export` as subprocesses over a log the app wrote (build_container), with the shared
test keyring (signed) and without any keyring (unsigned, said plainly)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.bootstrap import build_container

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "audit", *args], cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def written_log() -> Path:
    """Eight records through the composition root, as the app writes them."""
    container = build_container()
    try:
        container.record_start("test")
        for i in range(6):
            container.record("ai_request", {"feature": "lookup", "sources": i, "output_sha256": f"{i:064x}"})
        folder = container.audit_log.folder
        assert container.key_message == "" and container.audit_log.key is not None  # the test keyring signs
    finally:
        container.close()
    return folder


def audit_file(folder: Path) -> Path:
    (path,) = sorted(folder.glob("audit-*.jsonl"))
    return path


def test_verify_ok_on_an_untouched_log_and_the_run_is_recorded(written_log: Path) -> None:
    result = cli("verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 8 Einträge in 1 Datei(en)" in result.stdout and "signiert (HMAC geprüft)" in result.stdout
    records = [json.loads(line) for line in audit_file(written_log).read_text(encoding="utf-8").splitlines()]
    assert records[-1]["action"] == "audit_verified" and records[-1]["fields"]["ok"] is True
    again = cli("verify", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["records"] == 9  # the first verification is in it


def test_verify_names_the_modified_record_and_exits_1(written_log: Path) -> None:
    path = audit_file(written_log)
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"sources":1', b'"sources":7')
    assert b'"sources":7' in lines[3]
    path.write_bytes(b"\n".join(lines))
    result = cli("verify")
    assert result.returncode == 1
    assert "FEHLER: Verändert" in result.stdout and "Zeile 4, Eintrag Nr. 4" in result.stdout
    data = json.loads(cli("verify", "--json").stdout)
    assert data["ok"] is False and data["problem"]["kind"] == "modified" and data["problem"]["seq"] == 4


def test_verify_of_a_copied_log_only_reads_it(written_log: Path, tmp_path: Path) -> None:
    copy = tmp_path / "kopie"
    shutil.copytree(written_log, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    result = cli("verify", "--dir", str(copy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before
    lines = audit_file(copy).read_bytes().split(b"\n")
    lines[1], lines[2] = lines[2], lines[1]
    audit_file(copy).write_bytes(b"\n".join(lines))
    swapped = cli("verify", "--dir", str(copy))
    assert swapped.returncode == 1 and "Umgestellt" in swapped.stdout
    assert cli("verify", "--dir", str(tmp_path / "gibt-es-nicht")).returncode == 2


def test_another_installations_key_is_a_key_mismatch(written_log: Path, tmp_path: Path) -> None:
    other = tmp_path / "anderer_schluessel.json"
    other.write_text(json.dumps({"Aktenlotse\naudit-hmac-key": "11" * 32}), encoding="utf-8")
    result = cli("verify", env={"AKTENLOTSE_TEST_KEYRING": str(other)})
    assert result.returncode == 1 and "Schlüssel passt nicht" in result.stdout
    unsigned = cli("verify", "--no-key", env={"AKTENLOTSE_TEST_KEYRING": str(other)})
    assert unsigned.returncode == 0 and "nicht signiert geprüft" in unsigned.stdout


def test_export_csv_and_json_for_a_period(written_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "protokoll.csv"
    result = cli("export", "--from", "2020-01-01", "--to", "2999-12-31", "--format", "csv", "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["action"] for r in rows[:2]] == ["app_started", "policy_loaded"]
    assert len(rows) == 8 and all(r["signed"] == "ja" for r in rows)
    nothing = cli("export", "--from", "01.01.2020", "--to", "31.12.2020", "--format", "json")
    assert nothing.returncode == 0 and json.loads(nothing.stdout) == []
    assert cli("export", "--from", "gestern").returncode == 2


def test_without_a_keyring_the_log_is_chained_unsigned_and_says_so(tmp_path: Path) -> None:
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    first = cli("verify", env=env)
    assert first.returncode == 0
    assert "Kein nutzbarer Schlüsselbund" in first.stderr and "nicht signiert" in first.stdout
    second = cli("verify", "--json", env=env)
    data = json.loads(second.stdout)
    assert data["ok"] is True and data["records"] == 1 and data["signed"] is False  # the first run is recorded
