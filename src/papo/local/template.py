"""Reading a SAM / CloudFormation template's WebSocket API, for `papo serve --template`.

From the template it takes the `AWS::ApiGatewayV2::Api` whose ProtocolType
is WEBSOCKET (its route selection expression), each `AWS::ApiGatewayV2::Route`
of it, the `AWS::ApiGatewayV2::Integration` each route targets, and the
`AWS::Serverless::Function` (or `AWS::Lambda::Function` with local code) that
integration invokes: its Handler, CodeUri and environment, Globals included;
and which routes have an `AWS::ApiGatewayV2::RouteResponse` (two-way routes).
A `MOCK` integration invokes nothing: its request template's `statusCode`
selects one of its `AWS::ApiGatewayV2::IntegrationResponse`s (a `/regex/` key
matching the status, else `$default`), whose response template a route
response sends back. Templates are picked by a static template selection
expression (`\\$default`), else the `$default` key.
Intrinsic functions are resolved as far as a laptop can: `Ref` to a parameter
gives its value (`papo serve --parameter Name=Value`, else its default), to a
table its TableName (else its logical id).

Each function runs on the Python its `Runtime` names (`papo.local.runtime`),
with its code from its CodeUri: a folder, or a zip as Lambda takes it, unpacked
for as long as the process runs; `papo serve --code Function=PATH` (its
logical id or its FunctionName) points it elsewhere, at a built artifact say.

A handler that hard-codes its deployed API's id can be served under that id:
the API resource names it in its `Metadata`, which CloudFormation ignores
(`papo serve --api-id` says the same and wins):

    ChatApi:
      Type: AWS::ApiGatewayV2::Api
      Metadata:
        papo:
          ApiId: a1b2c3d4e5
"""

from __future__ import annotations

import atexit
import functools
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from papo.local import conditions
from papo.local.config import (
    LAMBDA_MEMORY_MB,
    LAMBDA_TIMEOUT_S,
    ApiConfig,
    Authorizer,
    MockTarget,
    RouteTarget,
    Throttle,
    Throttling,
)

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "000000000000",
    "AWS::Partition": "aws",
    "AWS::StackName": "papo-local",
    "AWS::URLSuffix": "amazonaws.com",
}
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


