"""Policy and user settings: sources, validation, merging, locking, AKTENLOTSE_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import load_config, save_user_settings
from app.config import paths
from app.config.schema import POLICY_KEYS, Settings
from app.core.errors import ConfigError, PolicyViolation


def write_policy(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    file = tmp_path / "policy.toml"
    file.write_text(text, encoding="utf-8")
    monkeypatch.setenv("AKTENLOTSE_POLICY", str(file))
    return file


def test_no_policy_gives_defaults_and_nothing_locked(aktenlotse_home: Path) -> None:
    config = load_config()
    assert config.policy_error is None
    assert config.locked == frozenset()
    assert config.settings == Settings()
    assert config.data_dir == aktenlotse_home / "data"
    assert config.index_dir == aktenlotse_home / "data" / "index"
    assert config.audit_dir == aktenlotse_home / "data" / "audit"
    assert config.user_dirs.settings_file == aktenlotse_home / "config" / "settings.json"


def test_policy_keys_are_locked_and_win_over_user_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aktenlotse_home: Path
) -> None:
    user_file = aktenlotse_home / "config" / "settings.json"
    user_file.parent.mkdir(parents=True)
    user_file.write_text(json.dumps({"schema_version": 1, "audit_dir": "/tmp/user-audit", "n_threads": 3}))
    write_policy(
        tmp_path,
        """
