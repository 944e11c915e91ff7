"""Who may connect: invite links and OpenID Connect ID tokens checked by papo's
`$connect` authorizer, and names bound to the identity it let in.

OpenID Connect runs against a real provider on loopback (`oidc-provider-mock`),
its tokens obtained through the authorization code flow as a client would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, example, given, settings
from oidc_provider_mock import run_server_in_thread

from papo.adapters.identity import issuer as issuers
from papo.adapters.store.sqlite import SqliteStore
from papo.aws.authorizer import handler as authorizer
from papo.core.chat import Chat
from papo.core.invites import InvalidInvite, make_invite, read_invite
from papo.core.ports import Identity, Store
from tests.recording import RecordingDelivery

SECRET = b"papo-test-invite-secret"
NOW_S = 1_795_737_600
METHOD_ARN = "arn:aws:execute-api:us-east-1:000000000000:papolocal0/dev/$connect"


def connect_event(token: str | None, room: str | None = None) -> dict[str, Any]:
    query = {} if token is None else {"token": token}
    if room is not None:
        query["room"] = room
    return {"type": "REQUEST", "methodArn": METHOD_ARN, "queryStringParameters": query}


def claims_of(token: str) -> dict[str, Any]:
    payload = token.partition(".")[0]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def signed(claims: dict[str, Any]) -> str:
    """A token signed with the secret over any payload, as only its holder could."""
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    mac = hmac.new(SECRET, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def test_an_invite_reads_back_until_it_expires() -> None:
    token = make_invite(SECRET, expires_at=NOW_S + 60, name="Ana")
    invite = read_invite(SECRET, token, NOW_S)
    assert (invite.expires_at, invite.name) == (NOW_S + 60, "Ana")
    assert read_invite(SECRET, make_invite(SECRET, expires_at=NOW_S + 1), NOW_S).name is None
    with pytest.raises(InvalidInvite, match="expired"):
        read_invite(SECRET, token, NOW_S + 60)


def test_an_invite_names_its_room_in_lower_case() -> None:
    token = make_invite(SECRET, expires_at=NOW_S + 60, name="Ana", room="Team")
    assert claims_of(token)["room"] == "team"
    assert read_invite(SECRET, token, NOW_S).room == "team"
    with pytest.raises(ValueError, match="no room name"):
        make_invite(SECRET, expires_at=NOW_S + 60, room="team_2")


def test_an_invite_made_before_rooms_is_for_main() -> None:
    token = make_invite(SECRET, expires_at=NOW_S + 60)
    assert claims_of(token).keys() == {"id", "exp"}  # the payload as it was before rooms
    assert read_invite(SECRET, token, NOW_S).room == "main"


@pytest.mark.parametrize("room", ["", "-team", "Équipe", 7, None, ["team"]])
def test_a_signed_invite_for_no_room_is_refused(room: object) -> None:
    token = signed({"id": "a1", "exp": NOW_S + 60, "room": room})
    with pytest.raises(InvalidInvite, match="bad room"):
        read_invite(SECRET, token, NOW_S)


@pytest.mark.parametrize(
    "tamper", ["payload", "room", "signature", "secret", "empty", "garbage", "non-ascii"]
)
def test_a_forged_or_altered_invite_is_refused(tamper: str) -> None:
    token = make_invite(SECRET, expires_at=NOW_S + 60, name="Ana")
    payload, _, signature = token.partition(".")
    secret = SECRET
    if tamper == "payload":
        other = make_invite(SECRET, expires_at=NOW_S + 60, name="Bot").partition(".")[0]
        token = f"{other}.{signature}"
    elif tamper == "room":
        claims = {**claims_of(token), "room": "team"}
        other = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        token = f"{other}.{signature}"
    elif tamper == "signature":
        token = f"{payload}.{signature[:-2]}AA"
    elif tamper == "secret":
        secret = b"another secret"
    elif tamper == "empty":
        token = ""
    elif tamper == "non-ascii":
        token = f"{payload}.{signature[:-1]}é"
    else:
        token = "not a token at all"
    with pytest.raises(InvalidInvite):
        read_invite(secret, token, NOW_S)


@pytest.fixture
def invite_access(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAPO_AUTH", "invite")
    monkeypatch.setenv("PAPO_INVITE_SECRET", SECRET.decode())
    monkeypatch.setenv("PAPO_STORE", "sqlite")
    monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))


def test_the_authorizer_lets_a_good_invite_in(invite_access: None) -> None:
    token = make_invite(SECRET, expires_at=int(time.time()) + 60, name="Ana")
    answer = authorizer(connect_event(token), None)
    assert answer["principalId"].startswith("invite:")
    (statement,) = answer["policyDocument"]["Statement"]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": METHOD_ARN,
    }
    assert answer["context"] == {
        "name": "Ana",
        "access": "invite",
        "invite": read_invite(SECRET, token, NOW_S).invite_id,
    }
    assert all(isinstance(v, str | int | bool) for v in answer["context"].values())


def test_under_papo_serve_the_secret_in_the_environment_wins_over_the_templates_parameter(
    invite_access: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy/template.yaml names an SSM parameter, which no laptop has: served
    locally with `PAPO_INVITE_SECRET` set, the authorizer reads that and asks SSM nothing."""
    monkeypatch.setenv("PAPO_INVITE_SECRET_PARAMETER", "/papo/invite-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")  # nothing answers there
    token = make_invite(SECRET, expires_at=int(time.time()) + 60, name="Ana")
    assert authorizer(connect_event(token), None)["context"]["name"] == "Ana"


