"""A recording `Delivery` for chat-core tests: what each connection was sent."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence

from papo.core.ports import Envelope


class RecordingDelivery:
    def __init__(self) -> None:
        self.sent: dict[str, list[dict[str, object]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.closed: list[str] = []

    def send(self, envelopes: Sequence[Envelope]) -> set[str]:
        gone = set()
        for envelope in envelopes:
            if envelope.connection_id in self.gone:
                gone.add(envelope.connection_id)
                continue
            for frame in envelope.frames:
                self.sent[envelope.connection_id].append(json.loads(frame))
        return gone

    def close(self, connection_id: str) -> None:
        self.closed.append(connection_id)
        self.gone.add(connection_id)

    def is_open(self, connection_id: str) -> bool:
        return connection_id not in self.gone

    def take(self, connection_id: str) -> list[dict[str, object]]:
        """The frames sent to a connection since the last take."""
        return self.sent.pop(connection_id, [])

    def everyone(self) -> dict[str, list[dict[str, object]]]:
        taken = dict(self.sent)
        self.sent.clear()
        return taken
