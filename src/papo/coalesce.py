"""Batching a streamed answer into few posts: the first piece at once, then
whatever has arrived every `interval_s`, or sooner once `max_chars` gathered.

The upstream is read in a thread of its own, so that a slow post never
holds back reading and a pause upstream never holds back text already read.
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
    max_chars: int,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """Yields the text of `pieces` in batches; an exception of `pieces` is
    raised after the text read before it has been yielded."""
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
    due = clock()
    while True:
        timeout = max(0.0, due - clock()) if buffer else None
        try:
            item = inbox.get(timeout=timeout)
        except queue.Empty:
            item = None
        if isinstance(item, str):
            if item:
                buffer.append(item)
                size += len(item)
            if size < max_chars and clock() < due:
                continue
        if buffer:
            yield "".join(buffer)
            buffer, size = [], 0
            due = clock() + interval_s
        if item is _END:
            return
        if isinstance(item, BaseException):
            raise item
