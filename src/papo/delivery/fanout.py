"""Posting a batch of envelopes concurrently, on a bounded pool of threads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from papo.delivery.management_api import GoneError, ManagementApiClient, ManagementApiError
from papo.ports import Envelope

logger = logging.getLogger(__name__)


class FanoutDelivery:
    """The `Delivery` port over the Management API.

    A batch is split among at most `max_workers` threads, each posting from
    a shared iterator over its own keep-alive connection; an envelope's
    frames go out in order; a connection found gone gets no more, and
    any other failure is logged and skips only that frame.
    """

    def __init__(
        self,
        client: ManagementApiClient,
        executor: ThreadPoolExecutor | None = None,
        max_workers: int = 16,
    ) -> None:
        self.client = client
        self._executor = executor or ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="papo-post"
        )
        self._max_workers = max_workers

    def send(self, envelopes: Sequence[Envelope]) -> set[str]:
        gone: set[str] = set()
        if len(envelopes) == 1 or self.client.in_process:
            # Nothing to wait for: threads would only add their own overhead.
            self._drain(iter(envelopes), gone, threading.Lock())
            return gone
        shared, lock = iter(envelopes), threading.Lock()
        workers = [
            self._executor.submit(self._drain, shared, gone, lock)
            for _ in range(min(self._max_workers, len(envelopes)))
        ]
        for worker in workers:
            worker.result()
        return gone

    def _drain(self, envelopes: Iterator[Envelope], gone: set[str], lock: threading.Lock) -> None:
        while True:
            with lock:
                envelope = next(envelopes, None)
            if envelope is None:
                return
            for frame in envelope.frames:
                try:
                    self.client.post(envelope.connection_id, frame)
                except GoneError:
                    with lock:
                        gone.add(envelope.connection_id)
                    break
                except ManagementApiError as error:
                    logger.warning(
                        "post failed",
                        extra={
                            "connection_id": envelope.connection_id,
                            "status": error.status,
                            "detail": error.detail,
                        },
                    )
