"""The `Delivery` port over the Management API: one post, or many in flight."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from papo.adapters.delivery.management_api import (
    GoneError,
    HttpTransport,
    ManagementApiClient,
    ManagementApiError,
    backoff_s,
)
from papo.core.ports import Envelope

if TYPE_CHECKING:
    from papo.adapters.delivery.inflight import InFlight

logger = logging.getLogger(__name__)


class FanoutDelivery:
    """The `Delivery` port over the Management API.

    A batch goes out with up to `max_workers` posts in flight, each on its
    own keep-alive connection (`papo.adapters.delivery.inflight`, which says
    what happens to throttled, failed and gone connections); a single
    envelope, or any batch when the client was handed a transport other than
    the network's (`papo serve`'s in process), is posted in the calling
    thread. Whatever goes wrong with one post, even what papo did not
    foresee, is logged and skips only that frame.
    """

    def __init__(
        self,
        client: ManagementApiClient,
        max_workers: int = 64,
        *,
        backoff: Callable[[int], float] = backoff_s,
    ) -> None:
        self.client = client
        self._max_workers = max_workers
        self._backoff = backoff
        self._in_flight: InFlight | None = None
        self._lock = threading.Lock()

    def send(self, envelopes: Sequence[Envelope]) -> set[str]:
        gone: set[str] = set()
        http = self.client.http
        if len(envelopes) > 1 and http is not None:
            return self._posts_in_flight(http).send(envelopes)
        # Nothing to wait for: a loop would only add its own overhead.
        for envelope in envelopes:
            self._post_in_turn(envelope, gone)
        return gone

    def close(self, connection_id: str) -> None:
        try:
            self.client.delete(connection_id)
        except GoneError:
            pass
        except ManagementApiError as error:
            logger.warning(
                "close failed", extra={"connection_id": connection_id, "status": error.status}
            )
        except Exception:  # a close that failed must not undo what came before it (a resume)
            logger.exception("close failed", extra={"connection_id": connection_id})

    def is_open(self, connection_id: str) -> bool:
        try:
            self.client.get(connection_id)
        except GoneError:
            return False
        except ManagementApiError as error:
            logger.warning(
                "connection not looked up",
                extra={"connection_id": connection_id, "status": error.status},
            )
        return True

    def shutdown(self) -> None:
        """Closes the connections and stops the loop (a container never needs to)."""
        with self._lock:
            in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.shutdown()
        self.client.close()

    def _posts_in_flight(self, http: HttpTransport) -> InFlight:
        with self._lock:
            if self._in_flight is None:
                from papo.adapters.delivery.inflight import InFlight

                self._in_flight = InFlight(
                    http,
                    self._max_workers,
                    timeout_s=self.client.timeout_s,
                    backoff=self._backoff,
                )
            return self._in_flight

    def _post_in_turn(self, envelope: Envelope, gone: set[str]) -> None:
        for frame in envelope.frames:
            try:
                self.client.post(envelope.connection_id, frame)
            except GoneError:
                gone.add(envelope.connection_id)
                return
            except ManagementApiError as error:
                logger.warning(
                    "post failed",
                    extra={
                        "connection_id": envelope.connection_id,
                        "status": error.status,
                        "detail": error.detail,
                    },
                )
            except Exception:
                logger.exception("post failed", extra={"connection_id": envelope.connection_id})
