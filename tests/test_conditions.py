"""A template's conditions under `papo serve`, as CloudFormation applies them."""

from __future__ import annotations

import pytest

from papo.local.conditions import ConditionError, apply

TEMPLATE = {
    "Parameters": {"Mode": {"Default": "a"}},
    "Conditions": {
        "IsA": {"Fn::Equals": [{"Ref": "Mode"}, "a"]},
        "NotA": {"Fn::Not": [{"Condition": "IsA"}]},
        "Both": {"Fn::And": [{"Condition": "IsA"}, {"Fn::Equals": ["x", "x"]}]},
        "Either": {"Fn::Or": [{"Condition": "NotA"}, {"Fn::Equals": ["x", "y"]}]},
    },
    "Resources": {
        "Always": {
            "Type": "T",
            "Properties": {
                "Pick": {"Fn::If": ["IsA", "first", "second"]},
                "Gone": {"Fn::If": ["Both", {"Ref": "AWS::NoValue"}, "kept"]},
                "List": ["one", {"Fn::If": ["Either", "two", {"Ref": "AWS::NoValue"}]}],
            },
        },
        "OnlyA": {"Type": "T", "Condition": "IsA"},
        "OnlyNotA": {"Type": "T", "Condition": "NotA"},
    },
}


def params(mode: str) -> dict[str, str]:
    return {"Mode": mode}


@pytest.mark.parametrize(
    ("mode", "resources", "properties"),
    [
        ("a", {"Always", "OnlyA"}, {"Pick": "first", "List": ["one"]}),
        ("b", {"Always", "OnlyNotA"}, {"Pick": "second", "Gone": "kept", "List": ["one", "two"]}),
    ],
)
def test_conditions_choose_resources_and_values(
    mode: str, resources: set[str], properties: dict[str, object]
) -> None:
    applied = apply(TEMPLATE, lambda name: params(mode).get(name, name))
    assert set(applied["Resources"]) == resources
    assert applied["Resources"]["Always"]["Properties"] == properties


def test_an_unknown_condition_is_named() -> None:
    broken = {"Resources": {"R": {"Type": "T", "Condition": "Nope"}}}
    with pytest.raises(ConditionError, match="Nope"):
        apply(broken, str)
