"""`make deploy`'s stack step: the zip of ARCH, deployed on ARCH, with the parameters
the guided deploy saved in deploy/samconfig.toml (SAM's command line would replace
them whole), and the stack's name and region read back from there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy import lambda_zip, sam_deploy, samconfig
from papo.local.template import load
from tests.conftest import ROOT

TEMPLATE = ROOT / "deploy" / "template.yaml"
SAVED = """version = 0.1
[default.deploy.parameters]
stack_name = "papo-team"
resolve_s3 = true
s3_prefix = "papo-team"
region = "eu-west-1"
capabilities = "CAPABILITY_IAM"
parameter_overrides = "StageName=\\"prod\\" Door=\\"invite\\" BotBaseUrl=\\"\\" \
BotModel=\\"say \\\\\\"hi\\\\\\"\\" Architecture=\\"arm64\\""
image_repositories = []
[default.global.parameters]
region = "eu-west-1"
"""
SAM = ["env", "SAM_CLI_TELEMETRY=0", "sam"]


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "samconfig.toml"
    path.write_text(SAVED)
    return path


def test_what_the_guided_deploy_saved_is_read_back(saved: Path) -> None:
    found = samconfig.read(saved)
    assert (found.stack, found.region) == ("papo-team", "eu-west-1")
    assert found.parameters == {
        "StageName": "prod",
        "Door": "invite",
        "BotBaseUrl": "",
        "BotModel": 'say "hi"',
        "Architecture": "arm64",
    }


def test_a_region_saved_only_globally_and_parameters_as_a_list(tmp_path: Path) -> None:
    path = tmp_path / "samconfig.toml"
    path.write_text(
        "version = 0.1\n[default.deploy.parameters]\nstack_name = 'papo'\n"
        "parameter_overrides = ['Door=invite', 'Language=\"pt-BR\"']\n"
        "[default.global.parameters]\nregion = 'sa-east-1'\n"
    )
    found = samconfig.read(path)
    assert (found.stack, found.region) == ("papo", "sa-east-1")
    assert found.parameters == {"Door": "invite", "Language": "pt-BR"}
    assert samconfig.read(tmp_path / "absent.toml") == samconfig.Saved()


def test_later_deploys_keep_the_saved_parameters_with_the_architecture_over_them(
    saved: Path,
) -> None:
    command = sam_deploy.command(SAM, "x86_64", saved, "papo")
    assert command[: len(SAM) + 5] == [
        *SAM,
        "deploy",
        "--template",
        "template.yaml",
        "--parameter-overrides",
        'StageName="prod"',
    ]
    words = command[len(SAM) + 4 :]
    assert words == samconfig.overrides(
        {**samconfig.read(saved).parameters, "Architecture": "x86_64"}
    )
    assert samconfig.parameters(" ".join(words)) == {
        "StageName": "prod",
        "Door": "invite",
        "BotBaseUrl": "",
        "BotModel": 'say "hi"',
        "Architecture": "x86_64",
    }


def test_the_first_deploy_is_guided_with_the_architecture_as_its_default(tmp_path: Path) -> None:
    assert sam_deploy.command(SAM, "x86_64", tmp_path / "samconfig.toml", "papo") == [
        *SAM,
        "deploy",
        "--guided",
        "--template",
        "template.yaml",
        "--stack-name",
        "papo",
        "--capabilities",
        "CAPABILITY_IAM",
        "--parameter-overrides",
        'Architecture="x86_64"',
    ]


def test_the_zip_of_the_architecture_is_what_the_template_deploys(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    for arch in lambda_zip.PLATFORMS:
        lambda_zip.zip_path(arch, dist).write_bytes(arch.encode())
    deployed = dist / "papo-lambda.zip"
    sam_deploy.stage("x86_64", dist, deployed)
    assert deployed.read_bytes() == b"x86_64"
    with pytest.raises(SystemExit, match=r"make lambda ARCH=arm64"):
        sam_deploy.stage("arm64", tmp_path, deployed)


def test_the_templates_functions_run_the_staged_zip_on_its_architecture() -> None:
    template: dict[str, Any] = load(TEMPLATE)
    parameter = template["Parameters"]["Architecture"]
    assert (parameter["Default"], sorted(parameter["AllowedValues"])) == (
        "arm64",
        sorted(lambda_zip.PLATFORMS),
    )
    assert template["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    functions = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    assert len(functions) == 2  # the chat and the authorizer
    for properties in functions:
        assert "Architectures" not in properties
        assert (TEMPLATE.parent / properties["CodeUri"]).resolve() == sam_deploy.DEPLOYED
