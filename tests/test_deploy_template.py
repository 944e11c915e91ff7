"""deploy/template.yaml: what matters once it runs on AWS, which no local run shows.

`make test` also runs cfn-lint and `sam validate --lint` on it (the
`lint-template` target); these tests check what a linter cannot know: papo's
routes, its environment, and the choices that keep a deployment working.
"""

from __future__ import annotations

from typing import Any

import pytest

from papo.aws.handler import ROUTE_KEYS
from papo.local.template import load
from papo.settings import VARIABLES
from tests.conftest import ROOT

TEMPLATE = ROOT / "deploy" / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load(TEMPLATE)


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource.get("Properties") or {}
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def target(route: dict[str, Any]) -> str:
    """The integration's logical id: `integrations/${X}`."""
    sub = route["Target"]["Fn::Sub"]
    assert sub.startswith("integrations/${")
    assert sub.endswith("}")
    return str(sub[len("integrations/${") : -1])


def test_the_routes_are_the_handlers_route_table(template: dict[str, Any]) -> None:
    """A new action in papo.core.chat.ACTIONS is a new route on AWS too."""
    routes = of_type(template, "AWS::ApiGatewayV2::Route")
    keys = sorted(route["RouteKey"] for route in routes.values())
    assert keys == sorted(ROUTE_KEYS)
    api = of_type(template, "AWS::ApiGatewayV2::Api")["WebSocketApi"]
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"


def test_every_route_but_ping_invokes_the_function(template: dict[str, Any]) -> None:
    routes = of_type(template, "AWS::ApiGatewayV2::Route")
    integrations = of_type(template, "AWS::ApiGatewayV2::Integration")
    for route in routes.values():
        if route["RouteKey"] == "ping":
            continue
        integration = integrations[target(route)]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert "${ChatFunction.Arn}" in integration["IntegrationUri"]["Fn::Sub"]


def test_ping_is_answered_by_api_gateway_itself(template: dict[str, Any]) -> None:
    """The heartbeat: a MOCK integration, its response sent back by a route response."""
    (ping,) = [
        (name, route)
        for name, route in of_type(template, "AWS::ApiGatewayV2::Route").items()
        if route["RouteKey"] == "ping"
    ]
    name, route = ping
    assert route["RouteResponseSelectionExpression"] == "$default"
    integration_id = target(route)
    integration = of_type(template, "AWS::ApiGatewayV2::Integration")[integration_id]
    assert integration["IntegrationType"] == "MOCK"
    assert integration["RequestTemplates"] == {"$default": '{"statusCode": 200}'}
    assert integration["TemplateSelectionExpression"] == "\\$default"
    (response,) = of_type(template, "AWS::ApiGatewayV2::IntegrationResponse").values()
    assert response["IntegrationId"] == {"Ref": integration_id}
    assert response["IntegrationResponseKey"] == "$default"
    assert response["ResponseTemplates"] == {"$default": '{"type": "pong"}'}
    (route_response,) = of_type(template, "AWS::ApiGatewayV2::RouteResponse").values()
    assert route_response["RouteId"] == {"Ref": name}
    assert route_response["RouteResponseKey"] == "$default"


def test_route_changes_go_live_on_update(template: dict[str, Any]) -> None:
    """A Deployment resource is created once and never again by CloudFormation, so the
    stage would keep serving the first routes; AutoDeploy deploys every change."""
    assert not of_type(template, "AWS::ApiGatewayV2::Deployment")
    (stage,) = of_type(template, "AWS::ApiGatewayV2::Stage").values()
    assert stage["AutoDeploy"] is True
    assert "DeploymentId" not in stage


def test_the_stage_is_throttled_and_logged(template: dict[str, Any]) -> None:
    (stage,) = of_type(template, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["DefaultRouteSettings"]
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    parameters = template["Parameters"]
    assert parameters["ThrottlingBurstLimit"]["Default"] > 0
    assert parameters["ThrottlingRateLimit"]["Default"] > 0
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["AccessLogGroup", "Arn"]}
    assert "$context.routeKey" in stage["AccessLogSettings"]["Format"]


def test_logs_are_json_and_kept_for_a_while(template: dict[str, Any]) -> None:
    function = of_type(template, "AWS::Serverless::Function")["ChatFunction"]
    logging = function["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    groups = of_type(template, "AWS::Logs::LogGroup")
    assert logging["LogGroup"] == {"Ref": "ChatFunctionLogGroup"}
    assert groups["ChatFunctionLogGroup"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/${AWS::StackName}-chat"
    }
    assert function["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-chat"}
    for group in groups.values():
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 14


def test_the_function_may_post_read_and_close_connections(template: dict[str, Any]) -> None:
    """papo posts frames (POST), and a resumed session closes its old connection
    (DELETE); GET reads one."""
    function = of_type(template, "AWS::Serverless::Function")["ChatFunction"]
    allowed: dict[str, set[str]] = {}
    for policy in function["Policies"]:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                allowed.setdefault(statement["Action"], set()).add(resource["Fn::Sub"])
    stage = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}"
    assert allowed["execute-api:ManageConnections"] == {
        f"{stage}:${{WebSocketApi}}/${{StageName}}/{method}/@connections/*"
        for method in ("POST", "GET", "DELETE")
    }


