"""Watching the bot run: status, metrics, the status page and notifications."""
