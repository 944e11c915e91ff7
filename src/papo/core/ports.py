"""The ports the chat core talks through: the store, the delivery, the bot, and
whoever produces answers.

The chat core depends only on these protocols; the adapters (SQLite, DynamoDB,
the API Gateway Management API, the OpenAI SDK, Lambda) implement them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple, Protocol

import msgspec


class Connection(msgspec.Struct, frozen=True):
    """A WebSocket connection the store knows; `name` is None until `setName`."""

    connection_id: str
    connected_at: int
    name: str | None = None
    joined_at: int | None = None
    session: str | None = None
    """The resumable session it belongs to, if its client asked for one."""
    away_since: int | None = None
    """When it was found gone, while its person may still come back (epoch ms)."""
    language: str | None = None
    """The language its client asked for; None: the server's."""
    principal: str | None = None
    """Who papo's authorizer let in (an invite, an OpenID Connect subject); None
    when anyone may connect."""
    idle: bool = False
    """Its client said its person is not looking (a hidden or idle tab)."""


class Identity(msgspec.Struct, frozen=True):
    """Who a connection is, as papo's authorizer said: `principal`, and
    the one `name` it may take, if its invite or identity names one."""

    principal: str
    name: str | None = None
    access_mode: str | None = None
    """How it came in: `invite` (a link) or `oidc` (signed in), as the authorizer said."""
    role: str | None = None
    """`owner` when its invite makes it an owner of its room (who may set the room's bot)."""

    @property
    def by_link(self) -> bool:
        """Let in by a link that whoever holds it may use (an invite), not by
        signing in: another device taking its name over is told to everyone."""
        return self.access_mode == "invite"


class Member(NamedTuple):
    """A named connection: a person in the room. An `away` member's connection
    is gone but their session may resume it: they are listed, and sent nothing.

    A tuple, as a room's members are read for every message: built from a
    store's row in one call, a tenth of a frozen dataclass's cost."""

    connection_id: str
    name: str
    away: bool = False
    away_since: int | None = None
    session: str | None = None
    language: str | None = None
    idle: bool = False
    """Connected, but its client said its person is not looking (a hidden or idle tab)."""


class ClaimStatus(enum.Enum):
    CLAIMED = "claimed"
    TAKEN = "taken"
    NO_CONNECTION = "no_connection"


class Claim(msgspec.Struct, frozen=True):
    """The outcome of claiming a name; `previous` is the name the connection had."""

    status: ClaimStatus
    previous: str | None = None


class ConnectionStore(Protocol):
    """Who is connected and under which name.

    Every method is atomic on its own, so that many handler invocations, in
    threads, processes or Lambda containers, may call it at once.
    """

    def add(
        self,
        connection_id: str,
        connected_at: int,
        language: str | None = None,
        principal: str | None = None,
    ) -> None:
        """Records a new, unnamed connection (`connected_at` in epoch ms)."""

    def own_name(self, name: str, principal: str, expires_at: int, *, bound: bool = False) -> str:
        """Makes `principal` the owner of `name` (and of what looks like it) in
        every room until `expires_at`, unless another owns it; returns the
        owner. Atomic. `bound`: the name is the one the principal's invite or
        sign-in names, which it takes over from an owner that only picked it."""

    def owner(self, name: str) -> str | None:
        """Who owns `name`, if anyone does."""

    def get(self, connection_id: str) -> Connection | None:
        """The connection, or None if it is unknown or has expired."""

    def remove(self, connection_id: str) -> Connection | None:
        """Forgets the connection and frees its name.

        Returns what was removed, or None when it was already gone: of two
        concurrent removals exactly one gets the connection back.
        """

    def claim_name(
        self,
        connection_id: str,
        name: str,
        now: int,
        session: str | None = None,
        language: str | None = None,
    ) -> Claim:
        """Gives the connection `name` unless another connection holds it (ignoring
        case); a `session` or `language` given is recorded with the connection."""

    def take_over(
        self, connection_id: str, previous_id: str, name: str, session: str, now: int
    ) -> Claim:
        """Moves a resumed session from `previous_id` (forgotten, without its name
        being freed) to `connection_id`: the name, the session and the time it
        joined. CLAIMED also when the name was free; TAKEN when another
        connection holds it; `previous` is the name `previous_id` had."""

    def set_away(self, connection_id: str, at: int) -> bool:
        """Marks a connection of a session as gone for now; False when it is
        unknown or already away (so one caller wins)."""

    def members(self) -> list[Member]:
        """Every named, unexpired connection, in the order they joined."""

    def find(self, name: str) -> Member | None:
        """The member holding `name` (ignoring case), if any."""


class Envelope(msgspec.Struct, frozen=True):
    """Frames for one connection, posted in this order."""

    connection_id: str
    frames: tuple[bytes, ...]


