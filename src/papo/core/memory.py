"""What the bot is shown: the conversation up to a question, trimmed to a
token budget.

Two measures of a text's tokens: `estimate_tokens` (about four characters
each, plus a few per message), close enough for English and Portuguese to
choose how much memory to show; and `bound_tokens`, its UTF-8 bytes plus the
same overhead, which no byte-level BPE tokenizer (OpenAI's) can exceed, to
hold the budget's promise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from papo.core.answer_notes import question_of
from papo.core.ports import LoggedMessage, Turn

_TOKENS_PER_MESSAGE = 4
_TOKENS_PER_REQUEST = 3


def estimate_tokens(text: str) -> int:
    return len(text) // 4 + _TOKENS_PER_MESSAGE


def bound_tokens(text: str) -> int:
    return len(text.encode()) + _TOKENS_PER_MESSAGE


def prompt_bound(turns: Sequence[Turn]) -> int:
    """At most how many tokens `turns` cost as a prompt."""
    return sum(bound_tokens(t.content) for t in turns) + _TOKENS_PER_REQUEST


def turn(message: LoggedMessage) -> Turn:
    if message.by_bot:
        return Turn("assistant", message.text)
    return Turn("user", f"{message.sender}: {message.text}")


def latest_answers(messages: Sequence[LoggedMessage]) -> list[LoggedMessage]:
    """`messages` with only the latest answer of each question: an answer
    asked again replaces the one before it in the bot's memory."""
    latest: dict[str, int] = {}
    for index, message in enumerate(messages):
        question = question_of(message.msg_id) if message.by_bot else None
        if question is not None:
            latest[question] = index
    return [
        m
        for index, m in enumerate(messages)
        if not m.by_bot or latest.get(question_of(m.msg_id) or "", index) == index
    ]


def conversation(
    system_prompt: str,
    earlier: Sequence[LoggedMessage],
    question: LoggedMessage,
    budget_tokens: int,
    measure: Callable[[str], int] = estimate_tokens,
) -> list[Turn]:
    """The system prompt, the newest of `earlier` that fit in `budget_tokens`
    (by `measure`), oldest first, but the deleted ones, and the question,
    which is always kept. Edited messages come as they read now."""
    last = turn(question)
    left = budget_tokens - measure(system_prompt) - measure(last.content)
    kept: list[Turn] = []
    for message in reversed(earlier):
        if message.deleted:
            continue  # Its text is gone: the bot remembers nothing of it.
        candidate = turn(message)
        cost = measure(candidate.content)
        if cost > left:
            break
        kept.append(candidate)
        left -= cost
    return [Turn("system", system_prompt), *reversed(kept), last]


def transcript(lines: Sequence[LoggedMessage]) -> str:
    """The room's lines as one text, one `Name: text` a line."""
    return "\n".join(f"{m.sender}: {m.text}" for m in lines)


def newest_that_fit(
    lines: Sequence[LoggedMessage],
    budget_tokens: int,
    measure: Callable[[str], int] = estimate_tokens,
) -> list[LoggedMessage]:
    """The newest of `lines` whose transcript fits in `budget_tokens` (by
    `measure`), oldest first."""
    kept: list[LoggedMessage] = []
    left = budget_tokens
    for message in reversed(lines):
        cost = measure(f"{message.sender}: {message.text}\n")
        if cost > left:
            break
        kept.append(message)
        left -= cost
    return kept[::-1]


def summary(system_prompt: str, instruction: str, lines: Sequence[LoggedMessage]) -> list[Turn]:
    """What the bot is shown to summarise `lines` for someone: its system
    prompt with `instruction`, and the lines."""
    return [Turn("system", f"{system_prompt}\n\n{instruction}"), Turn("user", transcript(lines))]
