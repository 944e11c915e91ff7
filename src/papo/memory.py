"""What the bot is shown: the room's recent conversation, trimmed to a token budget.

Tokens are estimated (about four characters each, plus a few per message),
which is close enough for English and Portuguese and needs no tokenizer.
"""

from __future__ import annotations

from collections.abc import Sequence

from papo.ports import LoggedMessage, Turn

_TOKENS_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    return len(text) // 4 + _TOKENS_PER_MESSAGE


def turn(message: LoggedMessage) -> Turn:
    if message.by_bot:
        return Turn("assistant", message.text)
    return Turn("user", f"{message.sender}: {message.text}")


def conversation(
    system_prompt: str, messages: Sequence[LoggedMessage], budget_tokens: int
) -> list[Turn]:
    """The system prompt, then the newest messages that fit in `budget_tokens`,
    oldest first; the newest message is always kept."""
    kept: list[Turn] = []
    left = budget_tokens - estimate_tokens(system_prompt)
    for message in reversed(messages):
        candidate = turn(message)
        cost = estimate_tokens(candidate.content)
        if kept and cost > left:
            break
        kept.append(candidate)
        left -= cost
    return [Turn("system", system_prompt), *reversed(kept)]