class Delivery(Protocol):
    """Posts frames to connections."""

    def send(self, envelopes: Sequence[Envelope]) -> set[str]:
        """Posts every envelope; returns the ids of connections found gone (410) by
        this invocation (a share posted by another invocation handles its own).

        Any other failure is the delivery's to log, and skips only that frame:
        it never stops the delivery to other connections.
        """

    def close(self, connection_id: str) -> None:
        """Closes a connection (a connection already gone is no failure)."""

    def is_open(self, connection_id: str) -> bool:
        """Whether a connection is still open: False only when it is known gone
        (410); an answer that says nothing either way counts as open."""


class Reaction(msgspec.Struct, frozen=True):
    """One emoji on a line, and the names of who reacted with it, in order."""

    emoji: str
    by: tuple[str, ...]


class LoggedMessage(msgspec.Struct, frozen=True):
    """A public message kept in the room's log: people's, and the bot's answers."""

    msg_id: str
    ts: int
    sender: str
    text: str
    by_bot: bool = False
    offset: int = 0
    """Its place in the room's stream (0 until it has one)."""
    author: str | None = None
    """Who may change it: its sender's principal, session or connection
    (`papo.core.editing.author_of`); None for the bot's."""
    edited_at: int | None = None
    """When its text was last changed, edited or deleted (epoch ms); None if never."""
    deleted: bool = False
    """Deleted by its sender: its text is gone, a placeholder stands in its place."""
    reactions: tuple[Reaction, ...] = ()
    """Who reacted with which emoji, in the order each emoji first came."""


