"""papo's logs: the standard library's `logging`, one JSON object a line.

On Lambda with `LoggingConfig: LogFormat: JSON` the runtime writes each
record as JSON itself, `extra` keys included; anywhere else (papo serve,
tests, Lambda's text format) `setup` gives the `papo` logger a handler that
writes the same shape to standard output. Nothing here imports more than the
standard library and msgspec, so the cold start stays small.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import msgspec

LOGGER = "papo"

_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_encode = msgspec.json.Encoder().encode


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message, the `extra`
    keys, and the exception's type and text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info and record.exc_info[0] is not None:
            line["exception_name"] = record.exc_info[0].__name__
            line["exception"] = self.formatException(record.exc_info)
        return _encode(line).decode()


_HANDLER = "papo-json-lines"


def setup() -> logging.Logger:
    """The `papo` logger, writing JSON lines unless Lambda's runtime already does."""
    logger = logging.getLogger(LOGGER)
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        return logger
    # By name: a module imported anew (`papo serve --reload`) has a class of its own.
    if not any(h.name == _HANDLER for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.set_name(_HANDLER)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL") or logging.INFO)
    return logger
