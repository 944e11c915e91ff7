"""The docs' reference tables, built from the code at each build so they cannot drift.

A page says where each goes with a marker:

- `<!-- papo:variables -->`: every environment variable `papo.settings.VARIABLES`
  reads, with its fallbacks, its default as `papo.settings.Settings` holds it,
  and what it means (`MEANINGS`, below). The build fails when a variable has
  no meaning here or a meaning names a variable papo no longer reads.
- `<!-- papo:options COMMAND -->`: the options of `papo COMMAND` (`serve`,
  `invite`, `table create`), from the command's own parser: its flags, the
  variable each reads, its default and its help.
- `<!-- papo:routes -->`: the routes an API must have for papo's handler,
  `papo.aws.handler.ROUTE_KEYS`, as a list of route keys.

MkDocs runs this file as a hook (`hooks:` in mkdocs.yml); tests import it too.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from papo.settings import VARIABLES, ConfigError, Settings, Variable

MEANINGS: dict[str, str] = {
    "PAPO_STORE": "`sqlite` or `dynamodb`",
    "PAPO_SQLITE_PATH": "the SQLite file",
    "PAPO_TABLE": "the DynamoDB table",
    "PAPO_MANAGEMENT_ENDPOINT": "where frames are posted",
    "PAPO_LANGUAGE": '`en`, or `pt-BR` ("Ana acabou de entrar."): what the server says, '
    "to whoever asked for no language",
    "PAPO_FANOUT_WORKERS": "posts in flight in one invocation's fan-out, each on its own "
    "keep-alive connection",
    "PAPO_FANOUT_SPLIT": "a fan-out to more connections is split across asynchronous "
    "invocations of the function, each posting at most this many (`0`: never split)",
    "AWS_REGION": "the region of DynamoDB and of the Management API's signatures (Lambda sets it)",
    "PAPO_OPENAI_KEY_PARAMETER": "an SSM SecureString holding the bot's key (on AWS)",
    "PAPO_OPENAI_KEY_SECRET": "a Secrets Manager secret holding the bot's key: the key itself, "
    "or key/value pairs with one named `OPENAI_API_KEY`",
    "PAPO_MAX_MESSAGE_LENGTH": "characters a message",
    "PAPO_HISTORY_MESSAGES": "recent public messages someone who joins is sent (`0`: none)",
    "PAPO_HISTORY_HOURS": "how long the room's frames are kept (history, what a client missed)",
    "PAPO_RATE_BURST": "frames one connection may send in any 10 seconds (the heartbeat aside)",
    "PAPO_RATE_PER_MINUTE": "frames one connection may send in a minute",
    "PAPO_RESUME_HOURS": "a resume token expires this long after it was last used",
    "PAPO_RESUME_GRACE_SECONDS": "a resumable person whose connection ends is away this long "
    "before the room hears they left",
    "PAPO_AUTH": "who may connect (read by the `$connect` authorizer, "
    "`papo.aws.authorizer.handler`): `off`, `invite` or `oidc`",
    "PAPO_INVITE_SECRET": "the secret invite links are signed with (locally; it wins over "
    "the parameter below, so the deploy template's authorizer runs under `papo serve`)",
    "PAPO_INVITE_SECRET_PARAMETER": "an SSM SecureString holding it (on AWS)",
    "PAPO_OIDC_ISSUER": "the OpenID Connect issuer (Cognito, Auth0, Keycloak, Google…)",
    "PAPO_OIDC_AUDIENCE": "the client id its ID tokens are for",
    "PAPO_OIDC_NAME_CLAIM": "the claim that gives a person's name in the room",
    "PAPO_OIDC_OWNER_CLAIM": "the claim listing the rooms a person owns (a list, or names "
    "separated by spaces): an owner may set the room's bot (`setRoomBot`)",
    "PAPO_BOT_SYSTEM_PROMPT": "the bot's instructions",
    "PAPO_BOT_MAX_QUESTION_LENGTH": "characters a question",
    "PAPO_BOT_QUESTIONS_PER_MINUTE": "questions to the bot, per connection",
    "PAPO_BOT_DAILY_TOKENS": "the bot's tokens per room and UTC day",
    "PAPO_BOT_MAX_TOKENS": "the longest answer (`max_completion_tokens`; the whole answer "
    "goes out in one frame, hence the maximum)",
    "PAPO_BOT_MEMORY_TOKENS": "how much recent conversation the bot sees",
    "PAPO_BOT_MEMORY_MESSAGES": "at most this many messages of it",
    "PAPO_BOT_FLUSH_MS": "a streaming answer's pieces are gathered this long into one post "
    "(once 60 characters have come; at most 1 s)",
    "PAPO_JOIN_WINDOW_MS": "in a big room told who is here less than this long ago, a join "
    "waits for the window to end, and only the latest change tells everyone: people "
    "joining together cost one members frame each a window, not one each per join "
    "(`0`: every join tells at once)",
    "PAPO_JOIN_WINDOW_FROM": "the join window applies in rooms of this many people or more; "
    "smaller rooms hear every join as it happens",
    "PAPO_TYPING_UP_TO": '"Ana is typing…" is told in rooms of at most this many people: '
    "each typist costs the room some 20 posts a person a minute (see the cost table)",
    "PAPO_BOT_BASE_URL": "any OpenAI-compatible server, e.g. `http://localhost:11434/v1`",
    "PAPO_BOT_MODEL": "the model",
    "PAPO_BOT_TEMPERATURE": "for models that take one",
    "PAPO_BOT_TIMEOUT": "seconds to wait for the AI service to answer, or to go on",
    "PAPO_BOT_RETRIES": "retries before the first piece of an answer",
    "PAPO_EDIT_WINDOW_MINUTES": "how long after sending a message its sender may edit it "
    "(`0`: never); deleting one's own message has no window",
    "PAPO_REACTIONS_PER_LINE": "different emoji reactions a line holds at most",
    "PAPO_BOT_STOP_CHECK_MS": "how often a streaming answer looks in the store for its "
    "asker's stop (one read each time)",
    "PAPO_BOT_CATCH_UP_MESSAGES": "the most lines a summary of what someone missed "
    "(`catchUp`) is made from; the newest that fit in `PAPO_BOT_MEMORY_TOKENS`",
    "PAPO_BOT_PERSON_DAILY_TOKENS": "the bot's tokens per person (their identity with "
    "`PAPO_AUTH` on, else their session) and UTC day, within the room's (`0`: no share "
    "of their own)",
    "PAPO_BOT_MODERATION": "what OpenAI's moderation endpoint (`omni-moderation-latest`) "
    "checks: `off`, `questions` (questions to the bot, and its answers as they stream) or "
    "`messages` (every public message too)",
    "PAPO_BOT_MODELS": "the models a room may have instead of `PAPO_BOT_MODEL`, separated by "
    "commas (`papo room set`, or an owner's `setRoomBot`)",
}
"""What each variable means, by its name (its first, where it has fallbacks)."""

DEFAULTS_SAID: dict[str, str] = {
    "PAPO_MANAGEMENT_ENDPOINT": "`https://{domainName}/{stage}` of the event",
    "AWS_REGION": "boto3's own (`~/.aws/config`)",
    "PAPO_BOT_SYSTEM_PROMPT": "a short one, in `papo/core/rules.py`",
    "PAPO_BOT_TEMPERATURE": "not sent",
    "PAPO_BOT_BASE_URL": "OpenAI",
}
"""Defaults a value cannot say: none, or too long for a table."""


class DriftError(Exception):
    """The docs and the code disagree on what papo reads."""


def _setting(settings: Settings, path: str) -> Any:
    value: Any = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _scale(variable: Variable) -> float:
    """What one unit of the variable is in its setting (`PAPO_HISTORY_HOURS`: an
    hour in ms), found by parsing "1"; 1 where the variable is no number."""
    try:
        parsed = variable.parse(variable.names[0], "1")
    except ConfigError:
        return 1
    return parsed if isinstance(parsed, int | float) and not isinstance(parsed, bool) else 1


def default_of(variable: Variable) -> str:
    """The default as the variable is written: `24` hours, not the setting's ms."""
    name = variable.names[0]
    value = _setting(Settings(), variable.setting)
    if name in DEFAULTS_SAID:
        shown = DEFAULTS_SAID[name]
    elif value is None:
        shown = "none"
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = value / _scale(variable)
        shown = f"`{int(number) if number == int(number) else number}`"
    else:
        shown = f"`{value}`"
    fallbacks = "".join(f"`{other}`, else " for other in variable.names[1:])
    return fallbacks + shown


