"""Refusals as error frames: the one place where a refusal becomes words."""

from __future__ import annotations

from papo.core import protocol
from papo.core.refusals import Refusal
from papo.core.texts import Texts


def error_frame(
    refusal: Refusal,
    texts: Texts,
    *,
    action: str | None,
    for_course_clients: bool = True,
    **extra: str | int | None,
) -> bytes:
    """The error frame telling one reader, in their language, what was refused
    and, where it helps, after how many seconds to try again (`retryAfter`)."""
    return protocol.error_frame(
        refusal.code,
        texts.refusal(refusal),
        action=action,
        for_course_clients=for_course_clients,
        retryAfter=refusal.retry_after_s,
        **extra,
    )