def test_the_environment_is_papos_own_settings(template: dict[str, Any]) -> None:
    """Every variable the template sets is one papo reads, so a typo cannot pass."""
    function = of_type(template, "AWS::Serverless::Function")["ChatFunction"]
    variables = function["Environment"]["Variables"]
    known = {name for variable in VARIABLES for name in variable.names}
    assert set(variables) <= known
    assert variables["PAPO_STORE"] == "dynamodb"
    assert variables["PAPO_TABLE"] == {"Ref": "Table"}
    assert variables["PAPO_OPENAI_KEY_PARAMETER"] == {"Ref": "OpenAiKeyParameter"}
    table = of_type(template, "AWS::DynamoDB::Table")["Table"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def test_a_failing_function_raises_an_alarm(template: dict[str, Any]) -> None:
    (alarm,) = of_type(template, "AWS::CloudWatch::Alarm").values()
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "ChatFunction"}}]
    assert alarm["TreatMissingData"] == "notBreaching"


def test_the_web_client_is_private_behind_https_and_optional(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    web = [name for name, r in resources.items() if r.get("Condition") == "HostWebClient"]
    assert {"WebBucket", "WebBucketPolicy", "WebOriginAccessControl", "WebDistribution"} <= set(web)
    assert template["Conditions"]["HostWebClient"] == {"Fn::Equals": [{"Ref": "WebClient"}, "true"]}
    bucket = resources["WebBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    (statement, *_) = resources["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert "AWS:SourceArn" in statement["Condition"]["StringEquals"]
    control = resources["WebOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (control["SigningBehavior"], control["OriginAccessControlOriginType"]) == (
        "always",
        "s3",
    )
    distribution = resources["WebDistribution"]["Properties"]["DistributionConfig"]
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    (origin,) = distribution["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    outputs = template["Outputs"]
    assert {"WebSocketUrl", "WebUrl", "WebBucket"} <= set(outputs)


def directives(policy: str) -> dict[str, str]:
    return dict(d.strip().partition(" ")[::2] for d in policy.split(";"))


def test_the_deployed_page_has_papo_serves_content_security_policy(
    template: dict[str, Any],
) -> None:
    """CloudFront sends the page the policy `papo serve` sends it: the page's own
    scripts and styles, and connections to itself and the WebSocket API (and, for
    an OpenID Connect sign-in, https: origins, as the token endpoint's host is
    the issuer's business)."""
    from papo.local.web import content_security_policy

    (distribution,) = of_type(template, "AWS::CloudFront::Distribution").values()
    behaviour = distribution["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "WebSecurityHeaders"}
    (policy,) = of_type(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert all(header["Override"] for header in headers.values())
    written, names = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert names == {"SignIn": {"Fn::If": ["SignsInWithOidc", " https:", ""]}}
    host = "a1b2c3.execute-api.us-east-1.amazonaws.com"
    deployed = directives(
        written.replace("${WebSocketApi}.execute-api.${AWS::Region}.amazonaws.com", host).replace(
            "${SignIn}", ""
        )
    )
    served = directives(content_security_policy(f"wss://{host}/prod"))
    assert deployed.pop("connect-src") == f"'self' wss://{host}"
    assert served.pop("connect-src") == f"'self' ws://{host} wss://{host}"
    assert deployed == served
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000


def test_papos_authorizer_is_on_connect_unless_anyone_may_connect() -> None:
    """The `Door` parameter (who may connect, PAPO_AUTH on AWS) switches papo's
    `$connect` authorizer on, as CloudFormation applies the template's
    conditions; off, there is none."""
    from papo.local.template import api_config

    off = api_config(TEMPLATE)
    assert off.authorizer is None
    on = api_config(TEMPLATE, parameters={"Door": "invite"})
    assert on.authorizer is not None
    assert on.authorizer.target.handler == "papo.aws.authorizer.handler"
    assert on.authorizer.identity_sources == ("route.request.querystring.token",)
    assert on.authorizer.target.environment["PAPO_AUTH"] == "invite"
    assert on.authorizer.target.environment["PAPO_INVITE_SECRET_PARAMETER"] == (
        "/papo/invite-secret"
    )
    cognito = api_config(TEMPLATE, parameters={"Door": "oidc", "OidcNameClaim": "email"})
    assert cognito.authorizer is not None
    assert cognito.authorizer.target.environment["PAPO_OIDC_NAME_CLAIM"] == "email"
