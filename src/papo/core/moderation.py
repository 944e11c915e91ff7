"""What OpenAI's moderation checks, when the operator turns it on
(`PAPO_BOT_MODERATION`): questions to the bot and its answers as they
stream (`questions`), and every public message too (`messages`).

A question the check flags, or cannot check (the AI service failing: the bot
could not answer either), is refused to its asker; a plain public message
the service cannot check goes through, so that the chat does not depend on
the AI service, and the failure is logged by the bot's adapter.
"""

from __future__ import annotations

from papo.core.ports import Bot, BotError, BotFailure
from papo.core.refusals import ErrorCode, Refusal
from papo.core.rules import BotRules


def checks_questions(rules: BotRules) -> bool:
    return rules.moderation in ("questions", "messages")


def check_question(bot: Bot | None, rules: BotRules, text: str) -> None:
    """Refuses a question the moderation check flags."""
    if bot is None or not checks_questions(rules):
        return
    try:
        flagged = bot.flagged(text)
    except BotError as error:
        if error.failure is BotFailure.NOT_CONFIGURED:
            raise Refusal(ErrorCode.BOT_NOT_CONFIGURED) from None
        raise Refusal(ErrorCode.BOT_UPSTREAM_FAILED) from None
    if flagged:
        raise Refusal(ErrorCode.QUESTION_FLAGGED)


def check_message(bot: Bot | None, rules: BotRules, text: str) -> None:
    """Refuses a public message the moderation check flags, when it checks them."""
    if bot is None or rules.moderation != "messages":
        return
    try:
        flagged = bot.flagged(text)
    except BotError:
        return
    if flagged:
        raise Refusal(ErrorCode.MESSAGE_FLAGGED)
