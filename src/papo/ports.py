"""The ports the chat core talks through: the store, the delivery, the bot, and
whoever produces answers.

The chat core depends only on these protocols; the adapters (SQLite, DynamoDB,
the API Gateway Management API, the OpenAI SDK, Lambda) implement them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Connection:
    """A WebSocket connection the store knows; `name` is None until `setName`."""

    connection_id: str
    connected_at: int
    name: str | None = None
    joined_at: int | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """A named connection: a person in the room."""

    connection_id: str
    name: str


class ClaimStatus(enum.Enum):
    CLAIMED = "claimed"
    TAKEN = "taken"
    NO_CONNECTION = "no_connection"


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claiming a name; `previous` is the name the connection had."""

    status: ClaimStatus
    previous: str | None = None


class ConnectionStore(Protocol):
    """Who is connected and under which name.

    Every method is atomic on its own, so that many handler invocations, in
    threads, processes or Lambda containers, may call it at once.
    """

    def add(self, connection_id: str, connected_at: int) -> None:
        """Records a new, unnamed connection (`connected_at` in epoch ms)."""

    def get(self, connection_id: str) -> Connection | None:
        """The connection, or None if it is unknown or has expired."""

    def remove(self, connection_id: str) -> Connection | None:
        """Forgets the connection and frees its name.

        Returns what was removed, or None when it was already gone: of two
        concurrent removals exactly one gets the connection back.
        """

    def claim_name(self, connection_id: str, name: str, now: int) -> Claim:
        """Gives the connection `name` unless another connection holds it (ignoring case)."""

    def members(self) -> list[Member]:
        """Every named, unexpired connection, in the order they joined."""

    def find(self, name: str) -> Member | None:
        """The member holding `name` (ignoring case), if any."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """Frames for one connection, posted in this order."""

    connection_id: str
    frames: tuple[bytes, ...]


class Delivery(Protocol):
    """Posts frames to connections."""

    def send(self, envelopes: Sequence[Envelope]) -> set[str]:
        """Posts every envelope; returns the ids of connections that are gone (410).

        Failures other than 'gone' are the delivery's to log; they never stop
        the delivery to other connections.
        """


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    """A public message kept in the room's log: people's, and the bot's answers."""

    msg_id: str
    ts: int
    sender: str
    text: str
    by_bot: bool = False


class RoomLog(Protocol):
    """The room's recent public messages, and where the bot's memory starts."""

    def log(self, message: LoggedMessage, expires_at: int) -> None:
        """Keeps `message` until `expires_at` (epoch ms)."""

    def recent(self, limit: int, since: int = 0) -> list[LoggedMessage]:
        """The last `limit` unexpired messages with `ts >= since`, oldest first."""

    def bot_memory_start(self) -> int:
        """The time (epoch ms) before which the bot remembers nothing; 0 at first."""

    def forget_bot_memory(self, at: int) -> None:
        """Makes the bot forget every message before `at`."""


class Counters(Protocol):
    """Named counters with an expiry, for limits shared by every invocation."""

    def add_to_counter(
        self, key: str, amount: int, *, limit: int, now: int, expires_at: int
    ) -> bool:
        """Adds `amount` to counter `key` unless that takes it above `limit`.

        Atomic. A counter that does not exist or has expired counts as 0. An
        increase that is let through moves the expiry to `expires_at`
        (epoch ms); a decrease always goes through and keeps the expiry.
        Returns whether the amount was added.
        """


class Store(ConnectionStore, RoomLog, Counters, Protocol):
    """Everything the chat keeps: one adapter, one table or file."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation sent to the bot."""

    role: str
    """`system`, `user` or `assistant`."""
    content: str


class BotFailure(enum.Enum):
    NOT_CONFIGURED = "not_configured"
    UNAUTHORIZED = "unauthorized"
    RATE_LIMITED = "rate_limited"
    REFUSED = "refused"
    FAILED = "failed"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"


class BotError(Exception):
    """The bot could not answer; says why and, when known, after how long to retry."""

    def __init__(self, failure: BotFailure, retry_after_s: float | None = None) -> None:
        super().__init__(failure.value)
        self.failure = failure
        self.retry_after_s = retry_after_s


class BotReply(Protocol):
    """An answer as it streams: iterating yields pieces of text; raises BotError."""

    def __iter__(self) -> Iterator[str]: ...

    @property
    def tokens(self) -> int | None:
        """Tokens the whole exchange cost, once the server has said (else None)."""

    def close(self) -> None:
        """Stops reading the answer."""


class Bot(Protocol):
    """The AI participant's model."""

    def check(self) -> None:
        """Raises BotError(NOT_CONFIGURED) when the bot cannot be asked at all."""

    def ask(self, turns: Sequence[Turn], max_tokens: int) -> BotReply:
        """Starts an answer of at most `max_tokens`; failures before the first
        piece are retried where safe."""


@dataclass(frozen=True, slots=True)
class AnswerJob:
    """A question the bot is to answer, and what was reserved for it."""

    answer_id: str
    question_id: str
    asker_id: str
    asker: str
    reserved_tokens: int
    budget_key: str
    budget_expires_at: int


class AnswerNotStarted(Exception):
    """The answer could not be handed to whoever produces it."""


class Answers(Protocol):
    """Has answers produced: by another invocation on AWS, or at once."""

    def start(self, job: AnswerJob) -> None:
        """Hands the job over; raises AnswerNotStarted if it could not."""
