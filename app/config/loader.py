"""Reads admin policy (file or registry) and user settings, merges them and works out which keys are locked."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.config import paths
from app.config.schema import LIST_KEYS, POLICY_KEYS, POLICY_ONLY_KEYS, SCHEMA_VERSION, Settings
from app.core.errors import ConfigError, PolicyViolation

REGISTRY_KEY = r"Software\Policies\Aktenlotse"


@dataclass(frozen=True)
class PolicySource:
    """Where policy came from, its raw values and a hash for the audit log."""

    description: str  # e.g. "/etc/aktenlotse/policy.toml", "HKLM\\Software\\Policies\\Aktenlotse", "keine Richtlinie"
    values: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""


@dataclass
class EffectiveConfig:
    """The merged settings plus everything a caller needs to explain them."""

    settings: Settings
    locked: frozenset[str]
    policy: PolicySource
    user_dirs: paths.UserDirs
    policy_error: ConfigError | None = None
    user_settings_error: ConfigError | None = None

    # -- resolved locations ---------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir or self.user_dirs.data_dir

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir or self.data_dir / "index"

    @property
    def audit_dir(self) -> Path:
        return self.settings.audit_dir or self.data_dir / "audit"

    @property
    def models_dir(self) -> Path:
        return self.settings.models_dir or paths.default_models_dir()

    @property
    def allowed_roots(self) -> list[Path]:
        return list(self.settings.allowed_roots) or paths.default_allowed_roots()

    def is_locked(self, key: str) -> bool:
        """Set or locked by policy – or one of the keys only policy may set (POLICY_ONLY_KEYS)."""
        return key in self.locked or key in POLICY_ONLY_KEYS

    @property
    def usable(self) -> bool:
        """False while the policy is broken: the app then fails closed and keeps AI features off."""
        return self.policy_error is None


# -- policy -------------------------------------------------------------------------------


def _policy_from_toml(path: Path) -> PolicySource:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"Die Richtlinie {path} kann nicht gelesen werden. Bitte wenden Sie sich an Ihre IT.", repr(exc)
        ) from exc
    try:
        values = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"Die Richtlinie {path} ist keine gültige TOML-Datei. Bitte wenden Sie sich an Ihre IT.", str(exc)
        ) from exc
    return PolicySource(str(path), values, hashlib.sha256(raw).hexdigest())


def _policy_from_registry() -> PolicySource | None:  # Windows; tests use a stand-in winreg module
    import winreg

    try:
        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, REGISTRY_KEY)
    except OSError:
        return None
    values: dict[str, Any] = {}
    with key:
        index = 0
        while True:
            try:
                name, value, _kind = winreg.EnumValue(key, index)
            except OSError:
                break
            index += 1
            if name in LIST_KEYS and isinstance(value, str):
                value = [part for part in value.split(";") if part]
            if value in ("", []):
                continue  # an MSI property left empty writes nothing meaningful
            values[name] = value
    canonical = json.dumps(values, sort_keys=True, default=str).encode()
    return PolicySource("HKLM\\" + REGISTRY_KEY, values, hashlib.sha256(canonical).hexdigest())


def read_policy(env: Mapping[str, str], platform: str = sys.platform) -> PolicySource:
    """AKTENLOTSE_POLICY wins; then the registry on Windows or /etc/aktenlotse/policy.toml elsewhere."""
    override = env.get(paths.ENV_POLICY)
    if override:
        return _policy_from_toml(Path(override))
    if platform == "win32":
        source = _policy_from_registry()
        if source is not None:
            return source
    elif paths.LINUX_POLICY_FILE.exists():
        return _policy_from_toml(paths.LINUX_POLICY_FILE)
    return PolicySource("keine Richtlinie")


def _validate_policy(values: Mapping[str, Any], where: str) -> tuple[dict[str, Any], frozenset[str]]:
    unknown = sorted(set(values) - set(POLICY_KEYS))
    if unknown:
        raise ConfigError(
            f"Die Richtlinie ({where}) enthält unbekannte Schlüssel: {', '.join(unknown)}. "
            "Bitte wenden Sie sich an Ihre IT.",
            f"bekannt sind: {', '.join(POLICY_KEYS)}",
        )
    locked_raw = values.get("locked", [])
    if not isinstance(locked_raw, list) or not all(isinstance(k, str) for k in locked_raw):
        raise ConfigError(f"Die Richtlinie ({where}): 'locked' muss eine Liste von Schlüsselnamen sein.")
    bad = sorted(set(locked_raw) - set(Settings.model_fields))
    if bad:
        raise ConfigError(f"Die Richtlinie ({where}) sperrt unbekannte Schlüssel: {', '.join(bad)}.")
    settings_values = {k: v for k, v in values.items() if k != "locked"}
    try:
        Settings.model_validate(settings_values)
    except ValidationError as exc:
        raise ConfigError(
            f"Die Richtlinie ({where}) enthält ungültige Werte. Bitte wenden Sie sich an Ihre IT.",
            _format_validation(exc),
        ) from exc
    return settings_values, frozenset(settings_values) | frozenset(locked_raw)


def _format_validation(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


# -- user settings ------------------------------------------------------------------------


def _migrate(values: dict[str, Any]) -> dict[str, Any]:
    """Bring stored user settings up to SCHEMA_VERSION. Version 1 is the first; later versions add steps here."""
    values = dict(values)
    values.pop("schema_version", None)
    return values


def read_user_settings(file: Path) -> dict[str, Any]:
    if not file.exists():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"Ihre Einstellungen ({file}) sind beschädigt; es gelten die Voreinstellungen.", str(exc)
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"Ihre Einstellungen ({file}) sind beschädigt; es gelten die Voreinstellungen.")
    return _migrate(data)


def save_user_settings(config: EffectiveConfig, changes: Mapping[str, Any]) -> EffectiveConfig:
    """Write user changes (never over a locked key) atomically and return the new effective config."""
    locked = sorted(set(changes) & (config.locked | POLICY_ONLY_KEYS))
    if locked:
        raise PolicyViolation(
            f"Diese Einstellung ist durch Ihre IT festgelegt und kann nicht geändert werden: {', '.join(locked)}."
        )
    file = config.user_dirs.settings_file
    try:
        current = read_user_settings(file)
    except ConfigError:
        current = {}
    current.update(changes)
    try:
        Settings.model_validate({k: v for k, v in current.items() if k in Settings.model_fields})
    except ValidationError as exc:
        raise ConfigError("Die Einstellung ist ungültig.", _format_validation(exc)) from exc
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".tmp")
    payload = {"schema_version": SCHEMA_VERSION, **{k: _jsonable(v) for k, v in current.items()}}
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, file)
    return load_config(os.environ)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


# -- merge --------------------------------------------------------------------------------


def load_config(env: Mapping[str, str] | None = None, platform: str = sys.platform) -> EffectiveConfig:
    """Never raises for bad input: a broken policy or settings file is reported in the result.

    A broken policy fails closed: defaults apply, and `policy_error` tells the UI to keep AI features off.
    """
    env = os.environ if env is None else env
    dirs = paths.user_dirs(env)
    policy_error: ConfigError | None = None
    user_error: ConfigError | None = None
    policy_values: dict[str, Any] = {}
    locked: frozenset[str] = frozenset()
    try:
        policy = read_policy(env, platform)
        policy_values, locked = _validate_policy(policy.values, policy.description)
    except ConfigError as exc:
        policy_error = exc
        policy = PolicySource(env.get(paths.ENV_POLICY) or "Richtlinie (fehlerhaft)")
    try:
        user_values = {k: v for k, v in read_user_settings(dirs.settings_file).items() if k in Settings.model_fields}
        Settings.model_validate(user_values)
    except ConfigError as exc:
        user_error, user_values = exc, {}
    except ValidationError as exc:
        user_error = ConfigError(
            "Einige Ihrer Einstellungen sind ungültig; es gelten die Voreinstellungen.", _format_validation(exc)
        )
        user_values = {}
    # remote endpoints and what goes to them are the admin's decision alone: a user's value is never used
    merged = {k: v for k, v in user_values.items() if k not in locked and k not in POLICY_ONLY_KEYS}
    merged.update(policy_values)
    settings = Settings.model_validate(merged)
    return EffectiveConfig(settings, locked, policy, dirs, policy_error, user_error)