class TemplateError(ValueError):
    """The template does not describe a WebSocket API papo can serve."""


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms: `!Ref X` is `{"Ref": X}`, `!Sub s` is
    `{"Fn::Sub": s}`, `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`."""


def _intrinsic(loader: _Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _intrinsic)


def load(path: Path) -> dict[str, Any]:
    text = path.read_text()
    document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources")
    return document


class _Resolver:
    def __init__(
        self,
        template: Mapping[str, Any],
        region: str,
        parameters: Mapping[str, str] | None = None,
        code: Mapping[str, Path] | None = None,
    ) -> None:
        self.parameters = template.get("Parameters") or {}
        self.given = dict(parameters or {})
        unknown = sorted(set(self.given) - set(self.parameters))
        if unknown:
            known = ", ".join(self.parameters) or "none"
            raise TemplateError(
                f"no parameter {', '.join(unknown)} in the template (it has {known})"
            )
        self.code = dict(code or {})
        self.resources = template["Resources"]
        self.pseudo = {**PSEUDO, "AWS::Region": region}

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.given:
            return self.given[name]
        if name in self.parameters:
            return str(self.parameters[name].get("Default", name))
        resource = self.resources.get(name, {})
        properties = resource.get("Properties") or {}
        for key in ("TableName", "FunctionName", "QueueName", "TopicName", "BucketName"):
            if key in properties:
                return self.value(properties[key])
        return name

    def value(self, node: Any) -> str:
        """A string for an environment variable, intrinsics resolved."""
        if isinstance(node, dict) and len(node) == 1:
            ((kind, argument),) = node.items()
            if kind == "Ref":
                return self.ref(str(argument))
            if kind == "Fn::Sub":
                text, names = (argument, {}) if isinstance(argument, str) else argument
                return re.sub(
                    r"\$\{([^}!]+)\}",
                    lambda m: self.value(names[m[1]]) if m[1] in names else self.ref(m[1]),
                    text,
                )
            if kind == "Fn::GetAtt":
                return ".".join(map(str, argument))
            if kind == "Fn::Join":
                separator, parts = argument
                return str(separator).join(self.value(part) for part in parts)
        return str(node)

    def references(self, node: Any) -> set[str]:
        """Every logical id a node names, through Ref, GetAtt and Sub."""
        if isinstance(node, dict):
            found: set[str] = set()
            for kind, argument in node.items():
                if kind == "Ref" and isinstance(argument, str):
                    found.add(argument)
                elif kind == "Fn::GetAtt":
                    found.add(str(argument[0]))
                elif kind == "Fn::Sub":
                    text = argument if isinstance(argument, str) else argument[0]
                    found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
                    if not isinstance(argument, str):
                        found |= self.references(argument[1])
                else:
                    found |= self.references(argument)
            return found
        if isinstance(node, list):
            return set().union(*(self.references(item) for item in node)) if node else set()
        return set()


def _of_type(resources: Mapping[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r.get("Type") in types}


def api_config(
    path: Path,
    *,
    parameters: Mapping[str, str] | None = None,
    code: Mapping[str, Path] | None = None,
    **options: Any,
) -> ApiConfig:
    """The emulated API a template describes, with these parameters' values and
    functions' code (by logical id or FunctionName); `options` as for `ApiConfig`.
    Without a `stage`, the API's stage is served, as the template names it (when
    it declares one), so the URL is the deployed one's path."""
    loaded = load(path)
    region = options.get("region") or PSEUDO["AWS::Region"]
    try:
        template = conditions.apply(loaded, _Resolver(loaded, region, parameters, code).ref)
    except conditions.ConditionError as error:
        raise TemplateError(f"{path}: {error}") from None
    resolve = _Resolver(template, region, parameters, code)
    resources = template["Resources"]
    apis = {
        name: api
        for name, api in _of_type(resources, "AWS::ApiGatewayV2::Api").items()
        if (api.get("Properties") or {}).get("ProtocolType") == "WEBSOCKET"
    }
    if len(apis) != 1:
        raise TemplateError(f"{path} must have one WebSocket API, not {len(apis)}")
    ((api_name, api),) = apis.items()
    api_properties = api.get("Properties") or {}
    function_defaults = ((template.get("Globals") or {}).get("Function")) or {}
    functions = _of_type(resources, *FUNCTION_TYPES)
    integrations = _of_type(resources, "AWS::ApiGatewayV2::Integration")

    responding = set()
    for response in _of_type(resources, "AWS::ApiGatewayV2::RouteResponse").values():
        responding |= resolve.references((response.get("Properties") or {}).get("RouteId"))
    responses_of: dict[str, list[Mapping[str, Any]]] = {}
    for response in _of_type(resources, "AWS::ApiGatewayV2::IntegrationResponse").values():
        response_properties = response.get("Properties") or {}
        for name in resolve.references(response_properties.get("IntegrationId")):
            responses_of.setdefault(name, []).append(response_properties)
    routes: dict[str, RouteTarget] = {}
    mocks: dict[str, MockTarget] = {}
    with_responses: set[str] = set()
    connect_route: Mapping[str, Any] | None = None
    for route_name, route in _of_type(resources, "AWS::ApiGatewayV2::Route").items():
        properties = route.get("Properties") or {}
        if api_name not in resolve.references(properties.get("ApiId")):
            continue
        key = str(properties.get("RouteKey"))
        if key == "$connect":
            connect_route = properties
        integration = next(
            iter(resolve.references(properties.get("Target")) & set(integrations)), None
        )
        if integration is None:
            raise TemplateError(f"route {route_name} ({key}) targets no integration")
        if route_name in responding:
            with_responses.add(key)
        integration_properties = integrations[integration].get("Properties") or {}
        if integration_properties.get("IntegrationType") == "MOCK":
            mocks[key] = _mock(integration_properties, responses_of.get(integration, []))
            continue
        uri = integration_properties.get("IntegrationUri")
        function = next(iter(resolve.references(uri) & set(functions)), None)
        if function is None:
            raise TemplateError(f"integration {integration} invokes no function of the template")
        routes[key] = _target(
            path.parent, function, functions[function], function_defaults, resolve
        )
    if not routes and not mocks:
        raise TemplateError(f"{path}: the WebSocket API {api_name} has no routes")
    expression = str(api_properties.get("RouteSelectionExpression", "$request.body.action"))
    named = ((api.get("Metadata") or {}).get("papo") or {}).get("ApiId")
    if named is not None and options.get("api_id") is None:
        options["api_id"] = str(named)
    stages = _stages(resources, api_name, resolve)
    if options.get("stage") is None and len(stages) == 1 and "StageName" in stages[0]:
        options["stage"] = resolve.value(stages[0]["StageName"])
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", options["stage"]):
            raise TemplateError(f"{path}: {options['stage']!r} is no stage name")
    options = {name: value for name, value in options.items() if value is not None}
    authorizer = _authorizer(path.parent, connect_route, template, resolve)
    served = [*routes.values(), *([authorizer.target] if authorizer else [])]
    _check_code_names(resolve.code, functions, served)
    throttling = _throttling(stages, str(options.get("stage", ApiConfig.stage)), resolve)
    return ApiConfig(
        routes=routes,
        route_selection_expression=expression,
        route_responses=frozenset(with_responses),
        mocks=mocks,
        authorizer=authorizer,
        throttling=throttling,
        **options,
    )


