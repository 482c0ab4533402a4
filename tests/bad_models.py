"""Broken model files and policies for the bad-input tests (doctor and window share them)."""

from __future__ import annotations

import shutil
from pathlib import Path

CASES = ("missing", "checksum", "truncated", "not_gguf", "policy_toml", "policy_unreadable")


def write_case(case: str, tmp_path: Path, test_model_path: Path) -> str | None:
    """Create the broken input for `case` below tmp_path and return the policy text (None: no policy file)."""
    model = tmp_path / "modell.gguf"
    policy = f'model_path = "{model}"\n'
    if case == "checksum":
        shutil.copy(test_model_path, model)
        return policy + f'model_sha256 = "{"0" * 64}"\n'
    if case == "truncated":
        model.write_bytes(test_model_path.read_bytes()[: test_model_path.stat().st_size // 2])
    elif case == "not_gguf":
        model.write_bytes(b"%PDF-1.4\n% Dies ist kein Modell, sondern ein Vermerk.\n" * 50)
    elif case == "policy_toml":
        return "allowed_roots = ['/srv/akten'\n"  # TOML cut off
    elif case == "policy_unreadable":
        return None
    return policy