claim_values = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
hostile_tokens = st.one_of(
    st.text(max_size=80),
    st.text("ABCabc019-_.=+/ \u00e9", max_size=80),
    st.dictionaries(
        st.sampled_from(["id", "exp", "name", "room", "other"]), claim_values, max_size=5
    ).map(signed),
    st.fixed_dictionaries(
        {"id": st.text(max_size=8), "exp": st.integers(NOW_S, 2**70) | st.floats()},
        optional={"name": claim_values, "room": claim_values},
    ).map(signed),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=hostile_tokens, room=st.none() | st.text(max_size=40))
@example(token=signed({"id": "", "exp": float("inf")}), room=None)  # int() overflows
def test_the_authorizer_lets_in_or_answers_unauthorized_whatever_it_is_given(
    invite_access: None, token: str, room: str | None
) -> None:
    """Any token, even one signed with the secret over any payload, in any room:
    a policy, or API Gateway's 401 (`Unauthorized`), never a failure (a 500)."""
    refused: Exception | None = None
    try:
        answer = authorizer(connect_event(token, room), None)
    except Exception as refusal:  # noqa: BLE001 - which one is the assertion
        refused = refusal
    if refused is not None:
        assert str(refused) == "Unauthorized", repr(refused)
    else:
        assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
        assert all(isinstance(v, str | int | bool) for v in answer["context"].values())


@pytest.mark.parametrize("token", [None, "", "forged.token", "expired"])
def test_the_authorizer_answers_unauthorized_to_a_bad_invite(
    invite_access: None, token: str | None
) -> None:
    if token == "expired":
        token = make_invite(SECRET, expires_at=int(time.time()) - 1)
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer(connect_event(token), None)


def test_an_invite_for_a_room_lets_its_holder_into_that_room_only(invite_access: None) -> None:
    token = make_invite(SECRET, expires_at=int(time.time()) + 60, name="Ana", room="team")
    for room in ("team", "TEAM", "Team"):
        assert authorizer(connect_event(token, room), None)["context"]["name"] == "Ana"
    for elsewhere in (None, "", "main", "other", "team-2", "teams"):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer(connect_event(token, elsewhere), None)


def test_an_invite_without_a_room_lets_its_holder_into_main_only(invite_access: None) -> None:
    token = make_invite(SECRET, expires_at=int(time.time()) + 60)  # as before rooms
    for room in (None, "", "main", "MAIN"):
        assert authorizer(connect_event(token, room), None)["principalId"].startswith("invite:")
    for room in ("team", "main-2"):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer(connect_event(token, room), None)


