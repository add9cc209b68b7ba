"""One ``bot run`` per data directory: an exclusive lock held for the process's life."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from bot.errors import ConfigError

LOCK_FILE = "bot.lock"


class InstanceLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._file: IO[str] | None = None

    def __enter__(self) -> InstanceLock:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), "r+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise ConfigError(
                f"BOT_DATA_DIR={self.path.parent} is in use by another bot (pid {holder}); "
                "stop it or give this one another BOT_DATA_DIR"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *_: object) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the lock
            self._file = None
