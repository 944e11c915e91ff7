"""The API Gateway WebSocket event, typed once at the edge.

msgspec converts the event dict in microseconds and is already loaded;
Powertools' data classes would add their package's imports to every cold
start for the same few fields (`import papo.aws.handler`, median of 5 on
this machine: 193 ms with them, 162 ms without). base64 waits for the first
binary frame: the protocol's frames are text.
"""

from __future__ import annotations

from typing import Any

import msgspec

from papo.aws.identity_check import access_mode
from papo.core.ports import AnswerJob, Identity


class RequestContext(msgspec.Struct, rename="camel", frozen=True):
    route_key: str
    connection_id: str
    request_id: str
    domain_name: str
    stage: str
    authorizer: dict[str, Any] | None = None
    """What the `$connect` authorizer said (`principalId`, its context's keys),
    on every event of the connection."""

    @property
    def identity(self) -> Identity | None:
        if not self.authorizer or not self.authorizer.get("principalId"):
            return None
        if self.authorizer.get("anonymous") == "true":  # papo's authorizer: anyone's principal
            return None
        name = self.authorizer.get("name")
        role = self.authorizer.get("role")
        return Identity(
            str(self.authorizer["principalId"]),
            str(name) if name else None,
            access_mode(self.authorizer),
            str(role) if role else None,
        )


class WebSocketEvent(msgspec.Struct, rename="camel", frozen=True):
    request_context: RequestContext
    body: str | None = None
    is_base64_encoded: bool = False
    query_string_parameters: dict[str, str] | None = None
    """`$connect`'s query string (`?lang=pt-BR`)."""

    @classmethod
    def parse(cls, event: object) -> WebSocketEvent:
        return msgspec.convert(event, cls)

    @property
    def decoded_body(self) -> str | bytes | None:
        """The frame as the client sent it: text, or the bytes of a binary frame."""
        if self.is_base64_encoded and self.body is not None:
            import base64

            return base64.b64decode(self.body)
        return self.body


class AnswerEvent(msgspec.Struct, frozen=True):
    """What the function sends itself to have a bot answer produced (`papoAnswer`)."""

    job: AnswerJob
    endpoint: str
    """The Management API's URL of the API the question came through."""

    @classmethod
    def parse(cls, event: object) -> AnswerEvent:
        return msgspec.convert(event, cls)
