"""Every path the app uses is resolved here: source tree vs. frozen bundle vs. policy and per-user locations."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Aktenlotse"
APP_AUTHOR = "Aktenlotse"
ENV_HOME = "AKTENLOTSE_HOME"
ENV_POLICY = "AKTENLOTSE_POLICY"
LINUX_POLICY_FILE = Path("/etc/aktenlotse/policy.toml")


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundle_root() -> Path:
    """Where `app/` and `resources/` live: the PyInstaller bundle or the source checkout."""
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    return Path(__file__).resolve().parents[2]


def install_root() -> Path:
    """The folder beside which `models/` lives: next to the executable when frozen, the checkout otherwise."""
    if is_frozen():
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parents[2]


def resources_dir() -> Path:
    return bundle_root() / "resources"


def default_models_dir() -> Path:
    return install_root() / "models"


def model_manifest_path() -> Path:
    """The manifest ships with the models folder of the install (or the checkout)."""
    return default_models_dir() / "manifest.toml"


@dataclass(frozen=True, slots=True)
class UserDirs:
    """Per-user locations. With AKTENLOTSE_HOME all of them live below that one folder."""

    config_dir: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"


def user_dirs(env: dict[str, str] | os._Environ[str] | None = None) -> UserDirs:
    env = os.environ if env is None else env
    home = env.get(ENV_HOME)
    if home:
        root = Path(home).expanduser().resolve()
        return UserDirs(root / "config", root / "data", root / "logs", root / "cache")
    return UserDirs(
        Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR, roaming=True)),
        Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)),
        Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)),
        Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR)),
    )


def default_allowed_roots() -> list[Path]:
    return [Path(platformdirs.user_documents_dir())]