@pytest.mark.parametrize("room", ["-main", "main-", "ma in", "main_", "x" * 33, "ma\u00efn"])
def test_the_authorizer_refuses_a_room_that_is_no_room(invite_access: None, room: str) -> None:
    for token in (
        make_invite(SECRET, expires_at=int(time.time()) + 60),
        make_invite(SECRET, expires_at=int(time.time()) + 60, room="main"),
    ):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer(connect_event(token, room), None)


class Room:
    def __init__(self, tmp_path: Path) -> None:
        self.delivery = RecordingDelivery()
        self.store = SqliteStore(tmp_path / "papo.sqlite3")
        self.chat = Chat(store=self.store, delivery=self.delivery)

    def join(self, cid: str, name: str, identity: Identity | None) -> str | None:
        """The refusal's code, or None when the name was taken."""
        self.chat.connect(cid, identity=identity)
        self.chat.act("setName", cid, json.dumps({"name": name}), identity)
        frames = self.delivery.take(cid)
        return next((str(f["code"]) for f in frames if "code" in f), None)


@pytest.fixture
def room(tmp_path: Path) -> Room:
    return Room(tmp_path)


def test_an_invite_for_one_name_takes_that_name_only(room: Room) -> None:
    ana = Identity("invite:a1", "Ana")
    assert room.join("A=", "Bruno", ana) == "name_bound"
    room.chat.act("setName", "A=", json.dumps({"name": "ana"}), ana)
    assert [m.name for m in room.store.members()] == ["ana"]


def test_a_name_taken_by_an_identity_is_that_identitys(room: Room) -> None:
    ana = Identity("oidc#ana-sub", "Ana")
    assert room.join("A=", "Ana", ana) is None
    room.chat.disconnect("A=")
    room.delivery.everyone()
    assert room.join("X=", "Ana", None) == "name_owned"  # let in with no identity
    assert room.join("Y=", "ANA", Identity("oidc#mallory", None)) == "name_owned"
    assert room.join("Z=", "Ana", ana) is None  # its owner gets it back


@pytest.mark.parametrize(
    ("claim", "shown"),
    [
        ("Maria Conceição da Silva Pereira Santos", "Maria Conceição da Silva Pereira"),
        ("Maria Conceição da Silva Pereira-Santos", "Maria Conceição da Silva"),
        ("Dr. Who: Jr", "Dr. Who Jr"),
        ("  Ana\u200b  Lima ", "Ana Lima"),
    ],
)
def test_a_claim_papos_rules_refuse_gives_a_name_they_accept(
    room: Room, claim: str, shown: str
) -> None:
    """An identity provider's display name may be long or hold a colon: asked
    for as the claim says it, or as papo made it, the person joins under the
    name papo made, and it is theirs."""
    maria = Identity("oidc#maria-sub", claim)
    assert room.join("A=", claim, maria) is None
    assert [m.name for m in room.store.members()] == [shown]
    room.chat.disconnect("A=")
    assert room.join("B=", shown, maria) is None
    assert room.join("C=", "Someone Else", maria) == "name_bound"
    assert room.join("D=", shown, Identity("oidc#other-sub", shown)) == "name_owned"


def test_two_people_with_one_display_name_both_join(room: Room) -> None:
    """The first owns the name; the second picks another, which is then theirs."""
    first, second = Identity("oidc#ana-1", "Ana"), Identity("oidc#ana-2", "Ana")
    assert room.join("A=", "Ana", first) is None
    assert room.join("B=", "Ana", second) == "name_owned"
    assert room.join("B=", "Ana Lima", second) is None
    assert room.join("C=", "Ana Lima", first) == "name_bound"
    assert sorted(m.name for m in room.store.members()) == ["Ana", "Ana Lima"]


def test_a_claim_with_nothing_papo_accepts_leaves_the_name_to_its_holder(room: Room) -> None:
    nobody = Identity("oidc#x-sub", "Bot")  # reserved: no name can be made of it
    assert room.join("A=", "Bot", nobody) == "name_reserved"
    assert room.join("A=", "Xavier", nobody) is None


