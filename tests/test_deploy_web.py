"""`make deploy`'s last step: the web client uploaded to the stack's bucket (moto's S3),
each file with its content type and caching, beside a config.json naming the stack's
WebSocket API and, when the stack asks for ID tokens (`Door=oidc`), the issuer the page
signs in with."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest

from deploy import publish_web

STACK_OUTPUTS = """{{"Parameters": {{"Door": {{"Type": "String", "Default": "off"}},
"OidcIssuer": {{"Type": "String", "Default": ""}},
"OidcAudience": {{"Type": "String", "Default": ""}}}},
"Resources": {{"Web": {{"Type": "AWS::S3::Bucket"}}}},
"Outputs": {{"WebBucket": {{"Value": {{"Ref": "Web"}}}},
"WebUrl": {{"Value": "https://d111111abcdef8.cloudfront.net/"}},
"WebSocketUrl": {{"Value": "{url}"}}}}}}"""
WEBSOCKET_URL = "wss://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A client as Vite builds it: the page, hashed assets, and a file of its own name."""
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text('<script src="/assets/index-DKVaswBp.js"></script>')
    (folder / "assets" / "index-DKVaswBp.js").write_text("console.log('papo')")
    (folder / "assets" / "index-vFnec8Ec.css").write_text("body {}")
    (folder / "favicon.svg").write_text("<svg/>")
    (folder / "config.json").write_text('{"websocketUrl": "ws://127.0.0.1:8000/dev"}')
    return folder


ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"


def create_stack(**parameters: str) -> str:
    """A stack with the template's outputs, its bucket, and these parameters."""
    name = f"papo-{uuid.uuid4().hex[:8]}"
    boto3.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=STACK_OUTPUTS.format(url=WEBSOCKET_URL),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    return name


