"""A template's `Conditions`, as CloudFormation applies them before anything else:
resources whose `Condition` is false are left out, `Fn::If` takes its branch,
and `AWS::NoValue` removes the property or list item it stands for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_NO_VALUE = {"Ref": "AWS::NoValue"}
_DROPPED = object()


class ConditionError(ValueError):
    """A condition papo cannot evaluate."""


def apply(template: Mapping[str, Any], ref: Callable[[str], str]) -> dict[str, Any]:
    """The template with its conditions applied; `ref` gives a parameter's value."""
    definitions = template.get("Conditions") or {}
    known: dict[str, bool] = {}

    def holds(name: str) -> bool:
        if name not in known:
            if name not in definitions:
                raise ConditionError(f"no condition {name!r}")
            known[name] = truth(definitions[name])
        return known[name]

    def operand(node: Any) -> str:
        if isinstance(node, dict) and set(node) == {"Ref"}:
            return ref(str(node["Ref"]))
        return str(node)

    def truth(node: Any) -> bool:
        if not isinstance(node, dict) or len(node) != 1:
            raise ConditionError(f"not a condition: {node!r}")
        ((kind, argument),) = node.items()
        if kind == "Fn::Equals":
            left, right = argument
            return operand(left) == operand(right)
        if kind == "Fn::Not":
            return not truth(argument[0] if isinstance(argument, list) else argument)
        if kind == "Fn::And":
            return all(truth(item) for item in argument)
        if kind == "Fn::Or":
            return any(truth(item) for item in argument)
        if kind in ("Condition", "Fn::Condition"):
            return holds(str(argument))
        raise ConditionError(f"papo serve does not evaluate {kind} in a condition")

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if node == _NO_VALUE:
                return _DROPPED
            if set(node) == {"Fn::If"}:
                name, when_true, when_false = node["Fn::If"]
                return walk(when_true if holds(str(name)) else when_false)
            kept = {key: walk(value) for key, value in node.items()}
            return {key: value for key, value in kept.items() if value is not _DROPPED}
        if isinstance(node, list):
            return [item for item in map(walk, node) if item is not _DROPPED]
        return node

    resources = {
        name: resource
        for name, resource in (template.get("Resources") or {}).items()
        if "Condition" not in resource or holds(str(resource["Condition"]))
    }
    return {**template, "Resources": walk(resources)}
