"""Batching a streamed answer into few posts: the first piece at once; then
what has arrived, every `interval_s` once at least `min_chars` have gathered
(so a slow model does not cost a post per word), at the latest every
`max_wait_s`, and at once when `max_chars` have gathered.

The upstream is read in a thread of its own, so that a slow post never
holds back reading and a pause upstream never holds back text already read;
and so that `stop`, asked every `check_every_s` even while the upstream is
silent, ends the batches promptly (its reader then has the upstream closed).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator

_END = object()


def coalesce(
    pieces: Iterable[str],
    *,
    interval_s: float,
    min_chars: int,
    max_wait_s: float,
    max_chars: int,
    clock: Callable[[], float] = time.monotonic,
    stop: Callable[[], bool] | None = None,
    check_every_s: float = 0.5,
) -> Iterator[str]:
    """Yields the text of `pieces` in batches; an exception of `pieces` is
    raised after the text read before it has been yielded. Once `stop` says
    so, what was read is yielded and the batches end."""
    max_wait_s = max(max_wait_s, interval_s)
    inbox: queue.SimpleQueue[object] = queue.SimpleQueue()

    def read() -> None:
        try:
            for piece in pieces:
                inbox.put(piece)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            inbox.put(error)
        else:
            inbox.put(_END)

    threading.Thread(target=read, name="papo-bot-stream", daemon=True).start()
    buffer: list[str] = []
    size = 0
    first = True
    last = clock()
    next_check = last + check_every_s
    while True:
        timeout = None
        if buffer:
            wait = interval_s if size >= min_chars else max_wait_s
            timeout = max(0.0, last + wait - clock())
        if stop is not None:
            until_check = max(0.0, next_check - clock())
            timeout = until_check if timeout is None else min(timeout, until_check)
        try:
            item = inbox.get(timeout=timeout)
        except queue.Empty:
            item = None
        if stop is not None and clock() >= next_check:
            next_check = clock() + check_every_s
            if stop():
                if buffer:
                    yield "".join(buffer)
                return
        if isinstance(item, str):
            if item:
                buffer.append(item)
                size += len(item)
            waited = clock() - last
            ready = (
                (first and size > 0)
                or size >= max_chars
                or (waited >= interval_s and size >= min_chars)
                or waited >= max_wait_s
            )
            if not ready:
                continue
        if buffer:
            yield "".join(buffer)
            buffer, size, first = [], 0, False
            last = clock()
        if item is _END:
            return
        if isinstance(item, BaseException):
            raise item