allowed_roots = ["/srv/akten", "/srv/gesetze"]
model_path = "/opt/models/prod.gguf"
model_sha256 = "CC324AF070C2ECBFD324A30884D2F951A7FF756ABA85CB811A6EC436933BB046"
audit_dir = "/var/log/aktenlotse"
locked = ["language"]
""",
        monkeypatch,
    )
    config = load_config()
    assert config.policy_error is None
    assert config.settings.allowed_roots == [Path("/srv/akten"), Path("/srv/gesetze")]
    assert config.settings.audit_dir == Path("/var/log/aktenlotse")  # policy beats the user's value
    assert config.settings.n_threads == 3  # the user's value stays where policy is silent
    assert config.settings.model_sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert config.locked == {"allowed_roots", "model_path", "model_sha256", "audit_dir", "language"}
    assert config.is_locked("language") and not config.is_locked("n_threads")
    assert len(config.policy.sha256) == 64


def test_user_cannot_change_a_locked_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_policy(tmp_path, 'audit_dir = "/var/log/aktenlotse"\n', monkeypatch)
    config = load_config()
    with pytest.raises(PolicyViolation) as err:
        save_user_settings(config, {"audit_dir": "/tmp/elsewhere"})
    assert "audit_dir" in err.value.user_message
    new = save_user_settings(config, {"n_threads": 2})
    assert new.settings.n_threads == 2
    assert new.settings.audit_dir == Path("/var/log/aktenlotse")


def test_saved_settings_round_trip_and_are_versioned(aktenlotse_home: Path) -> None:
    config = save_user_settings(load_config(), {"language": "en", "allowed_roots": ["/data/a"]})
    assert config.settings.language == "en"
    assert config.settings.allowed_roots == [Path("/data/a")]
    stored = json.loads((aktenlotse_home / "config" / "settings.json").read_text())
    assert stored["schema_version"] == 1


def test_invalid_user_value_is_refused(aktenlotse_home: Path) -> None:
    with pytest.raises(ConfigError):
        save_user_settings(load_config(), {"n_threads": 0})
    assert not (aktenlotse_home / "config" / "settings.json").exists()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("allowed_roots = [", "keine gültige TOML-Datei"),
        ("modell_pfad = 'x'\n", "unbekannte Schlüssel: modell_pfad"),
        ("model_sha256 = 'abc'\n", "ungültige Werte"),
        ("n_threads = 'viele'\n", "ungültige Werte"),
        ("locked = 'model_path'\n", "'locked' muss eine Liste"),
        ("locked = ['gibtsnicht']\n", "sperrt unbekannte Schlüssel"),
    ],
)
def test_invalid_policy_fails_closed_with_german_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, needle: str
) -> None:
    write_policy(tmp_path, text, monkeypatch)
    config = load_config()
    assert config.policy_error is not None
    assert needle in config.policy_error.user_message
    assert not config.usable


def test_unreadable_policy_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AKTENLOTSE_POLICY", str(tmp_path / "fehlt.toml"))
    config = load_config()
    assert config.policy_error is not None
    assert "kann nicht gelesen werden" in config.policy_error.user_message


def test_policy_not_utf8_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "policy.toml"
    file.write_bytes(b"audit_dir = '\xff\xfe'\n")
    monkeypatch.setenv("AKTENLOTSE_POLICY", str(file))
    assert "keine gültige TOML-Datei" in load_config().policy_error.user_message


def test_broken_user_settings_fall_back_to_defaults(aktenlotse_home: Path) -> None:
    file = aktenlotse_home / "config" / "settings.json"
    file.parent.mkdir(parents=True)
    file.write_text("{nicht json")
    config = load_config()
    assert config.user_settings_error is not None
    assert config.settings == Settings()
    assert config.usable  # a broken personal file does not lock the app


def test_system_policy_file_is_read_without_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = tmp_path / "etc" / "policy.toml"
    system.parent.mkdir()
    system.write_text('data_dir = "/srv/daten"\n')
    monkeypatch.delenv("AKTENLOTSE_POLICY")
    monkeypatch.setattr(paths, "LINUX_POLICY_FILE", system)
    config = load_config(platform="linux")
    assert config.settings.data_dir == Path("/srv/daten")
    assert config.policy.description == str(system)
    assert config.is_locked("data_dir")


def test_policy_keys_cover_the_documented_minimum() -> None:
    for key in ("allowed_roots", "model_path", "model_sha256", "data_dir", "audit_dir", "locked"):
        assert key in POLICY_KEYS


def test_every_settings_field_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name


def test_home_env_moves_all_user_dirs(tmp_path: Path) -> None:
    dirs = paths.user_dirs({"AKTENLOTSE_HOME": str(tmp_path / "portable")})
    for folder in (dirs.config_dir, dirs.data_dir, dirs.log_dir, dirs.cache_dir):
        assert folder.is_relative_to(tmp_path / "portable")


class FakeWinreg:
    """Stands in for `winreg` so the registry path of the loader runs on Linux too."""

    HKEY_LOCAL_MACHINE = object()

    def __init__(self, values: dict[str, object] | None) -> None:
        self._values = values
        self.opened: list[str] = []

    def OpenKey(self, root: object, path: str):  # noqa: N802 - winreg's name
        assert root is self.HKEY_LOCAL_MACHINE
        self.opened.append(path)
        if self._values is None:
            raise FileNotFoundError(path)
        values = list(self._values.items())

        class Key:
            def __enter__(self):
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            items = values

        return Key()

    def EnumValue(self, key, index: int):  # noqa: N802, ANN001
        if index >= len(key.items):
            raise OSError("no more values")
        name, value = key.items[index]
        return name, value, 1


def test_windows_policy_comes_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWinreg({
        "allowed_roots": ["D:\\Akten", "E:\\Vorschriften"],  # REG_MULTI_SZ
        "audit_dir": "D:\\Audit",
        "locked": "language;n_threads",  # REG_SZ with ; also accepted
        "model_sha256": "",  # an MSI property left empty writes an empty value: ignored
    })
    monkeypatch.setitem(__import__("sys").modules, "winreg", fake)
    monkeypatch.delenv("AKTENLOTSE_POLICY")
    config = load_config(platform="win32")
    assert fake.opened == ["Software\\Policies\\Aktenlotse"]
    assert config.policy_error is None
    assert config.policy.description == "HKLM\\Software\\Policies\\Aktenlotse"
    assert config.settings.allowed_roots == [Path("D:\\Akten"), Path("E:\\Vorschriften")]
    assert config.locked == {"allowed_roots", "audit_dir", "language", "n_threads"}
    assert config.settings.model_sha256 is None


def test_windows_without_policy_key_has_no_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "winreg", FakeWinreg(None))
    monkeypatch.delenv("AKTENLOTSE_POLICY")
    config = load_config(platform="win32")
    assert config.policy.description == "keine Richtlinie"
    assert config.locked == frozenset()


def test_remote_endpoints_come_from_policy_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aktenlotse_home: Path
) -> None:
    """Where data may leave the PC is the admin's decision: a user's settings file cannot name an endpoint or
    switch pseudonymisation off, and the settings dialog shows those keys as locked."""
    user_file = aktenlotse_home / "config" / "settings.json"
    user_file.parent.mkdir(parents=True)
    user_file.write_text(json.dumps({"schema_version": 1, "remote_model_url": "https://evil.example/v1",
                                     "remote_pseudonymise": False, "shared_collections": ["x"], "n_threads": 2}))
    config = load_config()
    assert config.settings.remote_model_url is None
    assert config.settings.remote_pseudonymise is True
    assert config.settings.shared_collections == []
    assert config.settings.n_threads == 2  # ordinary keys still come from the user
    assert config.is_locked("remote_model_url") and config.is_locked("shared_knowledge_url")
    with pytest.raises(PolicyViolation):
        save_user_settings(config, {"remote_model_url": "https://llm.example/v1"})

    write_policy(tmp_path, 'remote_model_url = "https://llm.rz.example.de/v1"\nremote_model_name = "qwen"\n'
                 'remote_pseudonymise = false\nshared_collections = ["Gewerberecht"]\n', monkeypatch)
    config = load_config()
    assert config.policy_error is None
    assert config.settings.remote_model_url == "https://llm.rz.example.de/v1"
    assert config.settings.remote_pseudonymise is False
    assert config.settings.shared_collections == ["Gewerberecht"]
