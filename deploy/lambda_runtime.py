"""Lambda's Python on this machine, for `make serve-lambda`: a virtual environment
of Python 3.12 with what Lambda's runtime has beside the zip (boto3, with its
bytecode, as the runtime has it), at the versions papo is tested with
(`requirements/dev.txt` as constraints).

    python -m deploy.lambda_runtime .venv-lambda    # its bin/ goes first on PATH

Its base is the Python 3.12 papo serve would find (`papo.local.runtime`):
`python3.12` on PATH, else the newest of pyenv's 3.12 versions. A bare
Python 3.12 lacks boto3, which the zip leaves to Lambda's runtime.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from deploy.lambda_zip import PYTHON_VERSION, ROOT, uv
from papo.local.runtime import find_python

IN_THE_RUNTIME = ("boto3",)
"""What Lambda's Python runtime has that the zip relies on (boto3 brings botocore)."""


def create(folder: Path) -> Path:
    """The virtual environment at `folder`, made anew; returns its `bin`."""
    base = find_python(PYTHON_VERSION)
    if base is None:
        raise SystemExit(
            f"no Python {PYTHON_VERSION} on PATH nor among pyenv's versions, and the zip "
            f"runs on Lambda's: install it (pyenv install {PYTHON_VERSION}, say)"
        )
    if folder.exists():
        shutil.rmtree(folder)
    subprocess.run([uv(), "venv", "--quiet", "--python", base, str(folder)], check=True)  # noqa: S603
    python = folder / "bin" / "python"
    command = [uv(), "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python)]
    command += IN_THE_RUNTIME
    constraints = ROOT / "requirements" / "dev.txt"
    if constraints.is_file():
        command += ["--constraint", str(constraints)]
    subprocess.run(command, check=True)  # noqa: S603 - our own command
    return folder / "bin"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.lambda_runtime", description=__doc__)
    parser.add_argument("folder", help="where the virtual environment goes")
    args = parser.parse_args(argv)
    print(f"{create(Path(args.folder))}: Python {PYTHON_VERSION} with boto3, as Lambda's")


if __name__ == "__main__":
    main()
