"""Structured logging: configured once, here, for every command.

Events are identifiers with fields (``log.info("fill", qty=..., price=...)``). Each line carries an
ISO-8601 UTC timestamp, the level and the run id. Configured secret values are scrubbed from every
field as a last line of defence; the code never logs them in the first place.

The events are also the bot's event stream: listeners added with ``listen`` (notifications, metrics) see
every event, whatever ``LOG_LEVEL`` hides from the output.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any, Protocol, TextIO, cast

import structlog

from bot.config import LogFormat, Settings

REDACTED = "[redacted]"
# Shorter "secrets" (test placeholders like "S") would scrub ordinary words; real keys are far longer.
MIN_SCRUBBED_LENGTH = 6


class SecretScrubber:
    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = [s for s in secrets if len(s) >= MIN_SCRUBBED_LENGTH]

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(v) for v in value]
        return value

    def __call__(self, _: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if not self._secrets:
            return event
        return {key: self._scrub(value) for key, value in event.items()}


Listener = Callable[[str, Mapping[str, Any]], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> Callable[[], None]:
    """Call ``listener(event, fields)`` for every event from now on; returns the call that stops it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def _tap(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    name = str(event.get("event", ""))
    for listener in tuple(_listeners):
        try:
            listener(name, event)
        except Exception as exc:  # a listener's fault must never stop the loop or lose the log line
            print(f"event listener failed on {name}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
    return event


def _at_least(level: int) -> Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]:
    def drop_below(_: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if logging.getLevelNamesMapping().get(method.upper(), logging.CRITICAL) < level:
            raise structlog.DropEvent
        return event

    return drop_below


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


class LogStream(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...

    def isatty(self) -> bool: ...


def configure_logging(
    *,
    log_format: LogFormat = LogFormat.AUTO,
    level: str = "INFO",
    secrets: Iterable[str] = (),
    run_id: str | None = None,
    stream: LogStream | None = None,
) -> str:
    """Set up structlog for this process and return the run id bound to every event."""
    out = stream or sys.stdout
    use_json = log_format is LogFormat.JSON or (log_format is LogFormat.AUTO and not out.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    run_id = run_id or new_run_id()
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(run_id=run_id)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            SecretScrubber(secrets),
            _tap,  # after the scrubber: listeners (notifications) never see a configured secret
            _at_least(logging.getLevelNamesMapping()[level]),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),  # the level is applied after the tap
        logger_factory=structlog.PrintLoggerFactory(cast(TextIO, out)),
        cache_logger_on_first_use=False,
    )
    return run_id


class StandardStream:
    """``sys.stdout`` or ``sys.stderr`` as it is when a line is written, not when logging was set up (a caller
    that swaps them, as pytest's capture does, never leaves the log writing to a closed file)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _stream(self) -> TextIO:
        stream: TextIO = getattr(sys, self._name)
        return stream

    def write(self, text: str) -> int:
        return self._stream().write(text)

    def flush(self) -> None:
        self._stream().flush()

    def isatty(self) -> bool:
        return self._stream().isatty()


def configure_for(settings: Settings, *, to_stderr: bool = False) -> str:
    """The one set-up of a command's logging: its format, level and the secrets to scrub, from the settings."""
    return configure_logging(
        log_format=settings.runtime.log_format,
        level=settings.runtime.log_level.value,
        secrets=(
            settings.alpaca.key_id.get_secret_value(),
            settings.alpaca.secret_key.get_secret_value(),
            *settings.runtime.notification_urls(),
            settings.runtime.ping_url.get_secret_value(),
        ),
        stream=StandardStream("stderr" if to_stderr else "stdout"),
    )


def get_logger(**context: Any) -> Any:
    return structlog.get_logger(**context)
