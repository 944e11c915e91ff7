"""The `papo` command: `papo serve` runs papo (or any WebSocket Lambda) locally."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from papo import __version__
from papo.local.config import (
    PAPO_HANDLER,
    PAPOS_AUTHORIZER,
    PAPOS_IDENTITY_SOURCE,
    ApiConfig,
    is_papos_handler,
)

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

    from papo.adapters.store.dynamodb_table import Problem
    from papo.core.invites import Invite
    from papo.local.app import ServeOptions
    from papo.local.web import PageOidc
    from papo.settings import Settings


LOCAL_EXTRA = (
    "uvicorn",
    "starlette",
    "websockets",
    "yaml",
    "dotenv",
    "cryptography",
    "watchfiles",
    "packaging",
)
"""What `papo serve` needs beyond papo's handler: the `local` extra."""

_OPTIONS: tuple[tuple[str, str, str, str], ...] = (
    # flag, environment variable, default, help
    ("--host", "PAPO_HOST", "127.0.0.1", "address to listen on"),
    ("--port", "PAPO_PORT", "8000", "port for the WebSocket API and its Management API"),
    (
        "--stage",
        "PAPO_STAGE",
        "",
        "stage name: ws://HOST:PORT/STAGE [default: the template's stage, else dev]",
    ),
    (
        "--tls-port",
        "PAPO_TLS_PORT",
        "8443",
        "port for the Management API over https, which events name as their domainName, "
        "and the API's AWS address leads to from handlers (0: none)",
    ),
    (
        "--web-port",
        "PAPO_WEB_PORT",
        "8080",
        "port for papo's web client, which connects to this API (0: none)",
    ),
    ("--web-dir", "PAPO_WEB_DIR", "", "the built web client [default: web/dist of papo]"),
    ("--handler", "PAPO_HANDLER", PAPO_HANDLER, "the Lambda handler, MODULE:FUNCTION"),
    (
        "--route-selection-expression",
        "PAPO_ROUTE_SELECTION_EXPRESSION",
        "$request.body.action",
        "how a message's route is chosen, with --handler (a template says its own)",
    ),
    (
        "--template",
        "PAPO_TEMPLATE",
        "",
        "serve the WebSocket API of a SAM/CloudFormation template instead: its route "
        "selection expression, routes, and each route's function (Handler, CodeUri, "
        "Environment, and the Python its Runtime names, where this machine has it)",
    ),
    (
        "--api-id",
        "PAPO_API_ID",
        "",
        "the API's id in events and in its AWS address, "
        "https://ID.execute-api.REGION.amazonaws.com, which handlers reach "
        "[default: the template's, else papolocal0]",
    ),
    ("--store", "PAPO_STORE", "sqlite", "papo's store: sqlite or dynamodb (papo's handler only)"),
    (
        "--dynamodb-endpoint",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "",
        "a local DynamoDB, such as http://127.0.0.1:5000, which handlers then use [default: AWS's]",
    ),
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
        "run each function in up to N processes of its own, like N Lambda containers "
        "(0: in threads, but for functions that must be stopped at their Timeout)",
    ),
    (
        "--timeout",
        "PAPO_TIMEOUT",
        "",
        "the --handler function's Timeout in seconds, past which an invocation is stopped "
        "[default: Lambda's 3, papo's own handler's 300]",
    ),
    (
        "--memory",
        "PAPO_MEMORY",
        "",
        "the --handler function's MemorySize in MB, kept where it runs in processes of its "
        "own [default: Lambda's 128, papo's own handler's 512]",
    ),
    (
        "--runtime",
        "PAPO_RUNTIME",
        "",
        "the --handler function's Lambda runtime, such as python3.12 or nodejs20.x (FILE.FUNCTION "
        "in the current folder, run by the node on PATH) [default: papo serve's Python]",
    ),
    (
        "--faults",
        "PAPO_FAULTS",
        "",
        "answer this share of @connections calls with 410 (and close the connection), 429 "
        "or 500, as API Gateway answers them: STATUS=SHARE,... such as 410=0.01,429=0.01",
    ),
    (
        "--faults-seed",
        "PAPO_FAULTS_SEED",
        "",
        "the faults' random seed, for a run that draws the same faults [default: a new draw]",
    ),
    (
        "--account-throttle-burst",
        "PAPO_ACCOUNT_THROTTLE_BURST",
        "",
        "the account's throttle on @connections calls: requests at once (AWS: 5000); turns it on",
    ),
    (
        "--account-throttle-rate",
        "PAPO_ACCOUNT_THROTTLE_RATE",
        "",
        "the account's throttle: requests a second after the burst (AWS: 10000); turns it on",
    ),
)


def _switched_on(defaults: Mapping[str, str], name: str) -> bool:
    """Whether an on/off variable is on: set, and not `0` or `false`."""
    return defaults.get(name, "").strip().lower() not in ("", "0", "false")