def _authorizer(
    folder: Path, route: Mapping[str, Any] | None, template: Mapping[str, Any], resolve: _Resolver
) -> Authorizer | None:
    """The `REQUEST` authorizer a `$connect` route with `AuthorizationType: CUSTOM`
    names by its `AuthorizerId`, and the function its `AuthorizerUri` invokes."""
    if route is None or str(route.get("AuthorizationType", "NONE")).upper() != "CUSTOM":
        return None
    resources = template["Resources"]
    authorizers = _of_type(resources, "AWS::ApiGatewayV2::Authorizer")
    name = next(iter(resolve.references(route.get("AuthorizerId")) & set(authorizers)), None)
    if name is None:
        raise TemplateError(
            "the $connect route's AuthorizerId names no AWS::ApiGatewayV2::Authorizer"
        )
    properties = authorizers[name].get("Properties") or {}
    if properties.get("AuthorizerType") != "REQUEST":
        raise TemplateError(f"authorizer {name}: a WebSocket API's authorizer is of type REQUEST")
    functions = _of_type(resources, *FUNCTION_TYPES)
    uri = properties.get("AuthorizerUri")
    function = next(iter(resolve.references(uri) & set(functions)), None)
    if function is None:
        function = _named_in_arn(resolve.value(uri), functions, resolve)
    if function is None:
        raise TemplateError(f"authorizer {name} invokes no function of the template")
    sources = properties.get("IdentitySource") or []
    if isinstance(sources, str):
        sources = sources.split(",")
    defaults = ((template.get("Globals") or {}).get("Function")) or {}
    target = _target(folder, function, functions[function], defaults, resolve)
    try:
        return Authorizer(target, tuple(resolve.value(s).strip() for s in sources))
    except ValueError as error:
        raise TemplateError(f"authorizer {name}: {error}") from None


def _named_in_arn(
    uri: str, functions: Mapping[str, Mapping[str, Any]], resolve: _Resolver
) -> str | None:
    """The function a literal invocation URI names by its ARN
    (`…/functions/arn:aws:lambda:…:function:NAME/invocations`): by its
    FunctionName, or its logical id."""
    found = re.search(r":function:([^/:]+)", uri)
    if found is None:
        return None
    for logical_id, function in functions.items():
        named = (function.get("Properties") or {}).get("FunctionName")
        if found[1] in (logical_id, resolve.value(named) if named is not None else None):
            return logical_id
    return None


def _stages(
    resources: Mapping[str, Any], api_name: str, resolve: _Resolver
) -> list[Mapping[str, Any]]:
    """The properties of the API's `AWS::ApiGatewayV2::Stage`s."""
    return [
        properties
        for resource in _of_type(resources, "AWS::ApiGatewayV2::Stage").values()
        if api_name
        in resolve.references((properties := resource.get("Properties") or {}).get("ApiId"))
    ]


def _throttling(stages: list[Mapping[str, Any]], stage: str, resolve: _Resolver) -> Throttling:
    """The throttling of the API's stage named as the served stage (else of its
    only one): `DefaultRouteSettings` and `RouteSettings`, a route's unset limit
    taken from the stage's."""
    named = [p for p in stages if resolve.value(p.get("StageName")) == stage]
    chosen = named[0] if named else (stages[0] if len(stages) == 1 else None)
    if chosen is None:
        return Throttling()
    default = _throttle(chosen.get("DefaultRouteSettings"), resolve) or Throttle()
    routes: dict[str, Throttle] = {}
    for key, settings in (chosen.get("RouteSettings") or {}).items():
        own = _throttle(settings, resolve)
        if own is not None:
            routes[str(key)] = own.over(default)
    stage_limits = default if default != Throttle() else None
    return Throttling(stage=stage_limits, routes=routes)


