"""papo's settings: read from the environment by one list, documented by the docs'
configuration page, whose table the docs' build makes from that list."""

from __future__ import annotations

import re

import pytest

from papo.core.rules import BotRules
from papo.settings import HOUR_MS, VARIABLES, ConfigError, Settings
from tests.conftest import ROOT
from tests.docs_hooks import reference


def setting(settings: Settings, path: str) -> object:
    value: object = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value


def test_nothing_set_gives_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()


def test_each_variable_fills_its_setting() -> None:
    settings = Settings.from_env(
        {
            "PAPO_STORE": "DynamoDB",
            "PAPO_HISTORY_HOURS": "2",
            "PAPO_BOT_DAILY_TOKENS": "1000",
            "PAPO_BOT_TEMPERATURE": "0.5",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "PAPO_BOT_MODEL": "   ",
        }
    )
    assert settings.store == "dynamodb"
    assert settings.rules.history.ttl_ms == 2 * HOUR_MS
    assert settings.rules.bot == BotRules(daily_tokens=1000)
    assert settings.openai.temperature == 0.5
    assert settings.openai.base_url == "http://127.0.0.1:9/v1"
    assert settings.openai.model == Settings().openai.model  # blank is unset


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("PAPO_STORE", "redis", "PAPO_STORE must be one of sqlite, dynamodb"),
        ("PAPO_BOT_MAX_TOKENS", "9000", "at most 8000"),
        ("PAPO_HISTORY_MESSAGES", "-1", "at least 0"),
        ("PAPO_FANOUT_WORKERS", "many", "whole number"),
        ("PAPO_BOT_TIMEOUT", "soon", "must be a number"),
        ("PAPO_LANGUAGE", "fr", "one of en, pt-BR"),
    ],
)
def test_a_value_papo_cannot_use_is_named(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        Settings.from_env({name: value})


def test_the_docs_document_every_variable_with_its_default() -> None:
    """The configuration page's table, as the docs' build makes it: every variable
    papo reads, with its default in the variable's own unit (hours, seconds)."""
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", reference.variables_table(), re.M))
    assert set(rows) == {variable.names[0] for variable in VARIABLES}
    defaults = Settings()
    for variable in VARIABLES:
        name = variable.names[0]
        value = setting(defaults, variable.setting)
        if isinstance(value, int):
            scale = {
                "rules.history.ttl_ms": HOUR_MS,
                "rules.resume.token_ttl_ms": HOUR_MS,
                "rules.edits.window_ms": 60_000,
            }.get(variable.setting, 1000 if variable.setting == "rules.resume.grace_ms" else 1)
            shown = value // scale
            assert rows[name].strip() == f"`{shown}`", name
    assert "<!-- papo:variables -->" in (ROOT / "docs" / "configuration.md").read_text()


def test_a_variable_the_docs_do_not_explain_fails_their_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(reference.MEANINGS, "PAPO_TABLE")
    monkeypatch.setitem(reference.MEANINGS, "PAPO_GONE", "a setting papo no longer reads")
    with pytest.raises(reference.DriftError, match=r"PAPO_TABLE.*PAPO_GONE"):
        reference.render("<!-- papo:variables -->")