class RoomStream(Protocol):
    """The room's conversation: every frame of it in one order, by offset.

    An offset is taken first, then the frame that carries it is built and
    kept (`append_next`); an invocation that dies between the two leaves a
    gap, which clients are told about as a range nobody will fill.
    """

    def append_next(
        self,
        build: Callable[[int], bytes],
        expires_at: int,
        message: LoggedMessage | None = None,
    ) -> tuple[int, bytes]:
        """Takes the room's next offset (1, 2, 3…, atomic across every invocation),
        keeps the frame `build(offset)` at it until `expires_at` (epoch ms), and
        the public `message` it carries, for newcomers' history and the bot's
        memory; returns both. `build` may be called more than once, and an
        invocation that fails in between may leave a gap (a frame nobody gets),
        never a frame twice or out of order."""

    def frames_after(self, offset: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` unexpired frames with offsets above `offset`, in order."""

    def frames_before(self, offset: int, limit: int) -> list[tuple[int, bytes]]:
        """The last `limit` unexpired frames with offsets below `offset`, in order:
        fewer only when no other is kept below them."""

    def recent(self, limit: int, after: int = 0, until: int | None = None) -> list[LoggedMessage]:
        """The last `limit` unexpired public messages with `after < offset <= until`,
        oldest first; read so that it sees every write that finished before it began."""

    def last_offset(self) -> int:
        """The room's newest offset (0 before the first)."""

    def raise_mark(self, name: str, value: int, by_at_least: int = 1) -> bool:
        """Sets the room's mark `name` to `value` if that raises it by at least
        `by_at_least`; whether it did. Atomic: of invocations raising it at
        once, with a gap, one does."""

    def mark(self, name: str) -> int:
        """The room's mark `name` (0 before any), read so that it sees every
        write that finished before it began."""


class KeptLine(NamedTuple):
    """A line of the room's stream as kept: its frame, and the public message it
    carries (None: a system line)."""

    offset: int
    frame: bytes
    message: LoggedMessage | None


class LineChange(NamedTuple):
    """A line's new version: its frame, its message, and whether the version it
    replaces is kept for the operator (an edit or a delete, not a reaction)."""

    frame: bytes
    message: LoggedMessage
    keeps_earlier: bool = False


class ChangingLines(Protocol):
    """Lines that change after they were said: edits, deletes and reactions
    rewrite the line where it is kept, so that every path that reads it (history,
    `sync`, `lines`, resuming, the bot's memory) reads its latest version."""

    def line(self, offset: int) -> KeptLine | None:
        """The unexpired line at `offset`."""

    def offset_of(self, msg_id: str) -> int | None:
        """The offset of the unexpired public message `msg_id`."""

    def change_line(
        self, offset: int, change: Callable[[KeptLine], LineChange]
    ) -> LineChange | None:
        """Replaces the line at `offset` with `change(line)`, atomically: another
        change made meanwhile makes `change` see the line anew, so none is lost.
        The line keeps its expiry; with `keeps_earlier`, the version replaced is
        kept beside it, as long as it. None when no line is kept there; what
        `change` raises leaves the line as it was."""

    def earlier_versions(self, offset: int) -> list[LoggedMessage]:
        """The versions an edit or a delete replaced, oldest first."""


class Session(msgspec.Struct, frozen=True):
    """A person's resumable place in the room: their name, and who holds it."""

    session_id: str
    token_hash: str
    name: str
    connection_id: str
    expires_at: int


class Sessions(Protocol):
    """Resumable sessions, and the private messages of each (its own stream)."""

    def save_session(self, session: Session) -> None:
        """Creates or replaces the session."""

    def session(self, session_id: str) -> Session | None:
        """The session, unless unknown or expired."""

    def next_private_offset(self, session_id: str) -> int:
        """The session's next private offset: 1, 2, 3…, atomic."""

    def append_private(self, session_id: str, offset: int, frame: bytes, expires_at: int) -> None:
        """Keeps a private frame of the session at `offset` until `expires_at`."""

    def private_frames_after(
        self, session_id: str, offset: int, limit: int
    ) -> list[tuple[int, bytes]]:
        """Up to `limit` unexpired private frames of the session above `offset`."""


class PaceWindow(NamedTuple):
    """A window of a connection's pace: which one `now` falls in (its number
    since the epoch), how many frames it takes, and when it ends (epoch ms)."""

    number: int
    limit: int
    ends: int


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

    def count_frame(
        self, connection_id: str, windows: tuple[PaceWindow, PaceWindow], now: int
    ) -> int | None:
        """Counts a frame the connection sent in each of its pace windows (the
        burst's and the minute's) that is not full yet; returns the position of
        the first that was full, or None. The other counts it all the same (a
        refused sender is not let off). Atomic for each window; a connection
        the store no longer knows is not counted (None)."""


class Attention(Protocol):
    """Who is looking, and how far each person has read the room."""

    def set_idle(self, connection_id: str, idle: bool) -> bool:
        """Marks the connection's person as not looking (a hidden or idle tab)
        or looking again; whether that changed it (so one caller tells)."""

    def read_marker(self, reader: str) -> int:
        """The newest offset `reader` (a session or a principal) has read in the
        room (0 before any)."""

    def raise_read_marker(self, reader: str, offset: int, expires_at: int) -> bool:
        """Moves `reader`'s marker up to `offset`, kept until `expires_at`
        (epoch ms); whether it moved. Atomic: a marker never goes back."""


class Notes(Protocol):
    """Small records a room keeps by key until they expire: what one invocation
    leaves for another to find (who asked for an answer, that it was stopped)."""

    def put_note(self, key: str, value: bytes, expires_at: int) -> None:
        """Keeps `value` under `key` until `expires_at` (epoch ms), replacing any."""

    def note(self, key: str) -> bytes | None:
        """The unexpired note under `key`, read so that it sees every write that
        finished before it began; None when there is none."""


class Store(
    ConnectionStore, RoomStream, ChangingLines, Sessions, Counters, Attention, Notes, Protocol
):
    """Everything the chat keeps: one adapter, one table or file. A store
    serves one room (`in_room`); connection ids are unique across rooms."""

    def in_room(self, room: str) -> Store:
        """The same store, serving `room`: its members and names, its stream,
        sessions, counters and the bot's memory, none of another room's."""

    def room_of(self, connection_id: str) -> str | None:
        """The room a connection joined (None: no such connection)."""


class Turn(msgspec.Struct, frozen=True):
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

    def ask(self, turns: Sequence[Turn], max_tokens: int, model: str | None = None) -> BotReply:
        """Starts an answer of at most `max_tokens`, by `model` (None: the
        configured one); failures before the first piece are retried where safe."""

    def flagged(self, text: str) -> bool:
        """Whether the moderation model flags `text`; raises BotError when it cannot tell."""


class AnswerJob(msgspec.Struct, frozen=True):
    """A question the bot is to answer, and what was reserved for it."""

    answer_id: str
    question_id: str
    asker_id: str
    asker: str
    question: str
    asked_at: int
    """When the question was asked (epoch ms): the answer remembers the room up to it."""
    reserved_tokens: int
    budget_key: str
    budget_expires_at: int
    question_offset: int = 0
    """The question's offset in the room's stream: the answer remembers what came before."""
    room: str = "main"
    """The room the question was asked in, which hears the answer."""
    person: str = ""
    """Whose question it is, whichever connection they are on now (see
    `papo.core.answer_notes.person_of`): who may stop it or ask again."""
    action: str = "sendBot"
    """The action that asked (`sendBot`, `sendPublic`, `askAgain`): its
    refusals name it."""
    replaces: str | None = None
    """The answer this one was asked again for, if it was."""
    covers: tuple[int, int] | None = None
    """A summary of the room's lines at these offsets (first, last) for its
    asker alone (`catchUp`), not an answer to the room."""
    asker_session: str | None = None
    """The asker's resumable session, if any: a summary is kept in its stream."""


class AnswerNotStarted(Exception):
    """The answer could not be handed to whoever produces it."""


class Answers(Protocol):
    """Has answers produced: by another invocation on AWS, or at once."""

    def start(self, job: AnswerJob) -> None:
        """Hands the job over; raises AnswerNotStarted if it could not."""