def _parser(defaults: Mapping[str, str]) -> argparse.ArgumentParser:
    """`defaults`: the environment, and `.env` under it."""
    parser = argparse.ArgumentParser(
        prog="papo", description="papo: a WebSocket chat with a ChatGPT bot in the room."
    )
    parser.add_argument("--version", action="version", version=f"papo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _invite_parser(commands)
    _versions_parser(commands)
    _room_parser(commands)
    _table_parser(commands, defaults)
    _conformance_parser(commands)
    serve = commands.add_parser(
        "serve",
        help="run the emulator of API Gateway's WebSocket API",
        description="Serve a WebSocket API locally as API Gateway would: routes, Lambda "
        "events, limits, error frames and the @connections Management API, on one port. "
        "Every option can also be set by the environment variable named in its help.",
    )
    for flag, variable, default, text in _OPTIONS:
        serve.add_argument(
            flag, default=defaults.get(variable, default), help=f"{text} [{variable}]"
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
    _add_trust_options(serve, defaults)
    _add_sign_in_options(serve, defaults)
    serve.add_argument(
        "--parameter",
        action="append",
        dest="parameters",
        metavar="NAME=VALUE",
        help="a template parameter's value, repeatable; the rest take their defaults "
        "[PAPO_PARAMETERS, comma-separated]",
    )
    serve.add_argument(
        "--code",
        action="append",
        metavar="FUNCTION=PATH",
        help="a template function's code (by logical id or FunctionName): a folder or a "
        "zip, as Lambda takes it, instead of its CodeUri; repeatable [PAPO_CODE, comma-separated]",
    )
    serve.add_argument(
        "--reload",
        action="store_true",
        default=_switched_on(defaults, "PAPO_RELOAD"),
        help="run a function's new code as soon as it changes, keeping the connections "
        "open [PAPO_RELOAD]",
    )
    serve.add_argument(
        "--account-throttle",
        action="store_true",
        default=_switched_on(defaults, "PAPO_ACCOUNT_THROTTLE"),
        help="throttle @connections calls as API Gateway's account-level limit does, "
        "answering 429 past it [PAPO_ACCOUNT_THROTTLE]",
    )
    return parser


def _conformance_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from papo.conformance.command import add_parser

    add_parser(commands)


def _add_trust_options(serve: argparse.ArgumentParser, defaults: Mapping[str, str]) -> None:
    """Who may connect, how often, and who may call the emulator's own AWS APIs."""
    serve.add_argument(
        "--authorizer",
        default=defaults.get("PAPO_AUTHORIZER", ""),
        metavar="MODULE:FUNCTION",
        help="a REQUEST authorizer run before $connect, answering an IAM policy "
        "(over a template's) [PAPO_AUTHORIZER]",
    )
    serve.add_argument(
        "--identity-source",
        action="append",
        dest="identity_sources",
        metavar="SOURCE",
        help="what the authorizer needs, route.request.querystring.NAME or "
        "route.request.header.NAME: a handshake without it gets 401 (repeatable) "
        "[PAPO_IDENTITY_SOURCES, comma-separated]",
    )
    serve.add_argument(
        "--throttle-burst",
        default=defaults.get("PAPO_THROTTLE_BURST", ""),
        metavar="N",
        help="requests each route takes at once, handshakes included; over it, 429 or "
        "'Too Many Requests' (over a template's DefaultRouteSettings) [PAPO_THROTTLE_BURST]",
    )
    serve.add_argument(
        "--throttle-rate",
        default=defaults.get("PAPO_THROTTLE_RATE", ""),
        metavar="PER_SECOND",
        help="requests each route takes a second, after its burst [PAPO_THROTTLE_RATE]",
    )
    serve.add_argument(
        "--require-signatures",
        action="store_true",
        default=_switched_on(defaults, "PAPO_REQUIRE_SIGNATURES"),
        help="take only SigV4-signed calls on @connections and Lambda Invoke, as when "
        "--host is beyond loopback [PAPO_REQUIRE_SIGNATURES]",
    )


def _add_sign_in_options(serve: argparse.ArgumentParser, defaults: Mapping[str, str]) -> None:
    """The OpenID Connect issuer the web client signs in with (PAPO_AUTH=oidc)."""
    signs_in = defaults.get("PAPO_AUTH", "") == "oidc"
    serve.add_argument(
        "--oidc-issuer",
        default=defaults.get("PAPO_OIDC_ISSUER", "") if signs_in else "",
        metavar="URL",
        help="the OpenID Connect issuer the web client signs in with: its config.json names "
        "it and its Content-Security-Policy lets the page reach it; handlers get it as "
        "PAPO_OIDC_ISSUER unless set [PAPO_OIDC_ISSUER, when PAPO_AUTH=oidc]",
    )
    serve.add_argument(
        "--oidc-client-id",
        default=defaults.get("PAPO_WEB_OIDC_CLIENT_ID") or defaults.get("PAPO_OIDC_AUDIENCE", ""),
        metavar="ID",
        help="the web client's client id at that issuer, a public client (PKCE, no secret); "
        "handlers get it as PAPO_OIDC_AUDIENCE unless set "
        "[PAPO_WEB_OIDC_CLIENT_ID, else PAPO_OIDC_AUDIENCE]",
    )


def _web_oidc(args: argparse.Namespace, handler_environment: dict[str, str]) -> PageOidc | None:
    """The web client's sign-in, which papo's authorizer must trust too."""
    from papo.local.web import PageOidc

    if not args.oidc_issuer:
        return None
    if not args.oidc_client_id:
        raise SystemExit(
            "papo serve: --oidc-issuer needs --oidc-client-id "
            "(or PAPO_WEB_OIDC_CLIENT_ID, or PAPO_OIDC_AUDIENCE)"
        )
    if "PAPO_OIDC_ISSUER" not in os.environ:
        handler_environment.setdefault("PAPO_OIDC_ISSUER", args.oidc_issuer)
    if "PAPO_OIDC_AUDIENCE" not in os.environ:
        handler_environment.setdefault("PAPO_OIDC_AUDIENCE", args.oidc_client_id)
    return PageOidc(args.oidc_issuer, args.oidc_client_id)


def access_mode(environment: Mapping[str, str]) -> str:
    """Who may connect to papo's handler, as PAPO_AUTH says (`off`, `invite`,
    `oidc`); SystemExit when it lacks what it needs, which would fail every
    handshake."""
    from papo.settings import ConfigError, Settings

    try:
        access = Settings.from_env(environment).access
    except ConfigError as error:
        raise SystemExit(f"papo serve: {error}") from None
    if access.mode == "invite" and not (access.invite_secret or access.invite_secret_parameter):
        raise SystemExit("papo serve: PAPO_AUTH=invite needs PAPO_INVITE_SECRET")
    if access.mode == "oidc" and not (access.oidc_issuer and access.oidc_audience):
        raise SystemExit(
            "papo serve: PAPO_AUTH=oidc needs PAPO_OIDC_ISSUER and PAPO_OIDC_AUDIENCE "
            "(or --oidc-issuer and --oidc-client-id)"
        )
    return access.mode


def _trust_options(
    args: argparse.Namespace, defaults: Mapping[str, str], access: str, papos: bool
) -> dict[str, object]:
    """With papo's handler and PAPO_AUTH on, papo's authorizer goes before
    `$connect` unless another is given: served without it, papo's handler
    refuses everyone (`papo.aws.identity_check`)."""
    authorizer = args.authorizer or None
    sources = _listed(args.identity_sources, "PAPO_IDENTITY_SOURCES", defaults)
    if authorizer is None and access != "off" and papos:
        authorizer, sources = PAPOS_AUTHORIZER, sources or (PAPOS_IDENTITY_SOURCE,)
    return {
        "authorizer": authorizer,
        "identity_sources": sources,
        "throttle_burst": int(args.throttle_burst) if args.throttle_burst else None,
        "throttle_rate": float(args.throttle_rate) if args.throttle_rate else None,
        "require_signatures": args.require_signatures,
    }


def _fault_options(args: argparse.Namespace) -> dict[str, object]:
    """The faults and the account's throttle asked for; SystemExit on a value
    that is not one."""
    from papo.local.config import Throttle
    from papo.local.faults import Faults, FaultsError

    try:
        seed = int(args.faults_seed) if args.faults_seed else None
        faults = Faults.parse(args.faults, seed)
        burst = int(args.account_throttle_burst) if args.account_throttle_burst else None
        rate = float(args.account_throttle_rate) if args.account_throttle_rate else None
        throttle = Throttle(burst, rate)
    except FaultsError as error:
        raise SystemExit(f"papo serve: --faults: {error}") from None
    except ValueError as error:
        raise SystemExit(f"papo serve: {error}") from None
    throttled = args.account_throttle or burst is not None or rate is not None
    return {"faults": faults or None, "account_throttle": throttle if throttled else None}


def _fault_lines(options: ServeOptions) -> list[str]:
    lines = []
    if options.faults is not None:
        lines.append(f"  faults          @connections calls answered {options.faults}")
    if options.account_throttle is not None:
        lines.append(f"  account         @connections calls throttled: {options.account_throttle}")
    return lines


def _trust_lines(options: ServeOptions, config: ApiConfig, access: str) -> list[str]:
    """The banner's lines on who may connect, the authorizer, throttling and signatures."""
    from papo.local.signatures import beyond_loopback

    lines = []
    if options.papos_own:
        lines.append(
            "  access          open: anyone may connect (PAPO_AUTH=off)"
            if access == "off"
            else f"  access          PAPO_AUTH={access}: a handshake needs ?token= "
            + ("(papo invite prints links)" if access == "invite" else "(an ID token)")
        )
    if config.authorizer is not None:
        target, sources = config.authorizer.target, config.authorizer.identity_sources
        lines.append(
            f"  authorizer      {target.function_name} ({target.handler}) before $connect, "
            + (f"identity {', '.join(sources)}" if sources else "no identity source")
        )
    if config.throttling:
        limits = [f"each route: {config.throttling.stage}"] if config.throttling.stage else []
        limits += [f"{key}: {limits}" for key, limits in sorted(config.throttling.routes.items())]
        lines.append(f"  throttling      {'; '.join(limits)}")
    if not options.signatures_required:
        lines.append("  signatures      not checked: listening on loopback only")
    else:
        why = (
            "listening beyond loopback" if beyond_loopback(options.host) else "--require-signatures"
        )
        lines.append(
            f"  signatures      required on @connections and Lambda Invoke ({why}): "
            "SigV4 with the credentials handlers get"
        )
    return lines


def _missing_authorizer(config: ApiConfig, environment: Mapping[str, str]) -> str | None:
    """Why the API cannot be served as it is: papo's handler with PAPO_AUTH on
    and no authorizer before `$connect`, which would refuse every handshake."""
    if config.authorizer is not None:
        return None
    for target in config.functions:
        mode = {**environment, **target.environment}.get("PAPO_AUTH", "off").strip().lower()
        if is_papos_handler(target.handler) and mode not in ("", "off"):
            return (
                f"papo serve: {target.function_name} has PAPO_AUTH={mode}, but $connect has no "
                f"authorizer: add --authorizer {PAPOS_AUTHORIZER} "
                f"--identity-source {PAPOS_IDENTITY_SOURCE}"
                ", or set PAPO_AUTH=off for an open room"
            )
    return None


def _listed(given: list[str] | None, variable: str, defaults: Mapping[str, str]) -> tuple[str, ...]:
    if given:
        return tuple(given)
    return tuple(item for item in defaults.get(variable, "").split(",") if item)


def _pairs(
    given: list[str] | None, variable: str, defaults: Mapping[str, str], what: str
) -> dict[str, str]:
    """`NAME=VALUE` items, from the command line else the environment."""
    pairs = {}
    for item in _listed(given, variable, defaults):
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise SystemExit(f"papo serve: {what} is NAME=VALUE, not {item!r}")
        pairs[name.strip()] = value
    return pairs


def _papos_routes(papos: bool) -> tuple[str, ...]:
    """papo's own routes, when papo's handler is served: every key of its route table."""
    if not papos:
        return ()
    from papo.aws.handler import ROUTE_KEYS

    return ROUTE_KEYS


def _options(args: argparse.Namespace, defaults: Mapping[str, str]) -> ServeOptions:
    from papo.local.app import ServeOptions, serves_papos_own
    from papo.local.config import Limits
    from papo.local.runtime import default_region
    from papo.local.web import WEB_DIST

    # `.env`, for what the environment does not set: the bot's key, say.
    handler_environment = {k: v for k, v in defaults.items() if k not in os.environ}
    tls_port = int(args.tls_port) or None
    if args.dynamodb_endpoint:
        handler_environment["AWS_ENDPOINT_URL_DYNAMODB"] = args.dynamodb_endpoint
    papos = serves_papos_own(args.handler, args.template)
    if papos:
        handler_environment["PAPO_STORE"] = args.store
        if tls_port is None:
            handler_environment.setdefault(
                "PAPO_MANAGEMENT_ENDPOINT",
                f"http://{args.host}:{args.port}/{args.stage or ApiConfig.stage}",
            )
    web_dir = Path(args.web_dir) if args.web_dir else WEB_DIST
    web_port = int(args.web_port)
    serves_web = web_port != 0 and (web_dir / "index.html").is_file()
    web_oidc = _web_oidc(args, handler_environment) if serves_web else None
    access = access_mode({**defaults, **handler_environment}) if papos else "off"
    return ServeOptions(
        host=args.host,
        port=int(args.port),
        stage=args.stage or None,
        handler=args.handler,
        timeout_s=float(args.timeout) if args.timeout else None,
        memory_mb=int(args.memory) if args.memory else None,
        runtime=args.runtime or None,
        routes=_listed(args.routes, "PAPO_ROUTES", defaults) or _papos_routes(papos),
        route_responses=frozenset(_listed(args.route_responses, "PAPO_ROUTE_RESPONSES", defaults)),
        route_selection_expression=args.route_selection_expression,
        template=Path(args.template) if args.template else None,
        api_id=args.api_id or None,
        region=default_region(defaults),
        limits=Limits(
            integration_timeout_s=float(args.integration_timeout),
            idle_timeout_s=float(args.idle_timeout),
            max_connection_duration_s=float(args.max_connection_duration),
        ),
        workers=int(args.workers),
        tls_port=tls_port,
        web_port=web_port if serves_web else None,
        web_dir=web_dir if serves_web else None,
        web_oidc=web_oidc,
        environment=handler_environment,
        **_trust_options(args, defaults, access, papos),  # type: ignore[arg-type]
        parameters=_pairs(args.parameters, "PAPO_PARAMETERS", defaults, "--parameter"),
        code={
            name: Path(path)
            for name, path in _pairs(args.code, "PAPO_CODE", defaults, "--code").items()
        },
        **_fault_options(args),  # type: ignore[arg-type]
    )


def _require_local_extra() -> None:
    """`pip install papo` gives the handler; `papo serve` needs the `local` extra too."""
    for module in LOCAL_EXTRA:
        try:
            importlib.import_module(module)
        except ImportError:
            raise SystemExit(
                f"papo serve needs papo's local extra ({module} is missing): "
                "pip install 'papo[local]'"
            ) from None


def _serve(args: argparse.Namespace, defaults: Mapping[str, str]) -> None:
    import asyncio

    _require_local_extra()
    options = _options(args, defaults)
    if options.papos_own and args.store.lower() == "dynamodb":
        _require_table(args.dynamodb_endpoint, defaults)
    try:
        config = options.api_config()
    except (OSError, ValueError) as error:  # TemplateError is a ValueError
        raise SystemExit(f"papo serve: {error}") from None
    missing = _missing_authorizer(config, defaults)
    if missing is not None:
        raise SystemExit(missing)
    try:
        emulator = options.emulator(config)  # holds its ports from here on
    except OSError as error:
        taken = "address already in use" if error.errno == errno.EADDRINUSE else error.strerror
        raise SystemExit(f"papo serve: {args.host}:{args.port}: {taken}") from None
    bound = dataclasses.replace(
        options, port=emulator.port, tls_port=emulator.tls_port, web_port=emulator.web_port
    )
    _banner(bound, config, args, defaults)
    if args.reload:
        from papo.local.reload import serve_reloading

        asyncio.run(serve_reloading(emulator))
        return
    asyncio.run(emulator.serve())


def _pythons(config: ApiConfig) -> list[str]:
    """Which Python runs each function, when a template names one (docs/promises.md:
    "A function runs on the Python its template names"), and which run in
    processes of their own in threads mode, and why."""
    from papo.local.placement import Apart, placement
    from papo.local.runtime_boto3 import runtime_boto3

    placed = placement(config)
    named = {t.function_name: t.runtime for t in config.functions if t.runtime}
    lines = [f"    {name} runs on {placed.interpreters[name].describe()}" for name in named]
    versions = sorted(
        {p.version for p in placed.interpreters.values() if p.foreign and p.language == "python"}
    )
    lines += [f"    functions on Python {v} {runtime_boto3(v).said}" for v in versions]
    why = {
        Apart.TIMEOUT: "its Timeout is shorter than the integration timeout, and a process"
        " can be stopped",
        Apart.ENVIRONMENT: "its Environment contradicts another function's, which this"
        " process holds",
    }
    lines += [
        f"    {name} runs in processes of its own: {why[reason]}"
        for name, reason in sorted(placed.apart.items())
        if reason in why
    ]
    return lines


def _unrouted(config: ApiConfig, options: ServeOptions) -> list[str]:
    """The special routes the API lacks, what that means, and how to add each."""
    from papo.local.unrouted import CONSEQUENCE, how_to_add, missing

    template = options.template is not None
    return [
        f"  no {key} route: {CONSEQUENCE[key]}; add {how_to_add(key, template=template)}"
        for key in missing(config.route_keys)
    ]


def _banner(
    options: ServeOptions, config: ApiConfig, args: argparse.Namespace, env: Mapping[str, str]
) -> None:
    from papo.local.hostnames import execute_api_host

    where = f"{options.host}:{options.port}/{config.stage}"
    lines = [
        f"papo {__version__}: API Gateway WebSocket emulator",
        f"  WebSocket API   ws://{where}",
        f"  @connections    http://{where}/@connections/{{id}}",
    ]
    if options.tls_port:
        aws_host = execute_api_host(config.api_id, config.region)
        lines += [
            f"                  https://{options.host}:{options.tls_port}/{config.stage}"
            "/@connections/{id} (the events' domainName; handlers get AWS_CA_BUNDLE)",
            f"                  https://{aws_host}/{config.stage}/@connections/{{id}}"
            " (from handlers)",
        ]
    else:
        lines.append("                  (no https: handlers are told PAPO_MANAGEMENT_ENDPOINT)")
    lines += [
        f"  Lambda Invoke   http://{options.host}:{options.port}/2015-03-31/functions/{{name}}"
        "/invocations (handlers get AWS_ENDPOINT_URL_LAMBDA)",
        "  handlers        "
        + (f"in {options.workers} worker processes" if options.workers else "in threads")
        + f", API id {config.api_id}, region {config.region}",
        *(f"    {name}: {' '.join(keys)}" for name, keys in config.integrations()),
        *_pythons(config),
        *_unrouted(config, options),
        f"  limits          integration {args.integration_timeout}s, "
        f"idle {args.idle_timeout}s, connection {args.max_connection_duration}s, "
        "message 128 KB, frame 32 KB",
        *_trust_lines(
            options,
            config,
            access_mode({**env, **options.environment}) if options.papos_own else "",
        ),
    ]
    if options.papos_own:
        store = args.store
        where = (
            env.get("PAPO_SQLITE_PATH", "data/papo.sqlite3")
            if store == "sqlite"
            else env.get("PAPO_TABLE", "papo")
            + (f" at {args.dynamodb_endpoint}" if args.dynamodb_endpoint else "")
        )
        lines.append(f"  store           {store} ({where})")
        lines.append(f"  bot             {_bot_line(env)}")
        if options.web_port is not None:
            lines.append(f"  web client      http://{options.host}:{options.web_port}/")
            if options.web_oidc is not None:
                lines.append(
                    f"  sign-in         {options.web_oidc.issuer}"
                    f" (client id {options.web_oidc.client_id})"
                )
        elif int(args.web_port):
            lines.append("  web client      not built: run `make web` (or make run)")
    lines += _fault_lines(options)
    if args.reload:
        from papo.local.reload import Watched

        lines.append(
            "  reload          on: a changed .py file reloads its functions; connections stay open"
        )
        lines += Watched.of(config).lines()
    lines.append("Ctrl-C stops.")
    print("\n".join(lines), file=sys.stderr, flush=True)


def _dotenv() -> dict[str, str]:
    """`.env` in the current folder: the bot's key (`OPENAI_API_KEY`) and any
    `PAPO_*` option, for what the environment does not already set (none without
    the `local` extra, which `papo serve` then asks for)."""
    try:
        from dotenv import dotenv_values
    except ImportError:
        return {}

    values = dotenv_values(Path.cwd() / ".env")
    return {name: value for name, value in values.items() if value is not None}


def _bot_line(env: Mapping[str, str]) -> str:
    from papo.settings import Settings

    settings = Settings.from_env(env)
    if settings.key_parameter or settings.key_secret:
        source = "key from AWS"
    elif env.get("OPENAI_API_KEY", "").strip():
        source = "key from OPENAI_API_KEY"
    else:
        return "not configured: set OPENAI_API_KEY, or put it in .env, and restart"
    where = settings.openai.base_url or "OpenAI"
    return f"{settings.openai.model} at {where} ({source})"


def _invite_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    invite = commands.add_parser(
        "invite",
        help="print an invite link (for PAPO_AUTH=invite)",
        description="Print a link that lets its holder into one room, signed with "
        "PAPO_INVITE_SECRET (or the SSM parameter PAPO_INVITE_SECRET_PARAMETER names).",
    )
    invite.add_argument("--name", help="the one name its holder may take")
    invite.add_argument(
        "--room",
        type=_room,
        default="main",
        help="the room it lets its holder into: 1-32 of a-z, 0-9 and '-' (default: main)",
    )
    invite.add_argument(
        "--owner",
        action="store_true",
        help="its holder owns the room: may set the room's bot (its persona and model)",
    )
    invite.add_argument("--hours", type=float, default=24.0, help="how long it is good for")
    invite.add_argument("--page", default="http://127.0.0.1:8080/", help="the web client's address")
    invite.add_argument(
        "--websocket", default="ws://127.0.0.1:8000/dev", help="the WebSocket API's address"
    )
    revoke = invite.add_subparsers(dest="invite_command", metavar="[revoke ID_OR_LINK]").add_parser(
        "revoke",
        help="refuse one invite from now on, without changing the secret",
        description="Put one invite on the list of revoked ones, which papo's authorizer "
        "reads from papo's store (PAPO_STORE: the SQLite file PAPO_SQLITE_PATH, or the "
        "DynamoDB table PAPO_TABLE): its holders are refused at their next connection. "
        "Give the invite's id (papo invite prints it) or its link. An id that begins "
        "with '-' (earlier versions made some) goes after '--': papo invite revoke -- -ID.",
    )
    revoke.add_argument("invite", metavar="ID_OR_LINK", help="the invite's id, link or token")


def _room_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    room = commands.add_parser(
        "room",
        help="show or set a room's bot: its persona and its model",
        description="A room's own bot, kept in papo's store (PAPO_STORE: the SQLite file "
        "PAPO_SQLITE_PATH, or the DynamoDB table PAPO_TABLE): its persona (the system "
        "prompt it answers with, instead of PAPO_BOT_SYSTEM_PROMPT) and its model (one "
        "of PAPO_BOT_MODELS, instead of PAPO_BOT_MODEL). People hear of a change as they "
        "next join.",
    )
    actions = room.add_subparsers(dest="room_command", required=True)
    show = actions.add_parser("show", help="print the room's bot")
    show.add_argument("room", type=_room, help="the room: 1-32 of a-z, 0-9 and '-'")
    change = actions.add_parser("set", help="set the room's persona or model")
    change.add_argument("room", type=_room, help="the room: 1-32 of a-z, 0-9 and '-'")
    change.add_argument("--persona", help="its system prompt ('' for PAPO_BOT_SYSTEM_PROMPT)")
    change.add_argument("--model", help="its model, one of PAPO_BOT_MODELS ('' for PAPO_BOT_MODEL)")


def _room_command(args: argparse.Namespace, defaults: Mapping[str, str]) -> None:
    import time

    from papo.aws import wiring
    from papo.core.room_bot import RoomBot, room_bot, set_room_bot
    from papo.settings import Settings

    settings = Settings.from_env(defaults)
    store = wiring.store(settings).in_room(args.room)
    bot = room_bot(store)
    if args.room_command == "set":
        models = settings.rules.bot.models
        if args.model and args.model not in models:
            allowed = ", ".join(models) or "none: set PAPO_BOT_MODELS"
            sys.exit(f"papo room set: --model {args.model} is not allowed ({allowed})")
        bot = RoomBot(
            persona=bot.persona if args.persona is None else args.persona or None,
            model=bot.model if args.model is None else args.model or None,
            at=int(time.time() * 1000),
        )
        set_room_bot(store, bot)
    print(f"room {args.room}")
    print(f"  persona: {bot.persona or '(PAPO_BOT_SYSTEM_PROMPT)'}")
    print(f"  model:   {bot.model or settings.openai.model + ' (PAPO_BOT_MODEL)'}")


def _room(raw: str) -> str:
    from papo.core.rooms import room_name

    try:
        return room_name(raw)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _invite(args: argparse.Namespace, defaults: Mapping[str, str]) -> None:
    import time
    from urllib.parse import urlencode

    from papo.aws.authorizer import invite_secret
    from papo.core.invites import make_invite
    from papo.core.rooms import OWNER, ROOM_DEFAULT
    from papo.settings import Settings

    settings = Settings.from_env(defaults)
    if args.invite_command == "revoke":
        _revoke(args.invite, settings)
        return
    access = settings.access
    if not (access.invite_secret or access.invite_secret_parameter):
        sys.exit("papo invite: set PAPO_INVITE_SECRET (or PAPO_INVITE_SECRET_PARAMETER) first")
    expires_at = _expiry(args.hours, time.time())
    name = None if args.name is None else _invite_name(args.name, settings)
    token = make_invite(
        invite_secret(access),
        expires_at=expires_at,
        name=name,
        room=args.room,
        role=OWNER if args.owner else None,
    )
    # The default room's link as before rooms: an address without `room` is for main.
    room = {} if args.room == ROOM_DEFAULT else {"room": args.room}
    if name is not None:
        _reserve(settings, name, expires_at)
    print(f"{args.page}?{urlencode({**room, 'invite': token})}")
    print(f"wscat -c '{args.websocket}?{urlencode({**room, 'token': token})}'")
    invite_id = _read_token(token, settings).invite_id
    print(f"invite {invite_id}: revoke it with `papo invite revoke {invite_id}`", file=sys.stderr)


def _expiry(hours: float, now: float) -> int:
    """When an invite good for `hours` expires (epoch seconds); one that papo's
    authorizer would refuse at once (not a number, endless, already over) is refused here."""
    import math

    if not math.isfinite(hours) or int(now + hours * 3600) <= int(now):
        sys.exit(f"papo invite: --hours must be a number above 0, not {hours}")
    return int(now + hours * 3600)


def _invite_name(raw: str, settings: Settings) -> str:
    """The name, as the room accepts it: one it would refuse makes no invite."""
    from papo.core.refusals import Refusal
    from papo.core.rules import check_name
    from papo.core.texts import Texts

    try:
        return check_name(raw, settings.rules.limits)
    except Refusal as refusal:
        sys.exit(f"papo invite: --name {raw!r}: {Texts().refusal(refusal)}")


def _read_token(token: str, settings: Settings) -> Invite:
    import time

    from papo.aws.authorizer import invite_secret
    from papo.core.invites import read_invite

    return read_invite(invite_secret(settings.access), token, int(time.time()))


def _revoke(given: str, settings: Settings) -> None:
    """Puts the invite `given` (an id, a link, a token) on the list papo's authorizer reads."""
    from urllib.parse import parse_qs, urlsplit

    from papo.adapters.store.revoked_invites import revoked_invites
    from papo.core.invites import InvalidInvite

    query = parse_qs(urlsplit(given).query)
    token = next(iter(query.get("invite", []) + query.get("token", [])), given)
    invite_id, expires_at = token, None
    if "." in token:  # a token, not an id: it says its id and when it expires
        access = settings.access
        if not (access.invite_secret or access.invite_secret_parameter):
            sys.exit("papo invite revoke: set PAPO_INVITE_SECRET to read a link, or give its id")
        try:
            invite = _read_token(token, settings)
        except InvalidInvite as invalid:
            if str(invalid) == "expired":
                sys.exit("papo invite revoke: that invite has expired: it is refused already")
            sys.exit(f"papo invite revoke: that is no invite signed with this secret ({invalid})")
        invite_id, expires_at = invite.invite_id, invite.expires_at
    if not invite_id.strip() or len(invite_id) > 64:
        sys.exit(f"papo invite revoke: {given!r} is no invite's id, link or token")
    store = revoked_invites(settings.store, settings.sqlite_path, settings.table, settings.region)
    store.revoke(invite_id, expires_at)
    where = settings.sqlite_path if settings.store == "sqlite" else f"table {settings.table}"
    print(f"invite {invite_id} revoked ({settings.store}: {where})")


def _reserve(settings: Settings, name: str, expires_at_s: int) -> None:
    """The name an invite is for is its holder's from now on, in every room,
    so that nobody takes it before they come. Where the store cannot be
    reached from here, it is theirs from when they first join."""
    from papo.aws import wiring
    from papo.aws.authorizer import invite_principal

    principal = invite_principal(name)
    try:
        owner = wiring.store(settings).own_name(name, principal, expires_at_s * 1000, bound=True)
    except Exception as error:  # noqa: BLE001 - any store failure: the invite still works
        print(f"papo invite: {name} not reserved yet ({error})", file=sys.stderr)
        return
    if owner != principal:
        sys.exit(f"papo invite: the name {name} is someone else's already; choose another")


def _versions_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    versions = commands.add_parser(
        "versions",
        help="print a line of a room as it reads now and the versions its edits replaced",
        description="Print a public message of a room as it reads now, and the versions "
        "its edits and deletes replaced, oldest first: papo keeps them, as long as the "
        "line, for whoever runs it. Reads papo's store (PAPO_STORE: the SQLite file "
        "PAPO_SQLITE_PATH, or the DynamoDB table PAPO_TABLE).",
    )
    versions.add_argument("offset", type=int, help="the line's offset in the room's stream")
    versions.add_argument(
        "--room", type=_room, default="main", help="the line's room (default: main)"
    )


def _versions(args: argparse.Namespace, defaults: Mapping[str, str]) -> None:
    import datetime

    from papo.aws import wiring
    from papo.settings import Settings

    store = wiring.store(Settings.from_env(defaults)).in_room(args.room)
    line = store.line(args.offset)
    if line is None or line.message is None:
        sys.exit(f"papo versions: room {args.room} keeps no public message at {args.offset}")

    def when(ms: int) -> str:
        return f"{datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC):%Y-%m-%d %H:%M:%S} UTC"

    now = line.message
    for earlier in store.earlier_versions(args.offset):
        changed = f", edited {when(earlier.edited_at)}" if earlier.edited_at else ""
        print(f"{when(earlier.ts)}{changed}  {earlier.sender}: {earlier.text}")
    if now.deleted:
        print(f"deleted {when(now.edited_at or now.ts)}  {now.sender}")
    else:
        changed = f", edited {when(now.edited_at)}" if now.edited_at else ""
        print(f"{when(now.ts)}{changed}  {now.sender}: {now.text}  (now)")


def _table_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], defaults: Mapping[str, str]
) -> None:
    table = commands.add_parser(
        "table",
        help="make papo's DynamoDB table (for papo serve --store dynamodb)",
        description="papo's DynamoDB table, as the deploy template declares it.",
    )
    actions = table.add_subparsers(dest="table_command", required=True)
    create = actions.add_parser(
        "create",
        help="create papo's table (partition key pk, sort key sk, TTL on expiresAt)",
        description="Create papo's table on a DynamoDB, a local one or AWS's, as the "
        "deploy template declares it.",
    )
    create.add_argument(
        "--table",
        default=_table_name(defaults),
        help="the table's name [default: %(default)s] [PAPO_TABLE]",
    )
    create.add_argument(
        "--dynamodb-endpoint",
        default=defaults.get("AWS_ENDPOINT_URL_DYNAMODB", ""),
        metavar="URL",
        help="a local DynamoDB, such as http://127.0.0.1:5000 [default: AWS's] "
        "[AWS_ENDPOINT_URL_DYNAMODB]",
    )


