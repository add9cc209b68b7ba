"""Event-driven backtest of the rule with the live path's fill conventions."""
