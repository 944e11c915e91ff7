"""API Gateway's mapping templates, as far as papo renders them: `$context` variables.

A MOCK integration's response template is Velocity (VTL). papo fills in the
`$context` variables a template names (`$context.connectionId`,
`${context.requestId}`, `$context.identity.sourceIp`, quiet `$!context.x`
too) from the request's context, which holds what the Lambda event's
`requestContext` holds; everything else (`#set`, `#if`, `$input`, `$util`) is
sent as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_CONTEXT = re.compile(r"\$!?(?:\{context\.([\w.]+)\}|context\.(\w+(?:\.\w+)*))")


def render(template: str, context: Mapping[str, Any]) -> str:
    """`template` with each `$context` variable the context has replaced by its value;
    a variable it has not is left as written."""

    def value(match: re.Match[str]) -> str:
        found: Any = context
        for part in (match[1] or match[2]).split("."):
            if not isinstance(found, Mapping) or part not in found:
                return match[0]
            found = found[part]
        return "" if found is None else str(found)

    return _CONTEXT.sub(value, template)