def _table_name(defaults: Mapping[str, str]) -> str:
    from papo.settings import Settings

    return defaults.get("PAPO_TABLE", "").strip() or Settings().table


_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def _dynamodb(endpoint: str, defaults: Mapping[str, str]) -> DynamoDBClient:
    """A DynamoDB client with the region and credentials papo serve's handlers get:
    the developer's (`.env` included), else the placeholders of papo serve on
    loopback, which any local DynamoDB takes. Tried twice, briefly: this is a
    check at start-up, not a handler's call."""
    import boto3
    from botocore.config import Config

    from papo.local.runtime import default_region, lambda_defaults

    region = default_region(defaults)
    credentials = {name: defaults[name] for name in _CREDENTIALS if defaults.get(name)}
    if not credentials:
        credentials = {k: v for k, v in lambda_defaults(region).items() if k in _CREDENTIALS}
    return boto3.client(
        "dynamodb",
        region_name=region,
        endpoint_url=endpoint or None,
        aws_access_key_id=credentials.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=credentials.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=credentials.get("AWS_SESSION_TOKEN"),
        config=Config(connect_timeout=5, read_timeout=10, retries={"total_max_attempts": 2}),
    )


def _table_said(problem: Problem, detail: str, where: str, table: str, endpoint: str) -> str:
    """What keeps papo from using its table, and what to do, in one line."""
    from papo.adapters.store.dynamodb_table import Problem

    create = "papo table create" + (f" --dynamodb-endpoint {endpoint}" if endpoint else "")
    because = f" ({detail})" if detail else ""
    said = {
        Problem.MISSING: f"DynamoDB at {where} has no table {table!r}: create it with `{create}`",
        Problem.UNREACHABLE: f"cannot reach DynamoDB at {where}{because}: start it (then "
        f"`{create}` makes papo's table), or give --dynamodb-endpoint its address",
        Problem.REFUSED: f"DynamoDB at {where} refused to describe table {table!r}{because}: "
        "check your AWS credentials and region",
        Problem.KEYED_OTHERWISE: f"table {table!r} at {where} is keyed by {detail}, not by "
        f"papo's pk (HASH) and sk (RANGE): set PAPO_TABLE to another name for `{create}`",
    }
    return said[problem]


