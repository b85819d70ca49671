"""The API's one settings object: every tunable is a ``LEAKLAB_*`` environment variable."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, RedisDsn, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LEAKLAB_"
ECHO_MAX_CHARS = 60  # a hostile value is quoted this far in an error, so the error stays one readable line
HIDDEN = "hidden"  # what a drill shows instead of the scenario's name and the cache mode


class CacheMode(StrEnum):
    """Which cache sits in front of the simulated database."""

    LEAKY = "leaky"
    LRU = "lru"
    REDIS = "redis"


class ScenarioName(StrEnum):
    """Which leak the API runs: the story's cache, or one pattern of the catalogue (docs/leaks.md)."""

    CACHE = "cache"
    MEMOIZE = "memoize"
    LISTENERS = "listeners"
    REQUEST_LOG = "request-log"
    TASKS = "tasks"
    EXCEPTIONS = "exceptions"
    NATIVE = "native"
    METRIC_LABELS = "metric-labels"


class Settings(BaseSettings):
    """Settings of the API service, read from ``LEAKLAB_*`` variables (flags override them)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    cache_mode: CacheMode = Field(CacheMode.LEAKY, description="leaky, lru or redis (lru for catalogue scenarios)")
    scenario: ScenarioName = Field(ScenarioName.CACHE, description="cache (the story) or a catalogue scenario")
    scenario_fixed: bool = Field(False, description="run the catalogue scenario with its fix applied")
    hide_scenario: bool = Field(
        False, description="drill mode: metrics, /healthz and log lines say 'hidden' for the scenario and cache mode"
    )
    lru_max_entries: int = Field(50, ge=1, le=10_000_000, description="bound of the in-process LRU")
    payload_items: int = Field(10_000, ge=1, le=1_000_000, description='"xxxx" items per payload')
    origin_latency_ms: float = Field(2.0, ge=0, le=10_000, description="simulated database read time on a cache miss")
    redis_url: RedisDsn = Field(RedisDsn("redis://localhost:6379/0"), description="redis mode only")
    redis_timeout_ms: float = Field(250.0, gt=0, le=60_000, description="connect and read timeout of each Redis call")
    redis_retry_interval_s: float = Field(
        1.0, gt=0, le=3600, description="how long requests bypass Redis after a failure"
    )
    tracemalloc: bool = Field(False, description="start tracemalloc at start-up (implies debug)")
    tracemalloc_frames: int = Field(5, ge=1, le=100, description="frames kept per traced allocation")
    debug: bool = Field(False, description="enable the /debug/* endpoints; never expose publicly")
    host: str = Field("127.0.0.1", min_length=1, max_length=253, description="address uvicorn binds")
    port: int = Field(8000, ge=0, le=65535, description="port uvicorn binds")
    access_log: bool = Field(False, description="log every request (slows the API down)")

    @field_validator("redis_url")
    @classmethod
    def _database_is_a_number(cls, url: RedisDsn) -> RedisDsn:
        # redis-py ignores a database it cannot parse and silently uses db 0
        path = (url.path or "/").strip("/")
        if path and not (path.isascii() and path.isdigit()):
            raise ValueError("the database must be a number, like /0")
        return url

    @model_validator(mode="after")
    def _tracemalloc_implies_debug(self) -> Settings:
        if self.tracemalloc and not self.debug:
            object.__setattr__(self, "debug", True)
        return self

    @model_validator(mode="after")
    def _scenarios_run_beside_a_bounded_cache(self) -> Settings:
        # a catalogue scenario must be the only leak: unless a cache mode was chosen, use the LRU
        if self.scenario is not ScenarioName.CACHE and "cache_mode" not in self.model_fields_set:
            object.__setattr__(self, "cache_mode", CacheMode.LRU)
        return self

    @property
    def public_mode(self) -> str:
        """The cache mode as metrics, /healthz and logs show it ("hidden" in a drill: it tells the story's leak)."""
        return HIDDEN if self.hide_scenario else self.cache_mode.value

    @property
    def debug_enabled(self) -> bool:
        return self.debug or self.tracemalloc


class SettingsError(Exception):
    """A setting has a value the API cannot start with; the message is one line per problem."""


def load_settings(**overrides: Any) -> Settings:
    """Build ``Settings`` from the environment plus explicit overrides, or raise ``SettingsError``."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None


def describe_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        variable = ENV_PREFIX + field.upper() if field else "settings"
        got = repr(error.get("input"))
        if len(got) > ECHO_MAX_CHARS:
            got = f"{got[:ECHO_MAX_CHARS]}... ({len(got)} characters)"
        rule = _rule(field, error["msg"])
        lines.append(f"{variable}: {rule} (got {got})")
    return "\n".join(lines)


def _rule(field: str, message: str) -> str:
    if field == "cache_mode":
        return "must be one of " + ", ".join(m.value for m in CacheMode)
    if field == "scenario":
        return "must be one of " + ", ".join(m.value for m in ScenarioName)
    if field == "redis_url":
        return "must be a Redis URL like redis://host:6379/0 (" + message.lower() + ")"
    info = Settings.model_fields.get(field)
    bounds = []
    for meta in info.metadata if info else []:
        for attr, word in (("ge", ">="), ("gt", ">"), ("le", "<=")):
            if (value := getattr(meta, attr, None)) is not None:
                bounds.append(f"{word} {value}")
    if bounds:
        return f"must be a number {' and '.join(bounds)}"
    return message[:1].lower() + message[1:]
