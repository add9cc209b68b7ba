"""Settings from the environment and ``.env``: the only module that reads them.

Every problem is reported as a ConfigError that names the variable, the value (never for secrets)
and what is allowed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config_sources import (
    DEFAULT_DATA_DIR,
    DEFAULT_HEARTBEAT_MAX_AGE_SECONDS,
    ENV_FILE,
    MAX_HEARTBEAT_MAX_AGE_SECONDS,
    SECRET_VARIABLES,
    raw_sources,
    redact,
)
from bot.errors import ConfigError
from bot.urls import check_base_url
from strategies.params import Allocation, BreakoutParams, FixedNotional, FixedQuantity, LevelMode, Sizing, Trigger

PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
LIVE_TRADING_HOST = "api.alpaca.markets"
DATA_URL = "https://data.alpaca.markets"
STRATEGY_PREFIX = "STRATEGY_"


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"
    AUTO = "auto"


class DataFeedChoice(StrEnum):
    SIP = "sip"
    IEX = "iex"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


_COMMON = SettingsConfigDict(
    env_file=ENV_FILE, env_ignore_empty=True, extra="ignore", hide_input_in_errors=True, frozen=True
)


class StrategySettings(BaseSettings):
    model_config = SettingsConfigDict(**_COMMON, env_prefix=STRATEGY_PREFIX)

    symbol: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9.]{0,9}$")] = "IWM"
    benchmark: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9.]{0,9}$")] = "SPY"
    breakout_level: Annotated[float, Field(gt=0, le=100_000)] = 200.0
    trigger: Trigger = Trigger.CLOSE
    confirm_days: Annotated[int, Field(ge=1, le=20)] = 1
    buffer_pct: Annotated[float, Field(ge=0, le=50)] = 0.0
    require_cross: bool = True
    entry_start: date | None = None
    entry_end: date | None = None
    exit_date: date | None = None
    allocation: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.95")
    notional: Annotated[Decimal | None, Field(gt=0)] = None
    quantity: Annotated[int | None, Field(gt=0)] = None
    allow_reentry: bool = False
    level_mode: LevelMode = LevelMode.ABSOLUTE
    level_lookback_sessions: Annotated[int, Field(ge=1, le=500)] = 20
    hold_sessions: Annotated[int | None, Field(ge=0, le=2_000)] = None

    @field_validator("symbol", "benchmark", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> StrategySettings:
        if self.symbol == self.benchmark:
            raise ValueError("STRATEGY_SYMBOL and STRATEGY_BENCHMARK must differ")
        if self.notional is not None and self.quantity is not None:
            raise ValueError("set at most one of STRATEGY_NOTIONAL and STRATEGY_QUANTITY")
        if self.entry_start and self.entry_end and self.entry_end < self.entry_start:
            raise ValueError("STRATEGY_ENTRY_END is before STRATEGY_ENTRY_START")
        if self.exit_date and self.entry_start and self.exit_date <= self.entry_start:
            raise ValueError("STRATEGY_EXIT_DATE must be after STRATEGY_ENTRY_START")
        return self

    def sizing(self) -> Sizing:
        if self.quantity is not None:
            return FixedQuantity(self.quantity)
        if self.notional is not None:
            return FixedNotional(self.notional)
        return Allocation(self.allocation)

    def params(self) -> BreakoutParams:
        return BreakoutParams(
            symbol=self.symbol,
            benchmark=self.benchmark,
            level=self.breakout_level,
            buffer_pct=self.buffer_pct,
            confirm_days=self.confirm_days,
            require_cross=self.require_cross,
            trigger=self.trigger,
            entry_start=self.entry_start,
            entry_end=self.entry_end,
            exit_date=self.exit_date,
            sizing=self.sizing(),
            allow_reentry=self.allow_reentry,
            level_mode=self.level_mode,
            level_lookback=self.level_lookback_sessions,
            hold_sessions=self.hold_sessions,
        )


class AlpacaSettings(BaseSettings):
    model_config = _COMMON

    key_id: SecretStr = Field(default=SecretStr(""), validation_alias=AliasChoices("APCA_API_KEY_ID"))
    secret_key: SecretStr = Field(default=SecretStr(""), validation_alias=AliasChoices("APCA_API_SECRET_KEY"))
    base_url: str = Field(default=PAPER_TRADING_URL, validation_alias=AliasChoices("APCA_API_BASE_URL"))
    data_url: str = Field(default=DATA_URL, validation_alias=AliasChoices("APCA_API_DATA_URL"))
    allow_live_trading: bool = Field(default=False, validation_alias=AliasChoices("ALLOW_LIVE_TRADING"))
    data_feed: DataFeedChoice | None = Field(default=None, validation_alias=AliasChoices("APCA_DATA_FEED"))

    @field_validator("key_id", "secret_key")
    @classmethod
    def _clean_secret(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if raw != raw.strip():
            raise ValueError("has leading or trailing whitespace")
        return value

    @field_validator("base_url", "data_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_base_url(value)

    @model_validator(mode="after")
    def _live_needs_opt_in(self) -> AlpacaSettings:
        if urlsplit(self.base_url).hostname == LIVE_TRADING_HOST and not self.allow_live_trading:
            raise ValueError(
                "APCA_API_BASE_URL points at the LIVE trading endpoint; set ALLOW_LIVE_TRADING=true to allow it"
            )
        return self

    @property
    def is_live(self) -> bool:
        return urlsplit(self.base_url).hostname == LIVE_TRADING_HOST

    def require_credentials(self) -> None:
        missing = [
            name
            for name, value in (("APCA_API_KEY_ID", self.key_id), ("APCA_API_SECRET_KEY", self.secret_key))
            if not value.get_secret_value()
        ]
        if missing:
            raise ConfigError(f"{' and '.join(missing)} must be set (your Alpaca paper keys)")


class RuntimeSettings(BaseSettings):
    model_config = _COMMON

    data_dir: Path = Field(default=DEFAULT_DATA_DIR, validation_alias=AliasChoices("BOT_DATA_DIR"))
    log_format: LogFormat = Field(default=LogFormat.AUTO, validation_alias=AliasChoices("LOG_FORMAT"))
    log_level: LogLevel = Field(default=LogLevel.INFO, validation_alias=AliasChoices("LOG_LEVEL"))
    poll_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=60.0, validation_alias=AliasChoices("BOT_POLL_SECONDS")
    )
    http_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = Field(
        default=8.0, validation_alias=AliasChoices("BOT_HTTP_TIMEOUT_SECONDS")
    )
    retry_max_seconds: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=120.0, validation_alias=AliasChoices("BOT_RETRY_MAX_SECONDS")
    )
    heartbeat_max_age_seconds: Annotated[float, Field(gt=0, le=MAX_HEARTBEAT_MAX_AGE_SECONDS)] = Field(
        default=DEFAULT_HEARTBEAT_MAX_AGE_SECONDS, validation_alias=AliasChoices("BOT_HEARTBEAT_MAX_AGE_SECONDS")
    )
    forbid_shorting: bool = Field(default=True, validation_alias=AliasChoices("BOT_FORBID_SHORTING"))
    metrics_port: Annotated[int | None, Field(ge=1, le=65_535)] = Field(
        default=None, validation_alias=AliasChoices("BOT_METRICS_PORT")
    )
    metrics_host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("BOT_METRICS_HOST"))
    notify_urls: SecretStr = Field(default=SecretStr(""), validation_alias=AliasChoices("NOTIFY_URLS"))
    ping_url: SecretStr = Field(default=SecretStr(""), validation_alias=AliasChoices("BOT_PING_URL"))

    @field_validator("ping_url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if raw and urlsplit(raw).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value

    def notification_urls(self) -> list[str]:
        return [url.strip() for url in self.notify_urls.get_secret_value().split(",") if url.strip()]

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def _variable_name(model: type[BaseSettings], field: str) -> str:
    info = model.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    prefix = model.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper()


def _describe(model: type[BaseSettings], error: Any, sources: dict[str, str]) -> str:
    location = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if not location:
        return message
    name = _variable_name(model, location[0])
    if name in SECRET_VARIABLES:
        return f"{name}: {message}"
    shown = sources.get(name, error.get("input"))
    return f"{name}={shown!r}: {message}"


def _unknown_strategy_variables(sources: dict[str, str]) -> list[str]:
    known = {f"{STRATEGY_PREFIX}{name}".upper() for name in StrategySettings.model_fields}
    return sorted(name for name in sources if name.startswith(STRATEGY_PREFIX) and name not in known)


def _build(model: type[SettingsT], sources: dict[str, str], problems: list[str]) -> SettingsT | None:
    try:
        return model()
    except ValidationError as exc:
        problems.extend(_describe(model, error, sources) for error in exc.errors(include_url=False))
        return None


class Settings:
    """All settings, validated together so that one run reports every problem."""

    def __init__(self, strategy: StrategySettings, alpaca: AlpacaSettings, runtime: RuntimeSettings) -> None:
        self.strategy = strategy
        self.alpaca = alpaca
        self.runtime = runtime

    def redacted(self) -> dict[str, Any]:
        """The effective settings for the ``startup`` log event, every variable: secrets show only whether set."""
        return {
            _variable_name(type(model), field): _shown(_variable_name(type(model), field), value)
            for model in (self.strategy, self.alpaca, self.runtime)
            for field, value in model
        }


def _shown(name: str, value: Any) -> Any:
    if name == "NOTIFY_URLS":
        return f"{len([u for u in value.get_secret_value().split(',') if u.strip()])} set"
    if isinstance(value, SecretStr):
        return "set" if value.get_secret_value() else "unset"
    if name == "APCA_DATA_FEED" and value is None:
        return "auto"
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | Path):
        return str(value)
    return value


def load_settings() -> Settings:
    """Read and validate every setting, or raise one ConfigError listing all problems."""
    sources = raw_sources()
    problems: list[str] = []
    unknown = _unknown_strategy_variables(sources)
    if unknown:
        allowed = ", ".join(sorted(f"{STRATEGY_PREFIX}{n}".upper() for n in StrategySettings.model_fields))
        problems.extend(f"{name} is not a known setting (known: {allowed})" for name in unknown)
    strategy = _build(StrategySettings, sources, problems)
    alpaca = _build(AlpacaSettings, sources, problems)
    runtime = _build(RuntimeSettings, sources, problems)
    if problems or strategy is None or alpaca is None or runtime is None:
        # A key pasted into the wrong variable must not be quoted back either.
        raise ConfigError(redact("invalid settings:\n  " + "\n  ".join(problems), sources))
    return Settings(strategy, alpaca, runtime)
