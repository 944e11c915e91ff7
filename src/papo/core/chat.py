"""The chat core's entry: `ACTIONS`, the one table of what clients may ask
for, and `Chat`, which serves each event in the room of its connection.

The core reads and writes the room through a `Store`, posts through a
`Delivery`, asks a `Bot` and hands answers to `Answers` (`papo.core.ports`),
and imports nothing of AWS, HTTP or WebSockets: a test of a chat rule needs
only a store and a recording delivery. Each concern is a module of its own:
`naming` and `resuming` (`setName`), `messages` (`sendPublic`,
`sendPrivate`, `ping`), `asking` and `answering` (the bot), `joining` and
`presence` (who is here), over the `Room` they share.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from papo.core import (
    asking,
    asking_again,
    catching_up,
    editing,
    lines,
    mentioning,
    messages,
    naming,
    presence_changes,
    protocol,
    reactions,
    read_markers,
    render,
    resuming,
    room_settings,
    stopping,
    typing_indicator,
)
from papo.core.answering import Answerer
from papo.core.clock import now_ms
from papo.core.ports import AnswerJob, Answers, Bot, Delivery, Envelope, Identity, Store
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room, new_id
from papo.core.rooms import ROOM_DEFAULT, room_name
from papo.core.rules import Rules
from papo.core.texts import LANGUAGES, Texts

Body = str | bytes | None
Action = Callable[[Room, Actor, Payload], None]


def set_name(room: Room, actor: Actor, payload: Payload) -> None:
    """`setName`: a name to join or rename with, or a session to resume; the
    room's own bot is told to whoever joins."""
    name = naming.as_bound(room, actor.identity, protocol.text_field(payload, "setName", "name"))
    resume = payload.get("resume", False)
    if isinstance(resume, dict):
        resuming.resume(room, actor, name, resume)
    else:
        naming.set_name(room, actor, payload, name)
    room_settings.tell_joiner(room, actor.connection_id)


ACTIONS: dict[str, Action] = {
    "setName": set_name,
    "sendPublic": mentioning.send_public,
    "sendPrivate": messages.send_private,
    "sendBot": asking.send_bot,
    "sync": resuming.sync,
    "lines": lines.lines,
    "ping": messages.ping,
    "edit": editing.edit,
    "delete": editing.delete,
    "react": reactions.react,
    "presence": presence_changes.report,
    "typing": typing_indicator.typing,
    "read": read_markers.read,
    "unread": read_markers.unread,
    "stopAnswer": stopping.stop_answer,
    "askAgain": asking_again.ask_again,
    "catchUp": catching_up.catch_up,
    "setRoomBot": room_settings.set_bot,
}
"""What clients may ask for, by the `action` of their frame. Adding an action
is one entry here: the handler's and the emulator's routes follow."""

UNPACED = frozenset({"ping", "typing"})
"""The heartbeat is not counted: a client sends it to stay, not to speak.
Nor is `typing`, which has a throttle of its own (`papo.core.typing_indicator`):
counted, a person typing would use up what they may say."""


class Chat(msgspec.Struct):
    """Serves a container's events, each in the room of its connection.
    `bot` None means no bot is configured; `answers` None means answers are
    produced at once, in the invocation that got the question."""

    store: Store
    delivery: Delivery
    rules: Rules = msgspec.field(default_factory=Rules)
    texts: Texts = msgspec.field(default_factory=Texts)
    bot: Bot | None = None
    answers: Answers | None = None
    clock: Callable[[], int] = now_ms
    sleep: Callable[[float], None] = time.sleep
    new_id: Callable[[], str] = new_id

    def room(self, name: str) -> Room:
        """The room called `name`, as this event sees it."""
        return Room(
            name=name,
            store=self.store.in_room(name),
            delivery=self.delivery,
            rules=self.rules,
            texts=self.texts,
            bot=self.bot,
            answers=self.answers,
            clock=self.clock,
            sleep=self.sleep,
            new_id=self.new_id,
        )

    def room_of(self, connection_id: str) -> Room:
        """The room a connection joined."""
        return self.room(self.store.room_of(connection_id) or ROOM_DEFAULT)

    def connect(
        self,
        connection_id: str,
        language: str | None = None,
        identity: Identity | None = None,
        room: str | None = None,
    ) -> None:
        """A new connection in `room` (its `?room=`; InvalidRoom if it names
        none); `language` is the one its client asked for (`?lang=`), kept if
        papo speaks it; `identity` is who papo's authorizer let in, if `PAPO_AUTH` is
        on."""
        self.store.in_room(room_name(room)).add(
            connection_id,
            self.clock(),
            language if language in LANGUAGES else None,
            identity.principal if identity else None,
        )

    def disconnect(self, connection_id: str) -> None:
        """A closed connection: its person leaves, or is away for the grace period."""
        room = self.room_of(connection_id)
        self.drop({connection_id})
        presence_changes.after_drop(room, connection_id)

    def act(
        self,
        action: str | None,
        connection_id: str,
        body: Body,
        identity: Identity | None = None,
    ) -> None:
        """Serves one client frame. `action` is the route it came by; None (the
        `$default` route) serves a known action all the same, for deployments
        that send everything there, and tells the sender the actions otherwise.
        `identity` is who papo's authorizer let in, as every event of the connection
        says."""
        room = self.room_of(connection_id)
        actor = Actor(connection_id, identity)
        payload: Payload = {}
        try:
            if action not in UNPACED:
                room.pace.take(connection_id, room.clock())
            payload = protocol.parse(body)
            if action is None:
                raw = payload.get("action")
                if not isinstance(raw, str) or raw not in ACTIONS:
                    raise Refusal(
                        ErrorCode.UNKNOWN_ACTION,
                        action=raw if isinstance(raw, str) else "(none)",
                        actions=", ".join(ACTIONS),
                    )
                action = raw
            ACTIONS[action](room, actor, payload)
        except Refusal as refusal:
            texts = room.texts_for(_language(payload) or room.language_of(connection_id))
            frame = render.error_frame(refusal, texts, action=action)
            room.send([Envelope(connection_id, (frame,))])

    def answer(self, job: AnswerJob) -> None:
        """Produces the answer to a question `sendBot` accepted, streaming it to its room."""
        Answerer(self.room(job.room)).answer(job)

    def send(self, envelopes: list[Envelope]) -> set[str]:
        """Posts envelopes to connections of any rooms; forgets (and announces)
        those found gone, and returns their ids."""
        if not envelopes:
            return set()
        gone = self.delivery.send(envelopes)
        self.drop(set(gone))
        return gone

    def drop(self, gone: set[str]) -> None:
        """Connections found gone, in whichever rooms they were."""
        rooms: dict[str, set[str]] = {}
        for connection_id in gone:
            rooms.setdefault(self.store.room_of(connection_id) or ROOM_DEFAULT, set()).add(
                connection_id
            )
        for name, theirs in rooms.items():
            self.room(name).drop(theirs)


def _language(payload: Payload) -> str | None:
    """The language a frame asks for, if papo speaks it."""
    language = payload.get("language")
    return language if isinstance(language, str) and language in LANGUAGES else None
