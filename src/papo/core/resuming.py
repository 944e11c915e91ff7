"""Coming back: resuming a session with its token (`setName` with `resume`
holding the token), and `sync`, which sends what a client missed.

A person back within the grace period is seen by nobody to leave or join;
later, the room sees them join. Either way they get what they missed after
the offsets they name (`papo.core.sessions.missed`).
"""

from __future__ import annotations

import msgspec.structs

from papo.core import joining, naming, presence_changes, protocol, sessions
from papo.core.ports import ClaimStatus, Envelope
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room
from papo.core.rules import name_key


def resume(room: Room, actor: Actor, name: str, resume: Payload) -> None:
    """Takes the session `resume.token` opened back, on this connection."""
    connection_id = actor.connection_id
    token = resume.get("token")
    offset = protocol.optional_int(resume, "setName", "offset")
    private_offset = protocol.optional_int(resume, "setName", "privateOffset")
    if not isinstance(token, str):
        raise Refusal(
            ErrorCode.INVALID_FIELD, action="setName", field="resume.token", expected="text"
        )
    store = room.store
    session_id = sessions.session_id_of(token)
    session = store.session(session_id) if session_id else None
    if (
        session is None
        or not sessions.token_matches(token, session)
        or name_key(session.name) != name_key(name)
    ):
        raise Refusal(ErrorCode.RESUME_INVALID, name=name)
    now = room.clock()
    naming.check_owner(room, actor.identity, session.name, now)
    previous = store.get(session.connection_id)
    claim = store.take_over(connection_id, session.connection_id, session.name, session_id, now)
    if claim.status is ClaimStatus.TAKEN:
        raise naming.taken(room, session.name)
    if claim.status is ClaimStatus.NO_CONNECTION:
        raise Refusal(ErrorCode.NOT_CONNECTED)
    if (
        previous is not None
        and previous.connection_id != connection_id
        and previous.away_since is None
    ):
        room.delivery.close(previous.connection_id)
    expires_at = now + room.rules.resume.token_ttl_ms
    store.save_session(
        msgspec.structs.replace(session, connection_id=connection_id, expires_at=expires_at)
    )
    missed = sessions.missed(store, offset, session_id, private_offset, now)
    welcome = protocol.session_frame(
        token, name=session.name, offset=store.last_offset(), private_offset=private_offset, ts=now
    )
    if previous is not None and previous.name is not None:
        # Back within the grace period: the room saw nobody leave, and sees nobody join.
        members = room.members_frame(room.audience(), now)
        room.send([Envelope(connection_id, (welcome, members, *missed))])
        presence_changes.back(room, session.name)
        return
    joined = session.name
    said = room.system("joined", joined, now, lambda t: t.joined(joined))
    joining.announce(room, connection_id, said, (welcome, *missed), now)


def sync(room: Room, actor: Actor, payload: Payload) -> None:
    """Sends the sender what it missed after the offsets it names."""
    offset = protocol.optional_int(payload, "sync", "offset")
    private_offset = protocol.optional_int(payload, "sync", "privateOffset")
    connection = room.store.get(actor.connection_id)
    session = connection.session if connection else None
    frames = sessions.missed(room.store, offset, session, private_offset, room.clock())
    room.send([Envelope(actor.connection_id, tuple(frames))])
