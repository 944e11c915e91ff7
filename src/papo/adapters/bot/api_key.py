"""Where the bot's API key comes from: SSM Parameter Store or Secrets Manager on
AWS (read once per container through Powertools Parameters, which caches it),
else `OPENAI_API_KEY` in the environment (which `papo serve` fills from a
`.env` file). The key is never logged."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping

logger = logging.getLogger(__name__)

CACHE_SECONDS = 24 * 60 * 60


def api_key(
    parameter: str | None, secret: str | None, environ: Mapping[str, str] = os.environ
) -> str | None:
    """The key, or None when none is configured or it could not be read."""
    if parameter or secret:
        from aws_lambda_powertools.utilities import parameters

        try:
            if parameter:
                value = parameters.get_parameter(parameter, decrypt=True, max_age=CACHE_SECONDS)
            else:
                value = parameters.get_secret(str(secret), max_age=CACHE_SECONDS)
        except parameters.exceptions.GetParameterError as error:
            # The cause names the parameter and AWS's reason, never the value.
            logger.error("bot key unreadable", extra={"reason": str(error.__cause__ or error)})
            return None
        return _from_secret(str(value))
    return environ.get("OPENAI_API_KEY", "").strip() or None


def _from_secret(value: str) -> str | None:
    """The key itself, or, in a secret of key/value pairs (the Secrets Manager
    console's default), the one named `OPENAI_API_KEY`."""
    value = value.strip()
    if value.startswith("{"):
        try:
            pairs = json.loads(value)
        except ValueError:
            return None
        found = pairs.get("OPENAI_API_KEY") if isinstance(pairs, dict) else None
        if not isinstance(found, str):
            return None
        value = found.strip()
    return value or None