def _throttle(settings: Any, resolve: _Resolver) -> Throttle | None:
    if not isinstance(settings, dict):
        return None
    burst, rate = settings.get("ThrottlingBurstLimit"), settings.get("ThrottlingRateLimit")
    if burst is None and rate is None:
        return None
    try:
        return Throttle(
            None if burst is None else int(float(resolve.value(burst))),
            None if rate is None else float(resolve.value(rate)),
        )
    except ValueError as error:
        raise TemplateError(f"stage throttling: {error}") from None


def _selected(templates: Any, expression: Any) -> str | None:
    """The template a static selection expression (`\\$default`, `application/json`)
    names, else the `$default` one; a dynamic one (`${request.body.x}`) is not
    evaluated."""
    if not isinstance(templates, dict):
        return None
    key = str(expression).replace("\\$", "$") if expression is not None else "$default"
    found = templates.get(key, templates.get("$default"))
    return found if isinstance(found, str) else None


def _status_code(request_template: str | None) -> int | None:
    """The `statusCode` a MOCK integration's request template gives, read as JSON."""
    try:
        status = json.loads(request_template or "").get("statusCode")
    except (ValueError, AttributeError):
        return None
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _matches(key: str, status: int) -> bool:
    """Whether an integration response key, a pattern like `/2\\d\\d/`, matches a status."""
    if not (len(key) > 2 and key.startswith("/") and key.endswith("/")):
        return False
    try:
        return re.fullmatch(key[1:-1], str(status)) is not None
    except re.error as error:
        raise TemplateError(f"integration response key {key!r}: {error}") from None


def _mock(integration: Mapping[str, Any], responses: list[Mapping[str, Any]]) -> MockTarget:
    """A MOCK integration, its integration response selected by its status code."""
    request = _selected(
        integration.get("RequestTemplates"), integration.get("TemplateSelectionExpression")
    )
    status = _status_code(request)
    if status is None:
        return MockTarget(status_code=None)
    by_key = {str(r.get("IntegrationResponseKey")): r for r in responses}
    matching = (r for key, r in by_key.items() if _matches(key, status))
    chosen = next(matching, by_key.get("$default"))
    if chosen is None:
        return MockTarget(status_code=status)
    body = _selected(chosen.get("ResponseTemplates"), chosen.get("TemplateSelectionExpression"))
    return MockTarget(status_code=status, response=body)


def _target(
    folder: Path,
    name: str,
    function: Mapping[str, Any],
    defaults: Mapping[str, Any],
    resolve: _Resolver,
) -> RouteTarget:
    properties = {**defaults, **(function.get("Properties") or {})}
    handler = properties.get("Handler")
    code = properties.get("CodeUri") or (properties.get("Code") or {})
    function_name = properties.get("FunctionName")
    function_name = resolve.value(function_name) if function_name is not None else name
    given = resolve.code.get(name) or resolve.code.get(function_name)
    if not isinstance(handler, str) or not (isinstance(code, str) or given):
        raise TemplateError("each function needs a Handler and a local CodeUri")
    variables = {
        **((defaults.get("Environment") or {}).get("Variables") or {}),
        **(((function.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}),
    }
    runtime = properties.get("Runtime")
    return RouteTarget(
        handler=handler,
        code_dir=code_folder(given or folder / str(code)),
        environment={key: resolve.value(value) for key, value in variables.items()},
        name=function_name,
        timeout_s=float(resolve.value(properties.get("Timeout") or LAMBDA_TIMEOUT_S)),
        memory_mb=int(resolve.value(properties.get("MemorySize") or LAMBDA_MEMORY_MB)),
        log_format=resolve.value(
            (properties.get("LoggingConfig") or {}).get("LogFormat") or "Text"
        ),
        runtime=runtime if isinstance(runtime, str) else None,
    )


def _check_code_names(
    code: Mapping[str, Path], functions: Mapping[str, Any], served: list[RouteTarget]
) -> None:
    known = set(functions) | {target.function_name for target in served}
    unknown = sorted(set(code) - known)
    if unknown:
        raise TemplateError(
            f"no function {', '.join(unknown)} in the template (it has {', '.join(functions)})"
        )


def code_folder(path: Path) -> str:
    """A function's code folder: `path`, or, for a zip, where it is unpacked."""
    path = path.resolve()
    if path.is_file() and zipfile.is_zipfile(path):
        return _unpacked(path, path.stat().st_mtime_ns)
    return str(path)


@functools.cache
def _unpacked(archive: Path, _modified: int) -> str:
    """The zip's files in a folder of their own, removed as the process ends."""
    folder = tempfile.mkdtemp(prefix=f"{archive.stem}-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder)
    return folder