def test_its_owner_gets_a_name_back_on_another_device(room: Room) -> None:
    ana = Identity("oidc#ana-sub", "Ana")
    room.join("PHONE=", "Ana", ana)
    room.join("B=", "Bruno", None)
    room.delivery.everyone()
    assert room.join("LAPTOP=", "Ana", ana) is None
    assert room.delivery.closed == ["PHONE="]
    assert sorted(m.connection_id for m in room.store.members()) == ["B=", "LAPTOP="]
    told = room.delivery.everyone()
    assert "B=" not in told  # Bruno saw nobody leave or join
    assert [f.get("code") for f in told["PHONE="]] == ["taken_over"]  # so it stays away


@pytest.fixture
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def id_token(issuer: str, sub: str, name: str, client_id: str = "papo") -> str:
    """An ID token, through the authorization code flow."""
    httpx.put(f"{issuer}/users/{sub}", json={"name": name}).raise_for_status()
    authorized = httpx.post(
        f"{issuer}/oauth2/authorize",
        params={
            "client_id": client_id,
            "redirect_uri": "http://localhost/back",
            "response_type": "code",
            "scope": "openid profile",
            "state": "s",
            "nonce": "n",
        },
        data={"sub": sub},
    )
    code = parse_qs(urlsplit(authorized.headers["location"]).query)["code"][0]
    tokens = httpx.post(
        f"{issuer}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost/back",
            "client_id": client_id,
            "client_secret": "papo-test",
        },
    )
    token: str = tokens.json()["id_token"]
    return token


