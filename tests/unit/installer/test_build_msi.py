"""Runs installer/build_msi.sh (wixl + msiinfo) on a small fake dist folder – about 1 s, so it is in the normal suite."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "installer" / "build_msi.sh"
TOOLS = ("wixl", "wixl-heat", "msiinfo", "msibuild", "python3")
POLICY = {"allowed_roots": "[ALLOWEDROOTS]", "model_path": "[MODELPATH]", "model_sha256": "[MODELSHA256]",
          "data_dir": "[DATADIR]", "audit_dir": "[AUDITDIR]", "remote_model_url": "[REMOTEURL]",
          "remote_model_name": "[REMOTEMODEL]", "shared_knowledge_url": "[SHAREDURL]",
          "shared_collections": "[SHAREDCOLLECTIONS]", "remote_pseudonymise": "#[PSEUDONYMISE]"}

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="needs wixl, wixl-heat, msiinfo, msibuild (apt-get install wixl msitools) and python3",
)


def _fake_dist(root: Path) -> Path:
    dist = root / "Aktenlotse"
    for rel, content in {
        "aktenlotse.exe": b"MZ fake",
        "_internal/python311.dll": b"dll",
        "_internal/PySide6/Qt6Core.dll": b"qt",
        "_internal/resources/letters/Bescheid Vorlage.toml": b"x = 1\n",
        "models/manifest.toml": b"# manifest\n",
        "models/test-model.gguf": b"GGUF not shipped",
        "models/.stamps/test-model.gguf.json": b"{}",
    }.items():
        path = dist / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return dist


def _export(msi: Path, table: str) -> list[list[str]]:
    out = subprocess.run(["msiinfo", "export", str(msi), table], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()[3:] if line]


def test_build_msi_on_a_fake_dist(tmp_path: Path) -> None:
    dist = _fake_dist(tmp_path / "dist")
    msi = tmp_path / "out" / "Aktenlotse.msi"
    env = {k: v for k, v in os.environ.items() if k != "AKTENLOTSE_MSI_INCLUDE_MODELS"}
    result = subprocess.run(["bash", str(SCRIPT), str(dist), str(msi), "1.2.3"],
                            capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout
    assert msi.is_file()

    registry = {row[3]: row for row in _export(msi, "Registry") if row[2] == r"Software\Policies\Aktenlotse"}
    for name, value in POLICY.items():
        assert name in registry, f"no Registry row for {name}"
        assert registry[name][1] == "2"  # HKLM
        assert registry[name][4] == value
    components = {row[0]: row for row in _export(msi, "Component")}
    for row in registry.values():
        attributes, condition = int(components[row[5]][3]), components[row[5]][4]
        assert attributes & 0x10 and attributes & 0x100, "permanent, 64-bit"
        assert f"[{condition}]" in row[4]

    shortcuts = _export(msi, "Shortcut")
    assert any(s[1] == "ProgramMenuFolder" and s[2] == "Aktenlotse" and s[4] == "[INSTALLDIR]aktenlotse.exe"
               for s in shortcuts)
    files = [row[2] for row in _export(msi, "File")]
    assert "aktenlotse.exe" in files and "Bescheid Vorlage.toml" in files
    assert not any(f.endswith((".gguf", ".json")) for f in files)
    props = dict(row[:2] for row in _export(msi, "Property"))
    assert props["ProductVersion"] == "1.2.3" and props["ALLUSERS"] == "1"


def test_build_msi_rejects_a_bad_version(tmp_path: Path) -> None:
    dist = _fake_dist(tmp_path / "dist")
    result = subprocess.run(["bash", str(SCRIPT), str(dist), str(tmp_path / "x.msi"), "1.2"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "a.b.c" in result.stderr
