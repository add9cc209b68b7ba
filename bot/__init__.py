"""Everything around the rule: settings, broker adapter, run loop, ledger, logs, CLI."""
