from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import ISOLATED_PREFIXES

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Each test starts with no bot settings in the environment and an empty working directory (no .env)."""
    for name in list(os.environ):
        if name.startswith(ISOLATED_PREFIXES):
            monkeypatch.delenv(name)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path / "data"))
    yield workdir


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "IWM.csv").is_file():
        pytest.skip("../shared/data is not present on this machine")
    return SHARED_DATA
