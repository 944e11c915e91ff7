"""The `papo` command: `papo serve` runs papo (or any WebSocket Lambda) locally."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from papo import __version__
from papo.local.config import PAPO_HANDLER, ApiConfig

_OPTIONS: tuple[tuple[str, str, str, str], ...] = (
    # flag, environment variable, default, help
    ("--host", "PAPO_HOST", "127.0.0.1", "address to listen on"),
    ("--port", "PAPO_PORT", "8000", "port for the WebSocket API and its Management API"),
    ("--stage", "PAPO_STAGE", "dev", "stage name: ws://HOST:PORT/STAGE"),
    (
        "--tls-port",
        "PAPO_TLS_PORT",
        "8443",
        "port for the Management API over https, which events name as their domainName "
        "(0: none; not with --reload)",
    ),
    (
        "--web-port",
        "PAPO_WEB_PORT",
        "8080",
        "port for papo's web client, which connects to this API (0: none; not with --reload)",
    ),
    ("--web-dir", "PAPO_WEB_DIR", "", "the built web client [default: web/dist of papo]"),
    ("--handler", "PAPO_HANDLER", PAPO_HANDLER, "the Lambda handler, MODULE:FUNCTION"),
    (
        "--template",
        "PAPO_TEMPLATE",
        "",
        "serve the WebSocket API of a SAM/CloudFormation template instead: its route "
        "selection expression, routes, and each route's function (Handler, CodeUri, "
        "Environment)",
    ),
    ("--store", "PAPO_STORE", "sqlite", "papo's store: sqlite or dynamodb (papo's handler only)"),
    (
        "--integration-timeout",
        "PAPO_INTEGRATION_TIMEOUT",
        "29",
        "seconds before a route answers 'Endpoint request timed out' (AWS: 29)",
    ),
    (
        "--idle-timeout",
        "PAPO_IDLE_TIMEOUT",
        "600",
        "seconds without a message before a connection is closed (AWS: 600)",
    ),
    (
        "--max-connection-duration",
        "PAPO_MAX_CONNECTION_DURATION",
        "7200",
        "seconds a connection may last (AWS: 7200)",
    ),
    (
        "--workers",
        "PAPO_WORKERS",
        "0",
        "run handlers in N worker processes, like N Lambda containers (0: in threads)",
    ),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="papo", description="papo: a WebSocket chat with a ChatGPT bot in the room."
    )
    parser.add_argument("--version", action="version", version=f"papo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the emulator of API Gateway's WebSocket API",
        description="Serve a WebSocket API locally as API Gateway would: routes, Lambda "
        "events, limits, error frames and the @connections Management API, on one port. "
        "Every option can also be set by the environment variable named in its help.",
    )
    for flag, variable, default, text in _OPTIONS:
        serve.add_argument(
            flag, default=os.environ.get(variable, default), help=f"{text} [{variable}]"
        )
    serve.add_argument(
        "--route",
        action="append",
        dest="routes",
        metavar="KEY",
        help="a route key of the handler, repeatable; the rest go to $default "
        "[PAPO_ROUTES, comma-separated; papo's own routes with papo's handler]",
    )
    serve.add_argument(
        "--route-response",
        action="append",
        dest="route_responses",
        metavar="KEY",
        help="a route with a route response: the body its handler returns is sent back "
        "(repeatable) [PAPO_ROUTE_RESPONSES, comma-separated]",
    )
    serve.add_argument(
        "--reload",
        action="store_true",
        default=os.environ.get("PAPO_RELOAD", "") not in ("", "0", "false"),
        help="restart when the code changes [PAPO_RELOAD]",
    )
    return parser


def _serve(args: argparse.Namespace) -> None:
    import asyncio

    import uvicorn

    from papo.local.app import config_from_env
    from papo.local.server import Emulator, uvicorn_options
    from papo.local.web import WEB_DIST

    values = {
        "PAPO_HOST": args.host,
        "PAPO_PORT": str(args.port),
        "PAPO_STAGE": args.stage,
        "PAPO_HANDLER": args.handler,
        "PAPO_INTEGRATION_TIMEOUT": str(args.integration_timeout),
        "PAPO_IDLE_TIMEOUT": str(args.idle_timeout),
        "PAPO_MAX_CONNECTION_DURATION": str(args.max_connection_duration),
        "PAPO_WORKERS": str(args.workers),
        "PAPO_STORE": args.store,
    }
    if args.routes:
        values["PAPO_ROUTES"] = ",".join(args.routes)
    if args.template:
        values["PAPO_TEMPLATE"] = args.template
    if args.route_responses:
        values["PAPO_ROUTE_RESPONSES"] = ",".join(args.route_responses)
    os.environ.update(values)
    try:
        config = config_from_env()
    except (OSError, ValueError) as error:  # TemplateError is a ValueError
        raise SystemExit(f"papo serve: {error}") from None
    tls_port = None if args.reload or int(args.tls_port) == 0 else int(args.tls_port)
    papos_own = args.handler == PAPO_HANDLER and not args.template
    if tls_port is None and papos_own:
        os.environ.setdefault(
            "PAPO_MANAGEMENT_ENDPOINT", f"http://{args.host}:{args.port}/{args.stage}"
        )
    web_dir = Path(args.web_dir) if args.web_dir else WEB_DIST
    web_port = int(args.web_port)
    serve_web = not args.reload and web_port != 0 and (web_dir / "index.html").is_file()
    _banner(args, tls_port, config, papos_own, web_dir if serve_web else None)
    if not args.reload:
        emulator = Emulator(
            config,
            host=args.host,
            port=int(args.port),
            tls_port=tls_port,
            web_port=web_port if serve_web else None,
            web_dir=web_dir if serve_web else None,
        )
        asyncio.run(emulator.serve())
        return
    uvicorn.run(
        "papo.local.app:create_app",
        factory=True,
        host=args.host,
        port=int(args.port),
        reload=True,
        log_level="warning",
        **uvicorn_options(config.limits),
    )


def _routes_by_function(config: ApiConfig) -> list[tuple[str, list[str]]]:
    """Each function, as `name (module:function)`, with its routes."""
    grouped: dict[str, list[str]] = {}
    for key, target in sorted(config.routes.items()):
        grouped.setdefault(f"{target.function_name} ({target.handler})", []).append(key)
    return list(grouped.items())


def _banner(
    args: argparse.Namespace,
    tls_port: int | None,
    config: ApiConfig,
    papos_own: bool,
    web_dir: Path | None,
) -> None:
    store = os.environ.get("PAPO_STORE", "sqlite")
    where = (
        os.environ.get("PAPO_SQLITE_PATH", "data/papo.sqlite3")
        if store == "sqlite"
        else os.environ.get("PAPO_TABLE", "papo")
    )
    lines = [
        f"papo {__version__}: API Gateway WebSocket emulator",
        f"  WebSocket API   ws://{args.host}:{args.port}/{args.stage}",
        f"  @connections    http://{args.host}:{args.port}/{args.stage}/@connections/{{id}}",
        f"                  https://{args.host}:{tls_port}/{args.stage}/@connections/{{id}}"
        " (the events' domainName; handlers get AWS_CA_BUNDLE)"
        if tls_port
        else "                  (no https: handlers are told PAPO_MANAGEMENT_ENDPOINT)",
        f"  Lambda Invoke   http://{args.host}:{args.port}/2015-03-31/functions/{{name}}/invocations"
        " (handlers get AWS_ENDPOINT_URL_LAMBDA)",
        "  handlers        "
        + (f"in {args.workers} worker processes" if int(args.workers) else "in threads"),
        *(f"    {name}: {' '.join(keys)}" for name, keys in _routes_by_function(config)),
        f"  limits          integration {args.integration_timeout}s, "
        f"idle {args.idle_timeout}s, connection {args.max_connection_duration}s, "
        "message 128 KB, frame 32 KB",
    ]
    if papos_own:
        lines.append(f"  store           {store} ({where})")
        lines.append(f"  bot             {_bot_line()}")
        if web_dir is not None:
            lines.append(f"  web client      http://{args.host}:{args.web_port}/")
        elif int(args.web_port) and not args.reload:
            lines.append("  web client      not built: run `make web` (or make run)")
    lines.append("Ctrl-C stops.")
    print("\n".join(lines), file=sys.stderr, flush=True)


def _load_dotenv() -> None:
    """Reads `.env` in the current folder into the environment, where nothing
    set there already: the bot's key (`OPENAI_API_KEY`) and any `PAPO_*` option."""
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


def _bot_line() -> str:
    from papo.settings import Settings

    settings = Settings.from_env()
    if settings.key_parameter or settings.key_secret:
        source = "key from AWS"
    elif os.environ.get("OPENAI_API_KEY", "").strip():
        source = "key from OPENAI_API_KEY"
    else:
        return "not configured: set OPENAI_API_KEY, or put it in .env, and restart"
    where = settings.openai.base_url or "OpenAI"
    return f"{settings.openai.model} at {where} ({source})"


def main(argv: Sequence[str] | None = None) -> None:
    _load_dotenv()
    args = _parser().parse_args(argv)
    if args.command == "serve":
        _serve(args)
