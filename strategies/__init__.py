"""The trading rule as pure code: no I/O, no clock reads."""
