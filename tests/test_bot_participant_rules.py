"""The bot as a participant's rules in the chat core, without the emulator:
what the bot remembers of an answer asked again, which lines a summary is
made from, whose an answer is, each person's share of the day's tokens, on
both stores, and a sentence for every refusal in each language."""

from __future__ import annotations

import pytest

from papo.core.answer_notes import answer_id_for, person_of, question_of
from papo.core.memory import bound_tokens, latest_answers, newest_that_fit
from papo.core.ports import AnswerJob, Connection, LoggedMessage, Store
from papo.core.quota import Quota
from papo.core.refusals import ErrorCode, Refusal
from papo.core.rules import BotRules
from papo.core.texts import LANGUAGES, Texts

MIDNIGHT = 1_795_737_600_000  # 2026-11-27T00:00:00Z


def said(msg_id: str, text: str, *, by_bot: bool = False, offset: int = 0) -> LoggedMessage:
    return LoggedMessage(msg_id, 0, "Bot" if by_bot else "Ana", text, by_bot, offset)


def test_the_bot_remembers_the_latest_answer_of_each_question() -> None:
    first, again = answer_id_for("q1", lambda: "a" * 32), answer_id_for("q1", lambda: "b" * 32)
    assert question_of(first) == question_of(again) == "q1"
    assert question_of("an-older-answer-id") is None
    log = [
        said("q1", "sky?"),
        said(first, "Blue.", by_bot=True),
        said("older", "An answer of before", by_bot=True),
        said("m", "hmm"),
        said(again, "Azure.", by_bot=True),
    ]
    assert [m.text for m in latest_answers(log)] == [
        "sky?",
        "An answer of before",
        "hmm",
        "Azure.",
    ]


def test_a_summary_takes_the_newest_lines_that_fit() -> None:
    lines = [said(f"m{n}", "x" * 40, offset=n) for n in range(1, 11)]
    # "Ana: " + 40 characters + a line break: 46 characters, 11 + 4 tokens estimated.
    assert [m.offset for m in newest_that_fit(lines, 45)] == [8, 9, 10]
    assert [m.offset for m in newest_that_fit(lines, 99, bound_tokens)] == [10]  # 50 each
    assert newest_that_fit(lines, 10) == []


def test_an_answer_is_its_persons_identity_else_session_else_connection() -> None:
    assert person_of(Connection("c1", 0, principal="invite:name:ana", session="s")) == (
        "principal:invite:name:ana"
    )
    assert person_of(Connection("c1", 0, session="s1")) == "session:s1"
    assert person_of(Connection("c1", 0)) == "connection:c1"


def job_of(reservation_key: str, person: str, tokens: int) -> AnswerJob:
    return AnswerJob(
        "a",
        "q",
        "c1",
        "Ana",
        "?",
        MIDNIGHT,
        tokens,
        reservation_key,
        MIDNIGHT + 86_400_000,
        person=person,
    )


def test_each_person_has_a_share_of_the_days_tokens(store: Store) -> None:
    """1,800 set aside an answer; 4,000 a person: Ana's third answer in flight is
    refused until the day ends, Bruno's is not; what an answer did not use comes back."""
    rules = BotRules(memory_tokens=1000, max_answer_tokens=800, person_daily_tokens=4000)
    quota = Quota(store.in_room("budget"), rules)
    now = MIDNIGHT + 60_000
    first = quota.reserve("c1", now, "session:ana")
    quota.release("c1", now)
    quota.reserve("c2", now, "session:ana")
    quota.release("c2", now)
    with pytest.raises(Refusal) as refused:
        quota.reserve("c3", now, "session:ana")
    assert refused.value.code is ErrorCode.BOT_PERSON_BUDGET_EXHAUSTED
    assert refused.value.retry_after_s == 86_400 - 60
    quota.reserve("c4", now, "session:bruno")
    quota.release("c4", now)
    quota.settle(job_of(first.budget_key, "session:ana", first.tokens), first.tokens, 100, now)
    quota.reserve("c3", now, "session:ana")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_refusal_has_its_sentence_in_each_language(language: str) -> None:
    details: dict[str, str | int] = {"model": "m", "models": "a, b", "limit": 5, "name": "Ana"}
    texts = Texts(language)
    unsaid: list[ErrorCode] = []
    for code in ErrorCode:
        try:
            assert texts.refusal(Refusal(code, retry_after_s=5, **details)).strip(), code
        except KeyError as missing:  # a detail its sentence needs (a field…), or no sentence
            if isinstance(missing.args[0], ErrorCode):
                unsaid.append(code)
    assert unsaid == []
