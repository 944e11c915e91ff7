"""A big fan-out split across invocations of this same function.

One invocation posts only so fast: at 512 MB Lambda gives the function about
0.29 of a vCPU, and each post costs some 90 µs of it (docs/benchmarks.md). So past
`PAPO_FANOUT_SPLIT` recipients the envelopes are cut into shares of at most
that many; this invocation posts one share and hands each other one to an
asynchronous invocation of the function (`InvocationType="Event"`, as bot
answers are), which posts it with `Chat.send`: the connections found gone
there are removed, and the room told, there.

- An envelope is never cut: a connection's frames stay in one share, in order.
- A share is posted at most once: its invocation first claims the share's id
  in the store, so that Lambda delivering an event twice, or this invocation
  posting a share whose Invoke call failed, cannot post it again.
- A share whose Invoke call fails is posted here, once claimed; one whose
  event would exceed Lambda's 256 KB for an asynchronous payload never
  leaves, and is posted here without a claim.
- `send` returns when its own share is out and the others are handed over:
  the frames of two sends reach a connection in the order of their offsets,
  not necessarily in the order sent. Bot answers, whose pieces follow one
  another, are posted by one invocation and never split.

`papo serve` answers the same Invoke call, so a split works locally too.
"""

from __future__ import annotations

import enum
import itertools
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import msgspec

from papo.core.ports import Counters, Delivery, Envelope

if TYPE_CHECKING:
    from papo.core.chat import Chat

logger = logging.getLogger(__name__)

SHARE_KEY = "papoShare"
MAX_EVENT_BYTES = 256 * 1024
"""Lambda's limit on an asynchronous invocation's payload."""
_CLAIM_TTL_MS = 60 * 60 * 1000
_MAX_INVOKES_AT_ONCE = 16


class ShareEvent(msgspec.Struct, frozen=True):
    """What the function sends itself to have a share of a fan-out posted."""

    share_id: str
    endpoint: str
    """The Management API's URL."""
    frames: list[bytes]
    """Each distinct frame once: most of a fan-out's envelopes carry the same ones."""
    recipients: list[tuple[str, tuple[int, ...]]]
    """Each connection, and the indices in `frames` of its frames, in order."""

    @classmethod
    def parse(cls, event: object) -> ShareEvent:
        return msgspec.convert(event, cls)

    @classmethod
    def of(cls, share_id: str, endpoint: str, envelopes: Sequence[Envelope]) -> ShareEvent:
        index: dict[bytes, int] = {}
        recipients = [
            (e.connection_id, tuple(index.setdefault(f, len(index)) for f in e.frames))
            for e in envelopes
        ]
        return cls(share_id, endpoint, list(index), recipients)

    @property
    def envelopes(self) -> list[Envelope]:
        frames = self.frames
        return [Envelope(cid, tuple(frames[i] for i in at)) for cid, at in self.recipients]


def shares(envelopes: Sequence[Envelope], split: int) -> list[Sequence[Envelope]]:
    """The envelopes in as few shares of at most `split` as can be, of even sizes."""
    count = -(-len(envelopes) // split)
    size, extra = divmod(len(envelopes), count)
    cuts = [i * size + min(i, extra) for i in range(count + 1)]
    return [envelopes[start:end] for start, end in itertools.pairwise(cuts)]


def claim(counters: Counters, share_id: str, now: int) -> bool:
    """Whether this invocation is the one to post the share (the first to ask)."""
    return counters.add_to_counter(
        f"share:{share_id}", 1, limit=1, now=now, expires_at=now + _CLAIM_TTL_MS
    )


class _Handed(enum.Enum):
    """Whether another invocation got a share."""

    YES = enum.auto()
    NO = enum.auto()
    """It never left: this invocation posts it."""
    MAYBE = enum.auto()
    """The Invoke call failed, perhaps after Lambda took the event: the share
    goes to whichever invocation claims it first."""


class SplitDelivery:
    """The `Delivery` port for an invocation that may hand shares to others."""

    def __init__(
        self,
        here: Delivery,
        *,
        split: int,
        endpoint: str,
        invoke: Callable[[bytes], None],
        claim: Callable[[str], bool],
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.here = here
        self.split = split
        self.endpoint = endpoint
        self._invoke = invoke
        self._claim = claim
        self._new_id = new_id

    def send(self, envelopes: Sequence[Envelope]) -> set[str]:
        if not self.split or len(envelopes) <= self.split:
            return self.here.send(envelopes)
        from concurrent.futures import ThreadPoolExecutor

        mine, *others = shares(envelopes, self.split)
        events = [ShareEvent.of(self._new_id(), self.endpoint, share) for share in others]
        with ThreadPoolExecutor(min(len(events), _MAX_INVOKES_AT_ONCE)) as pool:
            outcomes = pool.map(self._hand_over, events)
            gone = self.here.send(mine)
            left = list(zip(events, outcomes, strict=True))
        for event, outcome in left:
            if outcome is _Handed.NO or (outcome is _Handed.MAYBE and self._claim(event.share_id)):
                gone |= self.here.send(event.envelopes)
        return gone

    def close(self, connection_id: str) -> None:
        self.here.close(connection_id)

    def is_open(self, connection_id: str) -> bool:
        return self.here.is_open(connection_id)

    def _hand_over(self, event: ShareEvent) -> _Handed:
        payload = msgspec.json.encode({SHARE_KEY: event})
        if len(payload) > MAX_EVENT_BYTES:
            return _Handed.NO
        try:
            self._invoke(payload)
        except Exception as error:  # noqa: BLE001 - whatever the cause, the share is posted here
            logger.warning(
                "share not handed over",
                extra={"share_id": event.share_id, "error": repr(error)},
            )
            return _Handed.MAYBE
        return _Handed.YES


def deliver_share(chat: Chat, counters: Counters, event: ShareEvent, now: int) -> bool:
    """Posts a share handed over by another invocation, unless it was posted
    already; returns whether it was posted here."""
    if not claim(counters, event.share_id, now):
        logger.info("share already posted", extra={"share_id": event.share_id})
        return False
    chat.send(event.envelopes)
    return True
