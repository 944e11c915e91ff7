"""`papo conformance wss://…/stage`: runs the checks and prints their table."""

from __future__ import annotations

import argparse
import asyncio
import sys

from papo.conformance import WAIT_S


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "conformance",
        help="check that a stage behaves as API Gateway's WebSocket API does",
        description="Run, from a client's side, the behaviours of API Gateway's WebSocket "
        "API that papo serve reproduces, against a stage running papo's echo handler "
        "(papo.conformance.echo:handler), papo serve's or AWS's, and print a table of what "
        "held. Exit status 0 only when every check asked for held.",
    )
    parser.add_argument("url", metavar="URL", help="the stage's address, wss://…/STAGE")
    parser.add_argument(
        "--management-endpoint",
        default="",
        metavar="URL",
        help="its @connections Management API [default: the https:// form of URL]; "
        "calls are signed with your AWS credentials as boto3 finds them",
    )
    parser.add_argument(
        "--region",
        default="",
        help="the region to sign for [default: the one URL names, else boto3's]",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=WAIT_S,
        metavar="SECONDS",
        help=f"how long a check waits for an answer the stage owes it [default: {WAIT_S:g}]",
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=None,
        metavar="SECONDS",
        help="also check that an idle connection closes at this idle timeout "
        "(API Gateway's: 600; takes as long)",
    )


def main(args: argparse.Namespace) -> None:
    """Runs the checks: they need websockets, of papo's local extra, which a bare
    `pip install papo` (the handler alone) lacks."""
    try:
        import boto3

        from papo.conformance.checks import (
            FAILED,
            Target,
            management_url_of,
            region_of,
            run,
            table,
        )
    except ImportError as missing:
        raise SystemExit(
            f"papo conformance needs papo's local extra ({missing.name} is missing): "
            "pip install 'papo[local]'"
        ) from None
    try:
        management = args.management_endpoint or management_url_of(args.url)
    except ValueError as error:
        raise SystemExit(f"papo conformance: {error}") from None
    region = (
        args.region or region_of(args.url) or boto3.session.Session().region_name or "us-east-1"
    )
    target = Target(args.url.rstrip("/"), management, region, args.idle, args.wait)
    print(f"papo conformance: {target.url} (@connections {management}, {region})", flush=True)
    rows = asyncio.run(run(target))
    print(table(rows))
    sys.exit(1 if any(result == FAILED for _, result, _ in rows) else 0)
