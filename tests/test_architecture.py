"""The dependency rule (docs/architecture.md) holds, and the contracts really catch a violation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def run_lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_tree(tmp_path: Path) -> Path:
    dest = tmp_path / "repo"
    shutil.copytree(REPO / "app", dest / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")
    return dest


def test_import_contracts_hold() -> None:
    result = run_lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_contracts_fail_when_core_imports_qt(tmp_path: Path) -> None:
    repo = copy_tree(tmp_path)
    (repo / "app" / "core" / "bad_probe.py").write_text("from PySide6.QtCore import QObject\n")
    result = run_lint(repo)
    assert result.returncode != 0
    assert "core is pure" in result.stdout
    assert "app.core.bad_probe -> PySide6" in result.stdout


def test_contracts_fail_when_services_import_an_adapter(tmp_path: Path) -> None:
    repo = copy_tree(tmp_path)
    (repo / "app" / "services" / "bad_probe.py").write_text("import app.adapters.model_files\n")
    result = run_lint(repo)
    assert result.returncode != 0
    assert "services depend on core only" in result.stdout
