"""What `sam deploy --guided` saved in `deploy/samconfig.toml`, for `make deploy`'s
other steps: the stack's name, its region, and the template's parameters.

SAM CLI writes them under `[default.deploy.parameters]` (the region under
`[default.global.parameters]` too), the parameters as one string of
`Key="Value"` pairs (a list of them is read too). A `--parameter-overrides`
on SAM's command line replaces the saved ones whole, so whoever passes one
passes them all (`overrides`).
"""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PATH = Path(__file__).resolve().parent / "samconfig.toml"


@dataclass(frozen=True)
class Saved:
    stack: str | None = None
    region: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)


def _section(config: Mapping[str, Any], command: str) -> Mapping[str, Any]:
    found = config.get("default", {}).get(command, {}).get("parameters", {})
    return found if isinstance(found, Mapping) else {}


def parameters(saved: object) -> dict[str, str]:
    """`Key="Value" Other="…"` (or a list of such) as a dict."""
    pairs = saved if isinstance(saved, list) else [saved] if isinstance(saved, str) else []
    found: dict[str, str] = {}
    for pair in pairs:
        for word in shlex.split(str(pair)):
            key, equals, value = word.partition("=")
            if not equals:
                raise SystemExit(f"samconfig.toml: parameter_overrides has {word!r}, not Key=Value")
            found[key] = value
    return found


def read(path: Path = PATH) -> Saved:
    """What the file saved; nothing when there is no file."""
    if not path.is_file():
        return Saved()
    try:
        config = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise SystemExit(f"{path}: {error}") from None
    deploy, common = _section(config, "deploy"), _section(config, "global")
    stack = deploy.get("stack_name") or common.get("stack_name")
    region = deploy.get("region") or common.get("region")
    return Saved(
        stack=str(stack) if stack else None,
        region=str(region) if region else None,
        parameters=parameters(deploy.get("parameter_overrides")),
    )


def overrides(values: Mapping[str, str]) -> list[str]:
    """`--parameter-overrides`' words, one `Key="Value"` each, quoted as SAM CLI saves them."""
    return [f'{key}="{value.replace(chr(34), chr(92) + chr(34))}"' for key, value in values.items()]
