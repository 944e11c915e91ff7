"""A handler whose module does not import: it needs a package the function lacks."""

from __future__ import annotations

from typing import Any

import a_package_this_function_lacks  # type: ignore[import-not-found]  # noqa: F401


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200}
