"""Where VoxDesk keeps its files: the platform's standard folders (platformdirs).

``VOXDESK_CONFIG_DIR``, ``VOXDESK_DATA_DIR`` and ``VOXDESK_CACHE_DIR`` override them (tests use
this to stay away from a user's real profiles and settings).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "VoxDesk"


def _dir(variable: str, default: Path) -> Path:
    path = Path(os.environ[variable]).expanduser() if os.environ.get(variable) else default
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Settings (settings.json)."""
    return _dir("VOXDESK_CONFIG_DIR", platformdirs.user_config_path(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The user's data: voice profiles."""
    return _dir("VOXDESK_DATA_DIR", platformdirs.user_data_path(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Things that can be rebuilt: encoded voice prompts."""
    return _dir("VOXDESK_CACHE_DIR", platformdirs.user_cache_path(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return _dir("VOXDESK_LOG_DIR", platformdirs.user_log_path(APP_NAME, appauthor=False))
