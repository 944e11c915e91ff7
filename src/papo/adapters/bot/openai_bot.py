"""The bot over the official OpenAI SDK: Chat Completions, streamed.

Chat Completions is the API every OpenAI-compatible server speaks (Ollama,
vLLM, llama.cpp, LiteLLM, Azure OpenAI), so `base_url` may name any of them.
The SDK is imported on the first question, so that the other routes' cold
start does not pay for it. Its own retries (with backoff, honouring
`Retry-After`) happen before the first piece of the answer only, which is
when retrying cannot repeat text the room has seen.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from papo.core.ports import BotError, BotFailure, Turn

if TYPE_CHECKING:
    import openai

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-5.4-mini"


class OpenAiSettings(msgspec.Struct, frozen=True):
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    temperature: float | None = None
    """None: not sent (current OpenAI models choose their own)."""
    timeout_s: float = 30.0
    max_retries: int = 2
    moderation_model: str = "omni-moderation-latest"


@functools.lru_cache(maxsize=4)
def _client(settings: OpenAiSettings, key: str) -> openai.OpenAI:
    import openai

    return openai.OpenAI(
        api_key=key,
        base_url=settings.base_url,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
    )


def _failure(error: Exception, *, streaming: bool) -> BotError:
    """What an SDK exception means for the room; logged without the upstream's
    message, which may quote the key."""
    import openai

    status = getattr(error, "status_code", None)
    logger.warning("bot upstream failed", extra={"error": type(error).__name__, "status": status})
    if isinstance(error, openai.APITimeoutError):
        return BotError(BotFailure.TIMEOUT)
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return BotError(BotFailure.UNAUTHORIZED)
    if isinstance(error, openai.RateLimitError):
        return BotError(BotFailure.RATE_LIMITED, _retry_after(error.response.headers))
    if isinstance(error, openai.APIStatusError) and error.status_code < 500:
        return BotError(BotFailure.REFUSED)
    if streaming:
        return BotError(BotFailure.INTERRUPTED)
    return BotError(BotFailure.FAILED)


def _retry_after(headers: Any) -> float | None:
    try:
        return float(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None


class OpenAiReply:
    def __init__(self, stream: openai.Stream[Any]) -> None:
        self._stream = stream
        self._tokens: int | None = None
        self._closed = False

    @property
    def tokens(self) -> int | None:
        return self._tokens

    def __iter__(self) -> Iterator[str]:
        import openai

        finished = False
        try:
            for chunk in self._stream:
                if chunk.usage is not None:
                    self._tokens = chunk.usage.total_tokens
                for choice in chunk.choices:
                    if choice.delta is not None and choice.delta.content:
                        yield choice.delta.content
                    if choice.finish_reason is not None:
                        finished = True
        except openai.APIError as error:
            if self._closed:  # stopped here: the answer is over, not broken
                return
            raise _failure(error, streaming=True) from None
        except ValueError as error:  # an event that is not JSON, or not a chunk
            logger.warning("bot upstream sent garbage", extra={"error": type(error).__name__})
            raise BotError(BotFailure.INTERRUPTED) from None
        if not finished:
            logger.warning("bot upstream ended without a finish reason")
            raise BotError(BotFailure.INTERRUPTED)

    def close(self) -> None:
        self._closed = True
        self._stream.close()


class OpenAiBot:
    def __init__(self, settings: OpenAiSettings, api_key: Callable[[], str | None]) -> None:
        self.settings = settings
        self._api_key = api_key

    def _key(self) -> str:
        key = self._api_key()
        if key is None:
            raise BotError(BotFailure.NOT_CONFIGURED)
        return key

    def check(self) -> None:
        self._key()

    def flagged(self, text: str) -> bool:
        """OpenAI's moderation endpoint: whether any category flags `text`."""
        import openai

        settings = self.settings
        try:
            answer = _client(settings, self._key()).moderations.create(
                model=settings.moderation_model, input=text
            )
        except openai.APIError as error:
            raise _failure(error, streaming=False) from None
        return any(result.flagged for result in answer.results)

    def ask(self, turns: Sequence[Turn], max_tokens: int, model: str | None = None) -> OpenAiReply:
        import openai

        settings = self.settings
        options: dict[str, Any] = {}
        if settings.temperature is not None:
            options["temperature"] = settings.temperature
        messages: list[Any] = [{"role": t.role, "content": t.content} for t in turns]
        try:
            stream = _client(settings, self._key()).chat.completions.create(
                model=model or settings.model,
                messages=messages,
                max_completion_tokens=max_tokens,
                stream=True,
                stream_options={"include_usage": True},
                **options,
            )
        except openai.APIError as error:
            raise _failure(error, streaming=False) from None
        return OpenAiReply(stream)
