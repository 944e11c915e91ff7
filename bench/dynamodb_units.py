"""Sizes and capacity units of DynamoDB items, by DynamoDB's rules.

Items are in the low-level form botocore sends and receives
(`{"name": {"S": "Ana"}}`). The rules: a string counts its UTF-8 bytes, a
binary its bytes, a number about one byte per two significant digits plus
one, a boolean or null one byte, a list or map three bytes plus one per
element and what its elements count; every attribute adds its name's bytes.
"""

from __future__ import annotations

import math
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return _number_size(str(raw))
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in raw)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in raw.items())
    raise ValueError(f"not a DynamoDB attribute value: {value!r}")


def _number_size(number: str) -> int:
    digits = number.lstrip("-").replace(".", "").lstrip("0").split("e")[0].split("E")[0]
    return len(digits.rstrip("0") or "0") // 2 + 1


def read_units(sizes: list[int], *, consistent: bool = True) -> float:
    """One call's read units: a unit per 4 KB of all it read, rounded up (half
    of that for an eventually consistent read)."""
    units = max(1, math.ceil(sum(sizes) / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def write_units(item: dict[str, Any]) -> int:
    """A write's units: one per KB of the item, rounded up."""
    return max(1, math.ceil(item_size(item) / WRITE_UNIT_BYTES))
