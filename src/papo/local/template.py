"""Reading a SAM / CloudFormation template's WebSocket API, for `papo serve --template`.

From the template it takes the `AWS::ApiGatewayV2::Api` whose ProtocolType
is WEBSOCKET (its route selection expression), each `AWS::ApiGatewayV2::Route`
of it, the `AWS::ApiGatewayV2::Integration` each route targets, and the
`AWS::Serverless::Function` (or `AWS::Lambda::Function` with local code) that
integration invokes: its Handler, CodeUri and environment, Globals included;
and which routes have an `AWS::ApiGatewayV2::RouteResponse` (two-way routes).
Intrinsic functions are resolved as far as a laptop can: `Ref` to a parameter
gives its default, to a table its TableName (else its logical id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from papo.local.config import ApiConfig, RouteTarget

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
    def __init__(self, template: Mapping[str, Any]) -> None:
        self.parameters = template.get("Parameters") or {}
        self.resources = template["Resources"]

    def ref(self, name: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
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


def api_config(path: Path, **options: Any) -> ApiConfig:
    """The emulated API a template describes; `options` as for `ApiConfig`."""
    template = load(path)
    resolve = _Resolver(template)
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
    routes: dict[str, RouteTarget] = {}
    with_responses: set[str] = set()
    for route_name, route in _of_type(resources, "AWS::ApiGatewayV2::Route").items():
        properties = route.get("Properties") or {}
        if api_name not in resolve.references(properties.get("ApiId")):
            continue
        key = str(properties.get("RouteKey"))
        integration = next(
            iter(resolve.references(properties.get("Target")) & set(integrations)), None
        )
        if integration is None:
            raise TemplateError(f"route {route_name} ({key}) targets no integration")
        uri = (integrations[integration].get("Properties") or {}).get("IntegrationUri")
        function = next(iter(resolve.references(uri) & set(functions)), None)
        if function is None:
            raise TemplateError(f"integration {integration} invokes no function of the template")
        routes[key] = _target(
            path.parent, function, functions[function], function_defaults, resolve
        )
        if route_name in responding:
            with_responses.add(key)
    if not routes:
        raise TemplateError(f"{path}: the WebSocket API {api_name} has no routes")
    expression = str(api_properties.get("RouteSelectionExpression", "$request.body.action"))
    return ApiConfig(
        routes=routes,
        route_selection_expression=expression,
        route_responses=frozenset(with_responses),
        **options,
    )


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
    if not isinstance(handler, str) or not isinstance(code, str):
        raise TemplateError("each function needs a Handler and a local CodeUri")
    variables = {
        **((defaults.get("Environment") or {}).get("Variables") or {}),
        **(((function.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}),
    }
    function_name = properties.get("FunctionName")
    return RouteTarget(
        handler=handler,
        code_dir=str((folder / code).resolve()),
        environment={key: resolve.value(value) for key, value in variables.items()},
        name=function_name if isinstance(function_name, str) else name,
        timeout_s=float(properties.get("Timeout") or 3),
    )
