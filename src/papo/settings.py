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
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from papo.rules import Limits
from papo.texts import LANGUAGES


class ConfigError(ValueError):
    """A setting has a value papo cannot use."""


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
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
        )
