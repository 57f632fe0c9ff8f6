"""Where kpidesk keeps things on this machine (no Qt, no globals).

``KPIDESK_DATA_DIR`` overrides the user data directory (tests, portable use);
``KPIDESK_DB`` overrides the default database (a path or a SQLAlchemy URL).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "kpidesk"


def data_dir() -> Path:
    override = os.environ.get("KPIDESK_DATA_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    return data_dir() / "workspace.kpidesk.db"


def backups_dir() -> Path:
    return data_dir() / "backups"


def resolve_db_target(cli_value: str | None) -> str:
    """The database the user asked for: ``--db``, then ``KPIDESK_DB``, then the default file."""
    if cli_value:
        return cli_value
    env = os.environ.get("KPIDESK_DB")
    if env:
        return env
    return str(default_db_path())
