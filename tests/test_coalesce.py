"""Batching a streamed answer, and choosing what the bot remembers: pure parts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from papo.core.coalesce import coalesce
from papo.core.memory import conversation
from papo.core.ports import LoggedMessage, Turn


def paced(*steps: str | float) -> Iterator[str]:
    """Yields the strings, sleeping for the numbers in between."""
    for step in steps:
        if isinstance(step, str):
            yield step
        else:
            time.sleep(step)


def test_the_first_piece_goes_at_once_then_pieces_are_gathered_by_size() -> None:
    pieces = ["aaaa", "bbbb", "cccc", "dddd", "eeee"]
    batches = list(coalesce(iter(pieces), interval_s=60, min_chars=1, max_wait_s=60, max_chars=10))
    assert batches == ["aaaa", "bbbbccccdddd", "eeee"]


def test_a_pause_upstream_does_not_hold_back_what_was_read() -> None:
    batches = list(
        coalesce(
            paced("a", 0.01, "b", 3.0, "c"),
            interval_s=0.1,
            min_chars=1,
            max_wait_s=1,
            max_chars=1000,
        )
    )
    assert batches == ["a", "b", "c"]


def test_a_failure_comes_after_the_text_read_before_it() -> None:
    def broken() -> Iterator[str]:
        yield "one "
        yield "two"
        raise ConnectionError("dropped")

    batches = coalesce(broken(), interval_s=60, min_chars=1, max_wait_s=60, max_chars=1000)
    assert next(batches) == "one "
    assert next(batches) == "two"
    with pytest.raises(ConnectionError):
        next(batches)


def test_small_pieces_wait_for_enough_text_but_not_too_long() -> None:
    """A slow model's words go out together once 10 characters gathered, and
    a lone word after at most the longest wait."""
    stream = paced("first", 0.01, "ab", 0.01, "cd", 0.01, "ef", 0.01, "ghij", 0.01, "k", 4.0, "l")
    batches = list(coalesce(stream, interval_s=0.01, min_chars=10, max_wait_s=2, max_chars=100))
    assert batches == ["first", "abcdefghij", "k", "l"]


def said(number: int, text: str, *, by_bot: bool = False) -> LoggedMessage:
    return LoggedMessage(f"m{number}", number, "Bot" if by_bot else "Ana", text, by_bot)


def test_memory_keeps_the_newest_messages_that_fit() -> None:
    messages = [said(1, "x" * 400), said(2, "fine", by_bot=True)]
    assert conversation("Be brief.", messages, said(3, "and?"), budget_tokens=30) == [
        Turn("system", "Be brief."),
        Turn("assistant", "fine"),
        Turn("user", "Ana: and?"),
    ]


def test_memory_always_keeps_the_question() -> None:
    question = said(1, "y" * 4000)
    assert conversation("Be brief.", [], question, budget_tokens=10)[-1] == Turn(
        "user", "Ana: " + "y" * 4000
    )