@pytest.fixture
def oidc_access(provider: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PAPO_AUTH", "oidc")
    monkeypatch.setenv("PAPO_OIDC_ISSUER", provider)
    monkeypatch.setenv("PAPO_OIDC_AUDIENCE", "papo")
    issuers.forget_issuers()
    return provider


def test_a_valid_id_token_joins_with_its_name(oidc_access: str) -> None:
    answer = authorizer(connect_event(id_token(oidc_access, "ana-sub", "Ana")), None)
    assert answer["principalId"] == f"{oidc_access}#ana-sub"
    assert answer["context"]["name"] == "Ana"


def test_an_id_token_lets_its_holder_into_any_room(oidc_access: str) -> None:
    token = id_token(oidc_access, "ana-sub", "Ana")
    for room in (None, "main", "team", "Other-Room"):
        assert authorizer(connect_event(token, room), None)["context"]["name"] == "Ana"


def test_a_token_for_another_audience_is_refused(oidc_access: str) -> None:
    token = id_token(oidc_access, "ana-sub", "Ana", client_id="another-app")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer(connect_event(token), None)


def test_a_token_of_another_issuer_is_refused(oidc_access: str) -> None:
    with run_server_in_thread() as other:
        token = id_token(f"http://localhost:{other.server_port}", "ana-sub", "Ana")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer(connect_event(token), None)


def test_an_expired_token_is_refused(oidc_access: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with run_server_in_thread(access_token_max_age=timedelta(minutes=-5)) as stale:
        issuer = f"http://localhost:{stale.server_port}"
        monkeypatch.setenv("PAPO_OIDC_ISSUER", issuer)
        token = id_token(issuer, "ana-sub", "Ana")
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer(connect_event(token), None)


def test_a_bad_signature_is_refused(oidc_access: str) -> None:
    head, body, signature = id_token(oidc_access, "ana-sub", "Ana").split(".")
    forged = f"{head}.{body}.{signature[::-1]}"
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer(connect_event(forged), None)


def test_forged_tokens_naming_a_known_key_cost_the_issuer_nothing(oidc_access: str) -> None:
    """A token with a bad signature under a key the authorizer holds sends it to the
    issuer for nothing: the keys held are fresh, and the key id is known."""
    token = id_token(oidc_access, "ana-sub", "Ana")
    assert authorizer(connect_event(token), None)["context"]["name"] == "Ana"
    held = issuers.issuer(oidc_access)
    fetched_at = held._keys_fetched_at
    head, body, signature = token.split(".")
    for n in range(5):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer(connect_event(f"{head}.{body}.{signature[::-1]}{n}"), None)
    assert held._keys_fetched_at == fetched_at


def test_a_key_rotated_at_the_issuer_is_picked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token naming a key id the authorizer does not hold fetches the key set anew
    (once every REFETCH_EVERY_S: at once here, the first fetch being long past)."""
    monkeypatch.setattr(issuers, "REFETCH_EVERY_S", 0.0)
    monkeypatch.setenv("PAPO_AUTH", "oidc")
    monkeypatch.setenv("PAPO_OIDC_AUDIENCE", "papo")
    issuers.forget_issuers()
    with run_server_in_thread() as first:
        port = first.server_port
        issuer = f"http://localhost:{port}"
        monkeypatch.setenv("PAPO_OIDC_ISSUER", issuer)
        old = id_token(issuer, "ana-sub", "Ana")
        assert authorizer(connect_event(old), None)["context"]["name"] == "Ana"
    with run_server_in_thread(port=port):  # the same issuer, a new signing key
        new = id_token(issuer, "ana-sub", "Ana")
        assert authorizer(connect_event(new), None)["context"]["name"] == "Ana"
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer(connect_event(old), None)  # signed with the retired key


def test_papo_invite_prints_links_that_the_authorizer_lets_in(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from papo.cli import main

    monkeypatch.setenv("PAPO_INVITE_SECRET", SECRET.decode())
    monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))
    main(["invite", "--name", "Ana", "--hours", "2", "--page", "https://chat.example/"])
    page, wscat = capsys.readouterr().out.splitlines()
    token = parse_qs(urlsplit(page).query)["invite"][0]
    assert page.startswith("https://chat.example/?invite=")
    assert f"?token={token}'" in wscat
    invite = read_invite(SECRET, token, int(time.time()))
    assert invite.name == "Ana"
    assert 7_100 < invite.expires_at - time.time() <= 7_200


def test_papo_invite_for_a_room_puts_the_room_in_the_token_and_the_links(
    capsys: pytest.CaptureFixture[str], invite_access: None
) -> None:
    from papo.cli import main

    main(["invite", "--room", "Team", "--page", "https://chat.example/"])
    page, wscat = capsys.readouterr().out.splitlines()
    query = parse_qs(urlsplit(page).query)
    assert query["room"] == ["team"]
    assert read_invite(SECRET, query["invite"][0], int(time.time())).room == "team"
    websocket = parse_qs(urlsplit(wscat.removeprefix("wscat -c '").removesuffix("'")).query)
    assert websocket == {"room": ["team"], "token": query["invite"]}
    # what the link asks for, the authorizer lets in; elsewhere, not
    token = websocket["token"][0]
    assert authorizer(connect_event(token, websocket["room"][0]), None)
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer(connect_event(token), None)


def test_papo_invite_for_main_prints_the_links_as_before_rooms(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from papo.cli import main

    monkeypatch.setenv("PAPO_INVITE_SECRET", SECRET.decode())
    for argv in ([], ["--room", "main"], ["--room", "MAIN"]):
        main(["invite", *argv, "--page", "https://chat.example/"])
        page, wscat = capsys.readouterr().out.splitlines()
        assert parse_qs(urlsplit(page).query).keys() == {"invite"}
        assert "room=" not in wscat
        token = parse_qs(urlsplit(page).query)["invite"][0]
        assert read_invite(SECRET, token, int(time.time())).room == "main"


@pytest.mark.parametrize("room", ["team_2", "-team", "x" * 33, "équipe"])
def test_papo_invite_refuses_a_room_that_is_no_room(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], room: str
) -> None:
    from papo.cli import main

    monkeypatch.setenv("PAPO_INVITE_SECRET", SECRET.decode())
    with pytest.raises(SystemExit) as exit_:
        main(["invite", f"--room={room}"])
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--room" in captured.err
    assert "no room name" in captured.err


def test_a_resume_never_takes_a_name_its_identity_does_not_own(room: Room) -> None:
    """A session opened before the name's owner came resumes no more once
    the name is theirs: the token alone does not make its holder the owner."""
    squatter = None  # an invite for no name: anyone's, so nobody's identity
    room.chat.connect("S=", identity=squatter)
    room.chat.act("setName", "S=", json.dumps({"name": "Zoe", "resume": True}), squatter)
    token = next(f for f in room.delivery.take("S=") if "resumeToken" in f)["resumeToken"]
    room.delivery.gone.add("S=")
    room.chat.disconnect("S=")
    room.store.remove("S=")  # past the grace period
    zoe = Identity("invite:name:zoe", "Zoe")
    assert room.join("Z=", "Zoe", zoe) is None
    room.chat.disconnect("Z=")
    room.store.remove("Z=")
    room.chat.connect("S2=", identity=squatter)
    resume = {"name": "Zoe", "resume": {"token": token}}
    room.chat.act("setName", "S2=", json.dumps(resume), squatter)
    assert [f.get("code") for f in room.delivery.take("S2=")] == ["name_owned"]
    assert room.join("Z2=", "Zoe", zoe) is None


def test_a_forwarded_invite_taking_a_seat_is_told_to_the_room_and_the_one_taken_over(
    room: Room,
) -> None:
    bob = Identity("invite:name:bob", "Bob", access_mode="invite")
    room.join("BOB=", "Bob", bob)
    room.join("A=", "Ana", None)
    room.delivery.everyone()
    assert room.join("THIEF=", "Bob", bob) is None
    assert room.delivery.closed == ["BOB="]
    told = room.delivery.everyone()
    assert [f.get("code") for f in told["BOB="]] == ["taken_over"]
    assert [f.get("systemMessage") for f in told["A="]] == ["Bob is now on another device"]


def test_a_name_that_is_someones_sign_in_is_theirs_in_every_room(store: Store) -> None:
    """Someone whose sign-in names nobody papo accepts picks a name; the
    person whose sign-in names it takes it when they come, and owns it in
    every room (both stores)."""
    delivery = RecordingDelivery()
    chat = Chat(store=store, delivery=delivery)
    mallory, alice = Identity("oidc#mallory", None), Identity("oidc#alice", "Alice")

    def join(cid: str, name: str, identity: Identity, room: str = "main") -> str | None:
        chat.connect(cid, identity=identity, room=room)
        chat.act("setName", cid, json.dumps({"name": name}), identity)
        return next((str(f["code"]) for f in delivery.take(cid) if "code" in f), None)

    assert join("M=", "Alice", mallory) is None  # before the real Alice came
    assert join("W=", "Walter", Identity("oidc#walter", "Walter")) is None
    delivery.everyone()
    assert join("A=", "Alice", alice) is None
    told = delivery.everyone()
    assert [f.get("code") for f in told["M="]] == ["name_owned"]
    assert "M=" in delivery.closed
    assert [f["systemMessage"] for f in told["W="] if "systemMessage" in f] == [
        "Alice left the chat",
        "Alice joined the chat",
    ]
    assert join("M2=", "Alice", mallory, room="team") == "name_owned"
    assert join("M3=", "Walter", mallory, room="team") == "name_owned"
    assert join("A2=", "Alice", alice, room="team") is None


def test_the_name_an_invite_is_for_is_reserved_from_the_moment_it_is_made(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Nobody takes Zoe before Zoe comes, in any room; a second invite for
    Zoe is Zoe's too; an invite for a name someone else owns is not made."""
    from papo.cli import main

    monkeypatch.setenv("PAPO_INVITE_SECRET", SECRET.decode())
    monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))
    main(["invite", "--name", "Zoe"])
    main(["invite", "--name", "Zoe", "--room", "team"])
    capsys.readouterr()
    chat = Chat(store=SqliteStore(tmp_path / "papo.sqlite3"), delivery=RecordingDelivery())
    for cid, identity in (("ANY=", None), ("OLGA=", Identity("oidc#olga", None))):
        chat.connect(cid, identity=identity, room="team")
        chat.act("setName", cid, json.dumps({"name": "Zoe"}), identity)
        assert isinstance(chat.delivery, RecordingDelivery)
        assert [f.get("code") for f in chat.delivery.take(cid)] == ["name_owned"]
    olga = Identity("oidc#olga", "Olga")  # signed in as Olga
    chat.act("setName", "OLGA=", json.dumps({"name": "Olga"}), olga)
    with pytest.raises(SystemExit, match="someone else's"):
        main(["invite", "--name", "Olga"])
