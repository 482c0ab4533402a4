"""Typed configuration: admin policy and user settings in one schema, merged and locked by one loader."""

from app.config.loader import EffectiveConfig, load_config, save_user_settings
from app.config.schema import POLICY_KEYS, Settings

__all__ = ["EffectiveConfig", "POLICY_KEYS", "Settings", "load_config", "save_user_settings"]
