"""Keyring backends for tests: in memory (this process) and a JSON file (shared with CLI subprocesses).

Headless Linux has no keyring; the app copes (unsigned audit log), and tests of that case set
`keyring.backends.fail.Keyring`. Every other test gets one of these so the audit log is signed as on a desktop.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


class FileKeyring(KeyringBackend):
    """`PYTHON_KEYRING_BACKEND=tests.keyring_backend.FileKeyring` with the file in `AKTENLOTSE_TEST_KEYRING`."""

    priority = 1

    @property
    def path(self) -> Path:
        return Path(os.environ["AKTENLOTSE_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        values = self._load()
        values[f"{service}\n{username}"] = password
        self.path.write_text(json.dumps(values), encoding="utf-8")

    def delete_password(self, service: str, username: str) -> None:
        values = self._load()
        values.pop(f"{service}\n{username}", None)
        self.path.write_text(json.dumps(values), encoding="utf-8")
