"""Builds the adapters a Lambda container reuses across invocations.

Only clients and connections are cached here, never chat state: that lives
in the store, so any container may serve any event. Each adapter's modules
are imported when it is first built, not with the handler: the cold start
loads only what the first event needs (`$connect` posts nothing, so the
Management API's HTTP and TLS stack and botocore's credentials wait for the
first frame; the OpenAI SDK waits for the first question to the bot).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from papo.aws.fanout import SplitDelivery, claim
from papo.aws.self_invoke import self_invoker
from papo.core.clock import now_ms
from papo.settings import Settings

if TYPE_CHECKING:
    from papo.adapters.bot.openai_bot import OpenAiBot
    from papo.adapters.delivery.fanout import FanoutDelivery
    from papo.adapters.delivery.management_api import ManagementApiClient, Transport
    from papo.core.ports import Envelope, Store

_REGION_IN_DOMAIN = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")


@functools.cache
def store(settings: Settings) -> Store:
    if settings.store == "dynamodb":
        import boto3

        from papo.adapters.store.dynamodb import DynamoDbStore

        return DynamoDbStore(boto3.client("dynamodb", region_name=settings.region), settings.table)
    from papo.adapters.store.sqlite import SqliteStore

    return SqliteStore(settings.sqlite_path)


def endpoint_url(settings: Settings, domain_name: str, stage: str) -> str:
    """The Management API's URL: configured, or the event's `https://{domainName}/{stage}`."""
    return settings.management_endpoint or f"https://{domain_name}/{stage}"


class Delivery:
    """The Management API's fan-out, built at the first frame to post or connection
    to close; over the network, unless it is given a `transport`."""

    def __init__(self, settings: Settings, url: str, transport: Transport | None = None) -> None:
        self.settings = settings
        self.url = url
        self.transport = transport

    @functools.cached_property
    def _fanout(self) -> FanoutDelivery:
        from papo.adapters.delivery.fanout import FanoutDelivery
        from papo.adapters.delivery.management_api import Endpoint, ManagementApiClient
        from papo.adapters.delivery.sigv4 import SigV4Signer, botocore_credentials

        endpoint = Endpoint.parse(self.url)
        if self.transport is not None:
            client = ManagementApiClient(endpoint, None, transport=self.transport)
            return FanoutDelivery(client, max_workers=self.settings.fanout_workers)
        found = _REGION_IN_DOMAIN.search(endpoint.hostname)
        region = self.settings.region or (found.group(1) if found else "us-east-1")
        credentials = botocore_credentials()
        signer = None if credentials is None else SigV4Signer(credentials, region)
        client = ManagementApiClient(endpoint, signer)
        return FanoutDelivery(client, max_workers=self.settings.fanout_workers)

    @property
    def client(self) -> ManagementApiClient:
        return self._fanout.client

    def send(self, envelopes: Sequence[Envelope]) -> set[str]:
        return self._fanout.send(envelopes)

    def close(self, connection_id: str) -> None:
        self._fanout.close(connection_id)

    def is_open(self, connection_id: str) -> bool:
        return self._fanout.is_open(connection_id)


@functools.cache
def delivery(settings: Settings, url: str, transport: Transport | None = None) -> Delivery:
    return Delivery(settings, url, transport)


def in_process_transport(context: object, url: str) -> Transport | None:
    """The Management API at `url` in this very process, when `papo serve` runs
    this handler in its threads and serves that URL (its context's
    `in_process_management_api`, by URL); else None: calls go over the network."""
    served = getattr(context, "in_process_management_api", None)
    return served.get(url.rstrip("/")) if isinstance(served, Mapping) else None


def split_delivery(
    settings: Settings, url: str, function_name: str, transport: Transport | None = None
) -> SplitDelivery:
    """The delivery of an invocation that hands big fan-outs' shares to other
    invocations of `function_name` (see `papo.aws.fanout`)."""
    counters = store(settings)
    return SplitDelivery(
        delivery(settings, url, transport),
        split=settings.fanout_split,
        endpoint=url,
        invoke=self_invoker(function_name),
        claim=lambda share_id: claim(counters, share_id, now_ms()),
    )


@functools.cache
def bot(settings: Settings) -> OpenAiBot:
    from papo.adapters.bot.api_key import api_key
    from papo.adapters.bot.openai_bot import OpenAiBot

    return OpenAiBot(
        settings.openai, functools.partial(api_key, settings.key_parameter, settings.key_secret)
    )
