"""`setName`: joining the room under a name, or changing it, and who owns
which name.

A name is held by one connection at a time, and names that look alike are
one name (`papo.core.rules.name_key`). With `PAPO_AUTH` on, a name taken by an
identity is that identity's for a while (`ResumeRules.ownership_ms`); an
invite or an ID token that names someone binds them to that name. Coming
back with a resume token is `papo.core.resuming`.
"""

from __future__ import annotations

import msgspec.structs

from papo.core import joining, presence, protocol, render, sessions
from papo.core.ports import ClaimStatus, Connection, Envelope, Identity
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room
from papo.core.rules import check_name, fit_name, same_name
from papo.core.texts import LANGUAGES


def set_name(room: Room, actor: Actor, payload: Payload, name: str) -> None:
    """Joins the room as `name`, renames, or (the same name again) re-sends
    the members; `resume: true` asks for a session that can come back."""
    resume = payload.get("resume", False)
    if not isinstance(resume, bool):
        raise Refusal(ErrorCode.INVALID_FIELD, action="setName", field="resume", expected="resume")
    language = payload.get("language")
    if language is not None and language not in LANGUAGES:
        raise Refusal(
            ErrorCode.INVALID_FIELD, action="setName", field="language", expected="language"
        )
    connection_id = actor.connection_id
    now = room.clock()
    current = room.store.get(connection_id)
    session = current.session if current else None
    fresh = resume and session is None
    if fresh:
        session = room.new_id()
    check_owner(room, actor.identity, name, now)
    claim = room.store.claim_name(connection_id, name, now, session, language)
    if claim.status is ClaimStatus.TAKEN:
        if _take_back_from_other_device(room, actor, name, now, wants_session=resume):
            return
        if _holder_found_gone(room, actor, name) or _owner_takes_it(room, actor, name):
            claim = room.store.claim_name(connection_id, name, now, session, language)
        if claim.status is ClaimStatus.TAKEN:
            raise taken(room, name)
    if claim.status is ClaimStatus.NO_CONNECTION:
        raise Refusal(ErrorCode.NOT_CONNECTED)
    welcome: tuple[bytes, ...] = ()
    if session is not None and fresh:
        ttl = room.rules.resume.token_ttl_ms
        welcome = (sessions.open_session(room.store, session, name, connection_id, now, ttl),)
    elif session is not None and claim.previous != name:
        _rename_session(room, session, name)
    if claim.previous == name:
        frames = (room.members_frame(room.audience(), now), *welcome)
        room.send([Envelope(connection_id, frames)])
        return
    if claim.previous is None:
        said = room.system("joined", name, now, lambda t: t.joined(name))
        history = recent_history(room, now)
        first = (*welcome, *((history,) if history else ()))
    else:
        previous = claim.previous
        said = room.system(
            "renamed", name, now, lambda t: t.renamed(previous, name), previous=previous
        )
        first = welcome
    joining.announce(room, connection_id, said, first, now)


def as_bound(room: Room, identity: Identity | None, raw: str) -> str:
    """The name asked for, as papo shows it. The name an identity's claim
    gives may break papo's rules (too long, a colon): asked for as the
    claim says it, it is the name papo made of it (`fit_name`)."""
    limits = room.rules.limits
    try:
        return check_name(raw, limits)
    except Refusal:
        bound = _bound_name(room, identity)
        if bound is not None:
            fitted = fit_name(raw, limits)
            if fitted is not None and same_name(fitted, bound):
                return bound
        raise


def _bound_name(room: Room, identity: Identity | None) -> str | None:
    """The name an identity is bound to, made to fit papo's rules (None: no
    name, or none could be made of it)."""
    if identity is None or identity.name is None:
        return None
    return fit_name(identity.name, room.rules.limits)


def check_owner(room: Room, identity: Identity | None, name: str, now: int) -> None:
    """A name bound to an identity is that identity's, in every room: an
    invite for one name takes that name only, and nobody else takes a name
    someone owns. When another identity's invite or sign-in names it already
    (two people with one display name), or no name could be made of the
    claim, its holder picks another, which is then theirs until the identity
    whose invite or sign-in names it comes."""
    store = room.store
    if identity is None:
        if store.owner(name) is not None:
            raise Refusal(ErrorCode.NAME_OWNED, name=name)
        return
    bound = _bound_name(room, identity)
    if (
        bound is not None
        and not same_name(bound, name)
        and store.owner(bound) in (None, identity.principal)
    ):
        raise Refusal(
            ErrorCode.NAME_BOUND, name=bound, access_mode=identity.access_mode or "invite"
        )
    expires_at = now + room.rules.resume.ownership_ms
    is_bound = bound is not None and same_name(bound, name)
    if store.own_name(name, identity.principal, expires_at, bound=is_bound) != identity.principal:
        raise Refusal(ErrorCode.NAME_OWNED, name=name)


