"""papo's configuration, from environment variables (read on each invocation: cheap).

| variable | default | meaning |
|---|---|---|
| `PAPO_STORE` | `sqlite` | `sqlite` (embedded) or `dynamodb` |
| `PAPO_SQLITE_PATH` | `data/papo.sqlite3` | the SQLite file |
| `PAPO_TABLE` | `papo` | the DynamoDB table |
| `PAPO_MANAGEMENT_ENDPOINT` | from the event | the Management API's URL |
| `PAPO_LANGUAGE` | `en` | system messages and errors: `en` or `pt-BR` |
| `PAPO_MAX_MESSAGE_LENGTH` | `4000` | characters in one message |
| `PAPO_FANOUT_WORKERS` | `16` | concurrent posts of one fan-out |
| `PAPO_HISTORY_MESSAGES` | `50` | recent public messages a newcomer is sent |
| `PAPO_HISTORY_HOURS` | `24` | how long public messages are kept |
| `OPENAI_API_KEY` | none | the bot's key (locally; also read from `.env`) |
| `PAPO_OPENAI_KEY_PARAMETER` | none | SSM parameter (SecureString) holding the key |
| `PAPO_OPENAI_KEY_SECRET` | none | Secrets Manager secret holding the key |
| `PAPO_BOT_BASE_URL` | `OPENAI_BASE_URL`, else OpenAI | any OpenAI-compatible server |
| `PAPO_BOT_MODEL` | `gpt-5.4-mini` | the model |
| `PAPO_BOT_SYSTEM_PROMPT` | see `papo.rules` | the bot's instructions |
| `PAPO_BOT_TEMPERATURE` | not sent | sampling temperature, for models that take one |
| `PAPO_BOT_MAX_TOKENS` | `800` | the longest answer, in tokens (at most 8000) |
| `PAPO_BOT_TIMEOUT` | `30` | seconds to wait for the server, per read |
| `PAPO_BOT_RETRIES` | `2` | retries before the first piece of an answer |
| `PAPO_BOT_MAX_QUESTION_LENGTH` | `1000` | characters in one question |
| `PAPO_BOT_QUESTIONS_PER_MINUTE` | `5` | per connection |
| `PAPO_BOT_DAILY_TOKENS` | `200000` | per room and UTC day |
| `PAPO_BOT_MEMORY_TOKENS` | `3000` | recent conversation the bot is shown |
| `PAPO_BOT_MEMORY_MESSAGES` | `40` | at most this many messages of it |
| `PAPO_BOT_FLUSH_MS` | `250` | pieces gathered per post (once 60 characters came; 1 s at most) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from papo.bot.openai_bot import OpenAiSettings
from papo.rules import BotRules, Limits
from papo.texts import LANGUAGES

MAX_ANSWER_TOKENS = 8000
"""A whole answer goes out in one frame, and a frame has at most 128 KB."""


class ConfigError(ValueError):
    """A setting has a value papo cannot use."""


def _int(
    environ: Mapping[str, str],
    name: str,
    default: int,
    minimum: int = 1,
    maximum: int | None = None,
) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    store: str = "sqlite"
    sqlite_path: str = "data/papo.sqlite3"
    table: str = "papo"
    management_endpoint: str | None = None
    language: str = "en"
    limits: Limits = field(default_factory=Limits)
    fanout_workers: int = 16
    region: str | None = None
    bot_rules: BotRules = field(default_factory=BotRules)
    openai: OpenAiSettings = field(default_factory=OpenAiSettings)
    key_parameter: str | None = None
    key_secret: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        store = environ.get("PAPO_STORE", "sqlite").lower()
        if store not in ("sqlite", "dynamodb"):
            raise ConfigError(f"PAPO_STORE must be sqlite or dynamodb, not {store!r}")
        language = environ.get("PAPO_LANGUAGE", "en")
        if language not in LANGUAGES:
            raise ConfigError(f"PAPO_LANGUAGE must be one of {', '.join(LANGUAGES)}")
        return cls(
            store=store,
            sqlite_path=environ.get("PAPO_SQLITE_PATH", cls.sqlite_path),
            table=environ.get("PAPO_TABLE", cls.table),
            management_endpoint=environ.get("PAPO_MANAGEMENT_ENDPOINT") or None,
            language=language,
            limits=Limits(
                max_message_length=_int(environ, "PAPO_MAX_MESSAGE_LENGTH", 4000),
            ),
            fanout_workers=_int(environ, "PAPO_FANOUT_WORKERS", 16),
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
            bot_rules=_bot_rules(environ),
            openai=_openai(environ),
            key_parameter=environ.get("PAPO_OPENAI_KEY_PARAMETER") or None,
            key_secret=environ.get("PAPO_OPENAI_KEY_SECRET") or None,
        )


def _bot_rules(environ: Mapping[str, str]) -> BotRules:
    d = BotRules()
    return BotRules(
        system_prompt=environ.get("PAPO_BOT_SYSTEM_PROMPT") or d.system_prompt,
        max_question_length=_int(environ, "PAPO_BOT_MAX_QUESTION_LENGTH", d.max_question_length),
        questions_per_minute=_int(environ, "PAPO_BOT_QUESTIONS_PER_MINUTE", d.questions_per_minute),
        daily_tokens=_int(environ, "PAPO_BOT_DAILY_TOKENS", d.daily_tokens),
        max_answer_tokens=_int(
            environ, "PAPO_BOT_MAX_TOKENS", d.max_answer_tokens, maximum=MAX_ANSWER_TOKENS
        ),
        memory_tokens=_int(environ, "PAPO_BOT_MEMORY_TOKENS", d.memory_tokens),
        memory_messages=_int(environ, "PAPO_BOT_MEMORY_MESSAGES", d.memory_messages),
        history_messages=_int(environ, "PAPO_HISTORY_MESSAGES", d.history_messages, minimum=0),
        history_ttl_ms=_int(environ, "PAPO_HISTORY_HOURS", 24) * 60 * 60 * 1000,
        flush_interval_ms=_int(environ, "PAPO_BOT_FLUSH_MS", d.flush_interval_ms, minimum=0),
    )


def _openai(environ: Mapping[str, str]) -> OpenAiSettings:
    d = OpenAiSettings()
    raw_temperature = environ.get("PAPO_BOT_TEMPERATURE", "")
    try:
        temperature = float(raw_temperature) if raw_temperature.strip() else None
        timeout = float(environ.get("PAPO_BOT_TIMEOUT") or d.timeout_s)
    except ValueError:
        raise ConfigError("PAPO_BOT_TEMPERATURE and PAPO_BOT_TIMEOUT must be numbers") from None
    return OpenAiSettings(
        base_url=environ.get("PAPO_BOT_BASE_URL") or environ.get("OPENAI_BASE_URL") or None,
        model=environ.get("PAPO_BOT_MODEL") or d.model,
        temperature=temperature,
        timeout_s=timeout,
        max_retries=_int(environ, "PAPO_BOT_RETRIES", d.max_retries, minimum=0),
    )
