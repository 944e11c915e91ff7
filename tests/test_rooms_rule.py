"""What a room's name may be (`papo.core.rooms`): 1 to 32 of a-z, 0-9 and '-',
neither first nor last a '-', folded to lower case; none is `main`."""

from __future__ import annotations

import pytest

from papo.core.rooms import ROOM_DEFAULT, room_name


def test_no_room_is_main() -> None:
    assert ROOM_DEFAULT == "main"
    assert room_name(None) == "main"
    assert room_name("") == "main"


@pytest.mark.parametrize(
    ("raw", "room"),
    [
        ("main", "main"),
        ("team", "team"),
        ("TEAM", "team"),
        ("Team-2", "team-2"),
        ("a", "a"),
        ("7", "7"),
        ("a-b", "a-b"),
        ("a--b", "a--b"),
        ("x" * 32, "x" * 32),
        ("X" * 32, "x" * 32),
    ],
)
def test_a_room_name_is_taken_in_lower_case(raw: str, room: str) -> None:
    assert room_name(raw) == room


@pytest.mark.parametrize(
    "raw",
    [
        "x" * 33,
        "-team",
        "team-",
        "-",
        "te am",
        " team",
        "team\n",
        "team_2",
        "team.2",
        "team/2",
        "équipe",
        "sala-ç",
        "\u212aelvin",  # the Kelvin sign, which lower() folds into `k`
        "\u0131d",  # dotless i
        "\uff54\uff45\uff41\uff4d",  # fullwidth "team"
        "team\x00",
    ],
)
def test_anything_else_is_no_room(raw: str) -> None:
    with pytest.raises(ValueError, match="no room name"):
        room_name(raw)
