"""papo's configuration: environment variables, parsed once while they stay the same.

`VARIABLES` is the one list of them: each names the setting it fills; the
default is the setting's own (`papo.core.rules`, the adapters' settings),
never repeated here. The docs' configuration page is made from this list at
each build (docs/hooks/reference.py), and fails to build for a variable it
does not explain.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import msgspec.structs

from papo.adapters.bot.openai_bot import OpenAiSettings
from papo.core.rules import MAX_ANSWER_TOKENS, Rules
from papo.core.texts import LANGUAGES

HOUR_MS = 60 * 60 * 1000


class ConfigError(ValueError):
    """A setting has a value papo cannot use."""


class AccessSettings(msgspec.Struct, frozen=True):
    """Who may connect: the access mode (`PAPO_AUTH`) is `off` (an open room),
    `invite` (signed invite links) or `oidc` (an ID token from an OpenID Connect
    issuer); read by the authorizer."""

    mode: str = "off"
    invite_secret: str | None = None
    invite_secret_parameter: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_name_claim: str = "name"
    oidc_owner_claim: str = ""


class Settings(msgspec.Struct, frozen=True):
    store: str = "sqlite"
    sqlite_path: str = "data/papo.sqlite3"
    table: str = "papo"
    management_endpoint: str | None = None
    language: str = "en"
    fanout_workers: int = 64
    fanout_split: int = 250
    region: str | None = None
    key_parameter: str | None = None
    key_secret: str | None = None
    rules: Rules = msgspec.field(default_factory=Rules)
    """The chat core's rules, handed to it whole."""
    access: AccessSettings = msgspec.field(default_factory=AccessSettings)
    openai: OpenAiSettings = msgspec.field(default_factory=OpenAiSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings the environment gives. Cheap to call again: the last few
        are kept by the values of papo's variables, so a container parses its
        environment once while it stays the same."""
        return _parsed(_values(environ))


def _nest(values: dict[str, Any]) -> dict[str, Any]:
    """`{"a.b.c": 1}` → `{"a": {"b": {"c": 1}}}`."""
    nested: dict[str, Any] = {}
    for path, value in values.items():
        *groups, name = path.split(".")
        into = nested
        for group in groups:
            into = into.setdefault(group, {})
        into[name] = value
    return nested


def _replaced(default: Any, values: dict[str, Any]) -> Any:
    """The dataclass `default` with `values` in place of its own (a nested dict
    for a nested dataclass)."""
    changes = {
        name: _replaced(getattr(default, name), value) if isinstance(value, dict) else value
        for name, value in values.items()
    }
    return msgspec.structs.replace(default, **changes)


def _text(_: str, raw: str) -> str:
    return raw


def _whole(
    minimum: int = 1, maximum: int | None = None, scale: int = 1
) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, not {value}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{name} must be at most {maximum}, not {value}")
        return value * scale

    return parse


def _number(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def _names(_: str, raw: str) -> tuple[str, ...]:
    """A list separated by commas or spaces."""
    return tuple(name for name in raw.replace(",", " ").split() if name)


def _one_of(*choices: str, fold: bool = False) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.lower() if fold else raw
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
        return value

    return parse


class Variable(msgspec.Struct, frozen=True):
    names: tuple[str, ...]
    """The variable, then any it falls back to."""
    setting: str
    """The setting it fills: a field of Settings, or the dotted path to one
    inside its groups (`rules.limits.max_message_length`)."""
    parse: Callable[[str, str], Any] = _text


def _var(names: str, setting: str, parse: Callable[[str, str], Any] = _text) -> Variable:
    return Variable(tuple(names.split()), setting, parse)


VARIABLES = (
    _var("PAPO_STORE", "store", _one_of("sqlite", "dynamodb", fold=True)),
    _var("PAPO_SQLITE_PATH", "sqlite_path"),
    _var("PAPO_TABLE", "table"),
    _var("PAPO_MANAGEMENT_ENDPOINT", "management_endpoint"),
    _var("PAPO_LANGUAGE", "language", _one_of(*LANGUAGES)),
    _var("PAPO_FANOUT_WORKERS", "fanout_workers", _whole()),
    _var("PAPO_FANOUT_SPLIT", "fanout_split", _whole(minimum=0)),
    _var("AWS_REGION AWS_DEFAULT_REGION", "region"),
    _var("PAPO_OPENAI_KEY_PARAMETER", "key_parameter"),
    _var("PAPO_OPENAI_KEY_SECRET", "key_secret"),
    _var("PAPO_MAX_MESSAGE_LENGTH", "rules.limits.max_message_length", _whole()),
    _var("PAPO_HISTORY_MESSAGES", "rules.history.messages", _whole(minimum=0)),
    _var("PAPO_HISTORY_HOURS", "rules.history.ttl_ms", _whole(scale=HOUR_MS)),
    _var("PAPO_RATE_BURST", "rules.rate.burst", _whole()),
    _var("PAPO_RATE_PER_MINUTE", "rules.rate.per_minute", _whole()),
    _var("PAPO_RESUME_HOURS", "rules.resume.token_ttl_ms", _whole(scale=HOUR_MS)),
    _var("PAPO_RESUME_GRACE_SECONDS", "rules.resume.grace_ms", _whole(minimum=0, scale=1000)),
    _var("PAPO_AUTH", "access.mode", _one_of("off", "invite", "oidc")),
    _var("PAPO_INVITE_SECRET", "access.invite_secret"),
    _var("PAPO_INVITE_SECRET_PARAMETER", "access.invite_secret_parameter"),
    _var("PAPO_OIDC_ISSUER", "access.oidc_issuer"),
    _var("PAPO_OIDC_AUDIENCE", "access.oidc_audience"),
    _var("PAPO_OIDC_NAME_CLAIM", "access.oidc_name_claim"),
    _var("PAPO_OIDC_OWNER_CLAIM", "access.oidc_owner_claim"),
    _var("PAPO_BOT_SYSTEM_PROMPT", "rules.bot.system_prompt"),
    _var("PAPO_BOT_MAX_QUESTION_LENGTH", "rules.bot.max_question_length", _whole()),
    _var("PAPO_BOT_QUESTIONS_PER_MINUTE", "rules.bot.questions_per_minute", _whole()),
    _var("PAPO_BOT_DAILY_TOKENS", "rules.bot.daily_tokens", _whole()),
    _var("PAPO_BOT_MAX_TOKENS", "rules.bot.max_answer_tokens", _whole(maximum=MAX_ANSWER_TOKENS)),
    _var("PAPO_BOT_MEMORY_TOKENS", "rules.bot.memory_tokens", _whole()),
    _var("PAPO_BOT_MEMORY_MESSAGES", "rules.bot.memory_messages", _whole()),
    _var("PAPO_BOT_FLUSH_MS", "rules.streaming.interval_ms", _whole(minimum=0)),
    _var("PAPO_JOIN_WINDOW_MS", "rules.joins.window_ms", _whole(minimum=0)),
    _var("PAPO_JOIN_WINDOW_FROM", "rules.joins.from_members", _whole(minimum=0)),
    _var("PAPO_TYPING_UP_TO", "rules.presence.typing_up_to", _whole(minimum=0)),
    _var("PAPO_BOT_BASE_URL OPENAI_BASE_URL", "openai.base_url"),
    _var("PAPO_BOT_MODEL", "openai.model"),
    _var("PAPO_BOT_TEMPERATURE", "openai.temperature", _number),
    _var("PAPO_BOT_TIMEOUT", "openai.timeout_s", _number),
    _var("PAPO_BOT_RETRIES", "openai.max_retries", _whole(minimum=0)),
    _var("PAPO_EDIT_WINDOW_MINUTES", "rules.edits.window_ms", _whole(minimum=0, scale=60_000)),
    _var("PAPO_REACTIONS_PER_LINE", "rules.edits.reactions_per_line", _whole()),
    _var("PAPO_BOT_STOP_CHECK_MS", "rules.bot.stop_check_ms", _whole()),
    _var("PAPO_BOT_CATCH_UP_MESSAGES", "rules.bot.catch_up_messages", _whole()),
    _var("PAPO_BOT_PERSON_DAILY_TOKENS", "rules.bot.person_daily_tokens", _whole(minimum=0)),
    _var("PAPO_BOT_MODERATION", "rules.bot.moderation", _one_of("off", "questions", "messages")),
    _var("PAPO_BOT_MODELS", "rules.bot.models", _names),
)
"""Every setting papo reads from its environment (the bot's key itself,
`OPENAI_API_KEY`, is read by `papo.adapters.bot.api_key` when needed)."""


_NAMES = tuple(dict.fromkeys(name for variable in VARIABLES for name in variable.names))
_BYTE_NAMES = tuple(name.encode() for name in _NAMES)


def _values(environ: Mapping[str, str]) -> tuple[str | bytes | None, ...]:
    """The values of papo's variables. For the process's own environment they
    are read from the dict behind `os.environ` (bytes on POSIX): 2 µs, where
    `os.environ.get` for each costs 80 µs, on every invocation."""
    raw = getattr(environ, "_data", None) if environ is os.environ else None
    if isinstance(raw, dict) and os.name == "posix":
        return tuple(map(raw.get, _BYTE_NAMES))
    return tuple(environ.get(name) for name in _NAMES)


@functools.lru_cache(maxsize=8)
def _parsed(values: tuple[str | bytes | None, ...]) -> Settings:
    environ = {
        name: os.fsdecode(value) if isinstance(value, bytes) else value
        for name, value in zip(_NAMES, values, strict=True)
        if value
    }
    found: dict[str, Any] = {}
    for variable in VARIABLES:
        raw = next((environ[n] for n in variable.names if environ.get(n, "").strip()), None)
        if raw is not None:
            found[variable.setting] = variable.parse(variable.names[0], raw)
    settings: Settings = _replaced(Settings(), _nest(found))
    return settings
