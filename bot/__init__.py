"""Everything around the rule: settings, broker adapter, run loop, ledger, logs, CLI."""

__version__ = "0.1.0"