def _take_back_from_other_device(
    room: Room, actor: Actor, name: str, now: int, *, wants_session: bool
) -> bool:
    """The owner of a name takes it back from their other device: that
    connection is told why (`taken_over`, so that it does not come back and
    take it again) and closed. Signed in, it is the same person, and the room
    sees nobody leave or join; let in by a link that anyone holding it may
    use, it may be someone else, and the room is told the name moved.
    A client that asked for a session gets the session's token anew: the
    other device's no longer resumes it. Returns whether it took it back."""
    identity, connection_id, store = actor.identity, actor.connection_id, room.store
    holder = store.find(name)
    if identity is None or holder is None or holder.connection_id == connection_id:
        return False
    held_by = store.get(holder.connection_id)
    if held_by is None or held_by.principal != identity.principal:
        return False
    session = held_by.session or room.new_id()
    claim = store.take_over(connection_id, holder.connection_id, holder.name, session, now)
    if claim.status is not ClaimStatus.CLAIMED:
        return False
    if not holder.away:
        _tell_and_close(room, held_by, Refusal(ErrorCode.TAKEN_OVER, name=holder.name))
    welcome: tuple[bytes, ...] = ()
    if wants_session:
        ttl = room.rules.resume.token_ttl_ms
        welcome = (
            sessions.open_session(room.store, session, holder.name, connection_id, now, ttl),
        )
    members = room.audience()
    history = recent_history(room, now)
    first = (*welcome, room.members_frame(members, now), *((history,) if history else ()))
    room.send([Envelope(connection_id, first)])
    if identity.by_link:
        moved = holder.name
        said = room.system("moved", moved, now, lambda t: t.moved(moved))
        _, frame = room.publish_localized(said)
        room.send(
            [Envelope(m.connection_id, (frame(m.language),)) for m in presence.reachable(members)]
        )
    return True


def _holder_found_gone(room: Room, actor: Actor, name: str) -> bool:
    """Whether the connection holding `name` turned out gone, and was dropped
    as any connection found gone is: its `$disconnect` may never have come
    (a server that stopped, a lost event). A person away within the grace
    period keeps their name for their return."""
    holder = room.store.find(name)
    if holder is None:
        return True
    if holder.away or holder.connection_id == actor.connection_id:
        return False
    if room.delivery.is_open(holder.connection_id):
        return False
    room.drop({holder.connection_id})
    return True


def _owner_takes_it(room: Room, actor: Actor, name: str) -> bool:
    """The owner of a name takes it from someone else holding it (taken
    before it was theirs): the holder is told why, closed, and leaves.
    Returns whether it did."""
    identity, store = actor.identity, room.store
    if identity is None or store.owner(name) != identity.principal:
        return False
    holder = store.find(name)
    if holder is None:
        return True
    held_by = store.get(holder.connection_id)
    if held_by is None or held_by.principal == identity.principal:
        return False
    if not holder.away:
        _tell_and_close(room, held_by, Refusal(ErrorCode.NAME_OWNED, name=holder.name))
    room.leave({holder.connection_id})
    return True


def _tell_and_close(room: Room, connection: Connection, why: Refusal) -> None:
    """Tells a connection, in its language, why it is closed, and closes it."""
    notice = render.error_frame(why, room.texts_for(connection.language), action=None)
    room.delivery.send([Envelope(connection.connection_id, (notice,))])
    room.delivery.close(connection.connection_id)


def taken(room: Room, name: str) -> Refusal:
    """Why a name cannot be had: someone holds it, or one that looks like it."""
    holder = room.store.find(name)
    if holder is None or same_name(holder.name, name):
        return Refusal(ErrorCode.NAME_TAKEN, name=name)
    return Refusal(ErrorCode.NAME_CONFUSABLE, name=name, holder=holder.name)


def _rename_session(room: Room, session_id: str, name: str) -> None:
    """A renamed person's token now resumes the new name."""
    session = room.store.session(session_id)
    if session is not None:
        room.store.save_session(msgspec.structs.replace(session, name=name))


def recent_history(room: Room, now: int) -> bytes | None:
    """The room's recent public messages, for someone who just joined."""
    recent = room.store.recent(room.rules.history.messages)
    if not recent:
        return None
    return protocol.history_frame([protocol.history_item(m) for m in recent], now)
