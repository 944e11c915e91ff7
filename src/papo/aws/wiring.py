"""Builds the adapters a Lambda container reuses across invocations.

Only clients and connections are cached here, never chat state: that lives
in the store, so any container may serve any event.
"""

from __future__ import annotations

import functools
import re

from papo.bot.api_key import api_key
from papo.bot.openai_bot import OpenAiBot
from papo.delivery.fanout import FanoutDelivery
from papo.delivery.management_api import Endpoint, ManagementApiClient
from papo.delivery.sigv4 import SigV4Signer, botocore_credentials
from papo.ports import Store
from papo.settings import Settings

_REGION_IN_DOMAIN = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")


@functools.cache
def store(settings: Settings) -> Store:
    if settings.store == "dynamodb":
        import boto3

        from papo.store.dynamodb import DynamoDbStore

        return DynamoDbStore(boto3.client("dynamodb", region_name=settings.region), settings.table)
    from papo.store.sqlite import SqliteStore

    return SqliteStore(settings.sqlite_path)


def endpoint_url(settings: Settings, domain_name: str, stage: str) -> str:
    """The Management API's URL: configured, or the event's `https://{domainName}/{stage}`."""
    return settings.management_endpoint or f"https://{domain_name}/{stage}"


@functools.cache
def delivery(settings: Settings, url: str) -> FanoutDelivery:
    endpoint = Endpoint.parse(url)
    found = _REGION_IN_DOMAIN.search(endpoint.hostname)
    region = settings.region or (found.group(1) if found else "us-east-1")
    credentials = botocore_credentials()
    signer = None if credentials is None else SigV4Signer(credentials, region)
    return FanoutDelivery(
        ManagementApiClient(endpoint, signer), max_workers=settings.fanout_workers
    )


@functools.cache
def bot(settings: Settings) -> OpenAiBot:
    return OpenAiBot(
        settings.openai, functools.partial(api_key, settings.key_parameter, settings.key_secret)
    )