def check_meanings() -> None:
    """Raises DriftError unless `MEANINGS` names exactly the variables papo reads."""
    read = {variable.names[0] for variable in VARIABLES}
    missing, stale = read - set(MEANINGS), set(MEANINGS) - read
    if missing or stale:
        raise DriftError(
            "docs/hooks/reference.py: "
            + (f"say what {', '.join(sorted(missing))} mean(s) in MEANINGS; " if missing else "")
            + (f"papo no longer reads {', '.join(sorted(stale))}" if stale else "")
        )


def variables_table() -> str:
    check_meanings()
    rows = [
        f"| `{variable.names[0]}` | {default_of(variable)} | {MEANINGS[variable.names[0]]} |"
        for variable in VARIABLES
    ]
    return "\n".join(["| variable | default | meaning |", "|---|---|---|", *rows])


_VARIABLE = re.compile(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b")
_TRAILING = re.compile(r"\s*\[([^\[\]]*)\]$")
_DEFAULT = re.compile(r"\s*\[default: ([^\[\]]*)\]")


def _command(path: str) -> argparse.ArgumentParser:
    """The parser of `papo PATH` (`serve`, `table create`), read with no
    environment, so that defaults are papo's own."""
    from papo.cli import _parser

    parser = _parser({})
    for word in path.split():
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = commands.choices[word]
    return parser


def _cell(text: str) -> str:
    return _VARIABLE.sub(r"`\1`", text).replace("|", "\\|")


def options_table(path: str) -> str:
    rows = ["| option | environment | default | what it does |", "|---|---|---|---|"]
    command = _command(path)
    formatter = command._get_formatter()
    for action in command._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        flag = max(action.option_strings, key=len)
        if action.nargs != 0:
            flag += f" {action.metavar or action.dest.upper()}"
        text = formatter._expand_help(action) if action.help else ""
        environment = ""
        trailing = _TRAILING.search(text)
        if trailing and _VARIABLE.match(trailing[1]):
            environment, text = trailing[1], text[: trailing.start()]
        said = _DEFAULT.search(text)
        if said:
            default, text = said[1], text[: said.start()] + text[said.end() :]
        elif action.default not in (None, "", False):
            default = f"`{action.default}`"
        else:
            default = ""
        rows.append(f"| `{flag}` | {_cell(environment)} | {_cell(default)} | {_cell(text)} |")
    return "\n".join(rows)


def routes_list() -> str:
    from papo.aws.handler import ROUTE_KEYS

    return ", ".join(f"`{key}`" for key in ROUTE_KEYS)


_MARKER = re.compile(r"<!-- papo:(variables|routes|options ([a-z ]+?)) -->")


def render(markdown: str) -> str:
    """The page with its markers replaced by what they stand for."""

    def table(found: re.Match[str]) -> str:
        if found[1] == "variables":
            return variables_table()
        if found[1] == "routes":
            return routes_list()
        return options_table(found[2])

    return _MARKER.sub(table, markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs' hook: every page's Markdown, before it is rendered."""
    try:
        return render(markdown)
    except DriftError as error:
        from mkdocs.exceptions import PluginError

        raise PluginError(str(error)) from None
