"""pandas on demand, for the live loop: alpaca-py's trading requests import it at module level for one validator
the bot never calls (a corporate-announcements date), and it costs about 35 MB that a daily bot would keep for
nothing. ``defer_pandas`` puts a stand-in module in its place that imports the real pandas the first time any of
its attributes is used, then holds all of them, so whoever imported the stand-in gets pandas itself.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

NAME = "pandas"


class _Deferred(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(NAME) is self:
            del sys.modules[NAME]
        real = importlib.import_module(NAME)
        self.__dict__.update(real.__dict__)
        return getattr(real, name)


def defer_pandas() -> None:
    """Before alpaca-py's trading client is imported; nothing changes where pandas is loaded already."""
    if NAME in sys.modules:
        return
    spec = importlib.util.find_spec(NAME)
    if spec is None:
        return
    stand_in = _Deferred(NAME)
    stand_in.__spec__ = spec  # the import system reads it (not a load) when a module imports pandas
    sys.modules[NAME] = stand_in


def pandas_loaded() -> bool:
    module = sys.modules.get(NAME)
    return module is not None and not (isinstance(module, _Deferred) and "DataFrame" not in module.__dict__)
