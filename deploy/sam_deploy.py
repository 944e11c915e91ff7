"""`make deploy`'s stack: the Lambda zip of one architecture, deployed by `sam deploy`.

    python -m deploy.sam_deploy --arch x86_64 -- sam     # then SAM's own command

The template's functions take their code from `dist/papo-lambda.zip` and their
architecture from its `Architecture` parameter: the zip `make lambda` built for
ARCH (`dist/papo-lambda-ARCH.zip`) is copied there, and `Architecture` set to
ARCH. The first deploy is guided: SAM asks for the stack's region and
parameters and saves them, with its name, in `deploy/samconfig.toml`. Later
ones pass the saved parameters again, `Architecture` over them: SAM's command
line would otherwise replace them with the template's defaults.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from deploy import samconfig
from deploy.lambda_zip import PLATFORMS, ROOT, zip_path

DEPLOYED = ROOT / "dist" / "papo-lambda.zip"
"""The template's CodeUri."""


def command(sam: list[str], arch: str, config: Path, stack: str) -> list[str]:
    """SAM's deploy command, guided when `config` is not there yet."""
    if not config.is_file():
        return [
            *sam,
            "deploy",
            "--guided",
            "--template",
            "template.yaml",
            "--stack-name",
            stack,
            "--capabilities",
            "CAPABILITY_IAM",
            "--parameter-overrides",
            *samconfig.overrides({"Architecture": arch}),
        ]
    parameters = {**samconfig.read(config).parameters, "Architecture": arch}
    return [
        *sam,
        "deploy",
        "--template",
        "template.yaml",
        "--parameter-overrides",
        *samconfig.overrides(parameters),
    ]


def stage(arch: str, dist: Path = ROOT / "dist", deployed: Path = DEPLOYED) -> Path:
    """Puts the zip of `arch` where the template takes its code."""
    if arch not in PLATFORMS:
        raise SystemExit(f"the architecture is arm64 or x86_64, not {arch!r}")
    built = zip_path(arch, dist)
    if not built.is_file():
        raise SystemExit(f"no {built}: build it first (make lambda ARCH={arch})")
    shutil.copyfile(built, deployed)
    return deployed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.sam_deploy", description=__doc__)
    parser.add_argument("--arch", default="arm64", choices=sorted(PLATFORMS))
    parser.add_argument("--stack", default="papo", help="the stack's name, the first time [papo]")
    parser.add_argument("sam", nargs="+", help="SAM CLI's command, after --")
    args = parser.parse_args(argv)
    stage(args.arch)
    folder = samconfig.PATH.parent
    run = command(args.sam, args.arch, samconfig.PATH, args.stack)
    raise SystemExit(subprocess.run(run, cwd=folder, check=False).returncode)  # noqa: S603


if __name__ == "__main__":
    main()
