"""Market data shared by the backtest, the local exchange and the live loop."""