def _require_table(endpoint: str, defaults: Mapping[str, str]) -> None:
    """papo serve with DynamoDB starts only where papo's table is: otherwise every
    handshake would fail with a 502, the reason in the log."""
    from papo.adapters.store.dynamodb_table import table_problem

    client = _dynamodb(endpoint, defaults)
    table = _table_name(defaults)
    found = table_problem(client, table)
    if found is not None:
        said = _table_said(*found, client.meta.endpoint_url, table, endpoint)
        raise SystemExit(f"papo serve: {said}")


def _table(args: argparse.Namespace, defaults: Mapping[str, str]) -> None:
    from botocore.exceptions import ClientError

    from papo.adapters.store.dynamodb_table import Problem, create_table, table_problem

    endpoint = args.dynamodb_endpoint
    client = _dynamodb(endpoint, defaults)
    where = client.meta.endpoint_url
    found = table_problem(client, args.table)
    if found is None:
        print(f"papo table create: table {args.table!r} is already there at {where}")
        return
    if found[0] is not Problem.MISSING:
        sys.exit(f"papo table create: {_table_said(*found, where, args.table, endpoint)}")
    try:
        create_table(client, args.table)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "") or str(error)
        sys.exit(
            f"papo table create: DynamoDB at {where} refused to create {args.table!r} ({code})"
        )
    serve = "papo serve --store dynamodb" + (f" --dynamodb-endpoint {endpoint}" if endpoint else "")
    if args.table != _table_name(defaults):
        serve = f"PAPO_TABLE={args.table} {serve}"
    print(f"papo table create: created table {args.table!r} at {where}; now: {serve}")


def main(argv: Sequence[str] | None = None) -> None:
    defaults = {**_dotenv(), **os.environ}
    args = _parser(defaults).parse_args(argv)
    if args.command == "serve":
        _serve(args, defaults)
    elif args.command == "conformance":
        from papo.conformance.command import main as conformance

        conformance(args)
    elif args.command == "invite":
        _invite(args, defaults)
    elif args.command == "room":
        _room_command(args, defaults)
    elif args.command == "table":
        _table(args, defaults)
    elif args.command == "versions":
        _versions(args, defaults)