@pytest.fixture
def endpoints(moto_url: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", moto_url)


@pytest.fixture
def stack(endpoints: None) -> str:
    return create_stack()


def test_the_client_lands_in_the_stacks_bucket_with_types_and_caching(
    stack: str, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = publish_web.main(["--stack", stack, "--dist", str(dist)])
    assert url == "https://d111111abcdef8.cloudfront.net/"
    assert "open https://d111111abcdef8.cloudfront.net/" in capsys.readouterr().out

    outputs = publish_web.stack_outputs(boto3.client("cloudformation"), stack)
    s3 = boto3.client("s3")
    bucket = outputs["WebBucket"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == [
        "assets/index-DKVaswBp.js",
        "assets/index-vFnec8Ec.css",
        "config.json",
        "favicon.svg",
        "index.html",
    ]
    expected = {
        "index.html": ("text/html; charset=utf-8", "no-cache"),
        "config.json": ("application/json", "no-cache"),
        "favicon.svg": ("image/svg+xml", "no-cache"),
        "assets/index-DKVaswBp.js": (
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        "assets/index-vFnec8Ec.css": (
            "text/css; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
    }
    for key, (content_type, cache_control) in expected.items():
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache_control), key
    config = json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read())
    assert config == {"websocketUrl": WEBSOCKET_URL}  # the stack's, not the local one
    page = s3.get_object(Bucket=bucket, Key="index.html")["Body"].read()
    assert page == (dist / "index.html").read_bytes()


def published_config(stack: str, dist: Path) -> dict[str, object]:
    publish_web.main(["--stack", stack, "--dist", str(dist)])
    bucket = publish_web.stack_outputs(boto3.client("cloudformation"), stack)["WebBucket"]
    body = boto3.client("s3").get_object(Bucket=bucket, Key="config.json")["Body"].read()
    config: dict[str, object] = json.loads(body)
    return config


def test_a_stack_asking_for_id_tokens_names_its_issuer_for_the_page_to_sign_in(
    endpoints: None, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = create_stack(Door="oidc", OidcIssuer=ISSUER, OidcAudience="papo-web-client")
    assert published_config(stack, dist) == {
        "websocketUrl": WEBSOCKET_URL,
        "oidc": {"issuer": ISSUER, "clientId": "papo-web-client"},
    }
    said = capsys.readouterr().out
    assert "https://d111111abcdef8.cloudfront.net/ as a redirect URI" in said


@pytest.mark.parametrize("mode", ["off", "invite"])
def test_a_stack_asking_for_no_id_token_names_no_issuer(
    endpoints: None, dist: Path, mode: str
) -> None:
    stack = create_stack(Door=mode, OidcIssuer=ISSUER, OidcAudience="papo-web-client")
    assert published_config(stack, dist) == {"websocketUrl": WEBSOCKET_URL}


def test_a_stack_asking_for_id_tokens_without_its_issuer_says_so(
    endpoints: None, dist: Path
) -> None:
    stack = create_stack(Door="oidc")
    with pytest.raises(SystemExit, match="without OidcIssuer and OidcAudience"):
        publish_web.main(["--stack", stack, "--dist", str(dist)])


def test_the_page_goes_last_once_what_it_names_is_there(dist: Path) -> None:
    order = [upload.key for upload in publish_web.uploads(dist, WEBSOCKET_URL)]
    assert order[-2:] == ["config.json", "index.html"]
    assert order.index("assets/index-DKVaswBp.js") < order.index("favicon.svg")


def test_a_stack_without_the_web_client_says_so(
    moto_url: str, aws_env: None, monkeypatch: pytest.MonkeyPatch, dist: Path
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", moto_url)
    name = f"papo-{uuid.uuid4().hex[:8]}"
    template = {
        "Resources": {"Web": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"WebSocketUrl": {"Value": WEBSOCKET_URL}},
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    with pytest.raises(SystemExit, match="no output WebBucket"):
        publish_web.main(["--stack", name, "--dist", str(dist)])


def test_no_built_client_no_upload(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make web"):
        publish_web.uploads(tmp_path, WEBSOCKET_URL)


def write_samconfig(folder: Path, stack: str, region: str) -> Path:
    """deploy/samconfig.toml as `sam deploy --guided` saves it."""
    path = folder / "samconfig.toml"
    path.write_text(
        "version = 0.1\n"
        "[default.deploy.parameters]\n"
        f'stack_name = "{stack}"\n'
        "resolve_s3 = true\n"
        f'region = "{region}"\n'
        'capabilities = "CAPABILITY_IAM"\n'
        'parameter_overrides = "StageName=\\"prod\\" WebClient=\\"true\\""\n'
        "[default.global.parameters]\n"
        f'region = "{region}"\n'
    )
    return path


def test_the_stack_and_region_are_the_ones_sam_deploy_saved(
    endpoints: None, dist: Path, tmp_path: Path
) -> None:
    """The guided deploy put the stack in eu-west-1, not in AWS's default region
    (the environment's us-east-1): the upload goes there too."""
    region = "eu-west-1"
    name = f"papo-{uuid.uuid4().hex[:8]}"
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName=name, TemplateBody=STACK_OUTPUTS.format(url=WEBSOCKET_URL)
    )
    config = write_samconfig(tmp_path, name, region)
    url = publish_web.main(["--samconfig", str(config), "--dist", str(dist)])
    assert url == "https://d111111abcdef8.cloudfront.net/"
    cloudformation = boto3.client("cloudformation", region_name=region)
    bucket = publish_web.stack_outputs(cloudformation, name)["WebBucket"]
    s3 = boto3.client("s3", region_name=region)
    body = s3.get_object(Bucket=bucket, Key="config.json")["Body"].read()
    assert json.loads(body) == {"websocketUrl": WEBSOCKET_URL}


WITHOUT_WEB_CLIENT = {
    "Parameters": {"WebClient": {"Type": "String", "Default": "true"}},
    "Conditions": {"HostWebClient": {"Fn::Equals": [{"Ref": "WebClient"}, "true"]}},
    "Resources": {
        "Table": {"Type": "AWS::S3::Bucket"},
        "Web": {"Type": "AWS::S3::Bucket", "Condition": "HostWebClient"},
    },
    "Outputs": {
        "WebSocketUrl": {"Value": WEBSOCKET_URL},
        "WebBucket": {"Condition": "HostWebClient", "Value": {"Ref": "Web"}},
    },
}


def test_a_stack_deployed_without_its_web_client_publishes_nothing_and_says_so(
    endpoints: None, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`WebClient=false`: the stack has no bucket, and make deploy ends well."""
    name = f"papo-{uuid.uuid4().hex[:8]}"
    boto3.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(WITHOUT_WEB_CLIENT),
        Parameters=[{"ParameterKey": "WebClient", "ParameterValue": "false"}],
    )
    assert publish_web.main(["--stack", name, "--dist", str(dist)]) == ""
    said = capsys.readouterr().out.strip()
    assert said == (
        f"web client: none to publish (stack {name} has WebClient=false); "
        f"its WebSocket API: {WEBSOCKET_URL}"
    )
