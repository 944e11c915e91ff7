"""The Lambda zip: papo without its emulator, and what Lambda's Python 3.12 runtime lacks.

    python -m deploy.lambda_zip --arch arm64     # dist/papo-lambda-arm64.zip (make lambda)

Lambda's runtime already has boto3 and botocore (with s3transfer, jmespath,
urllib3, python-dateutil and six); the zip brings papo's other dependencies
as wheels for the function's architecture, whatever machine builds it
(`uv pip install --python-platform … --only-binary :all:`), at the versions
papo is tested with (`requirements/dev.txt` as constraints). The emulator
(`papo/local`) and the command line stay out.

Every module comes with its bytecode, compiled by Python 3.12 (the runtime's:
bytecode is version-specific), found as `papo serve` finds it. Lambda's
`/var/task` is read-only: a module without bytecode would be compiled again at
every cold start (`bench/cold_start.py` measures what that costs). The
bytecode is hash-based and unchecked, so neither the zip's dates nor the
source's are ever compared; the zip is immutable once deployed.

Entries are sorted, dated 1980-01-01 and readable by all, so the same sources
make the same zip.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from papo.local.runtime import find_python

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {"arm64": "aarch64-manylinux2014", "x86_64": "x86_64-manylinux2014"}
PYTHON_VERSION = "3.12"
HANDLER = "papo.aws.handler.handler"

IN_THE_RUNTIME = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil")
"""Distributions Lambda's Python runtime provides (six too, which nothing here needs)."""
_RUNTIME_FILES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six.py")

LEFT_OUT = ("papo/local", "papo/cli.py", "papo/__main__.py")
"""papo's emulator and command line: `papo serve` is not for Lambda."""
_JUNK = ("__pycache__", "*.pyc", "bin", ".lock")
"""Not copied with papo's sources: the zip's bytecode is compiled afresh, by 3.12."""
_ZIP_JUNK = ("bin", ".lock")
"""What uv leaves beside the packages it installs: their scripts, its lock."""

TASK_ROOT = "/var/task"
"""Where Lambda unpacks the zip: the folder the bytecode names as its sources'."""


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """papo's dependencies that the runtime lacks."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return [
        requirement
        for requirement in project["dependencies"]
        if _distribution(requirement) not in IN_THE_RUNTIME
    ]


def _distribution(requirement: str) -> str:
    name = requirement
    for separator in "<>=!~[; ":
        name = name.partition(separator)[0]
    return name.strip().lower().replace("_", "-")


def uv() -> str:
    """uv from papo's own virtual environment (make install puts it there), else PATH."""
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise SystemExit("the Lambda zip is built with uv: pip install uv")
    return found


def install_dependencies(target: Path, arch: str) -> None:
    command = [
        uv(),
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        "--python-platform",
        PLATFORMS[arch],
        "--python-version",
        PYTHON_VERSION,
        "--only-binary",
        ":all:",
    ]
    constraints = ROOT / "requirements" / "dev.txt"
    if constraints.is_file():
        command += ["--constraint", str(constraints)]
    subprocess.run([*command, *requirements()], check=True)  # noqa: S603 - our own command
    for name in _RUNTIME_FILES:
        for found in target.glob(name):
            _remove(found)
        for info in target.glob(f"{name.removesuffix('.py')}-*.dist-info"):
            _remove(info)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def copy_papo(target: Path, source: Path = ROOT / "src" / "papo") -> None:
    shutil.copytree(source, target / "papo", ignore=shutil.ignore_patterns(*_JUNK))
    for left_out in LEFT_OUT:
        _remove(target / left_out)


def runtime_python() -> str:
    """The Python 3.12 that compiles the zip's bytecode."""
    found = find_python(PYTHON_VERSION)
    if found is None:
        raise SystemExit(
            f"no Python {PYTHON_VERSION} on PATH nor among pyenv's versions, and the zip's "
            f"bytecode is compiled by Lambda's: install it (pyenv install {PYTHON_VERSION}, say)"
        )
    return found


def compile_bytecode(folder: Path, python: str) -> None:
    """Each module's `__pycache__/*.cpython-312.pyc`, compiled by `python`; any
    bytecode already there is thrown away first (uv may compile with another
    Python). The bytecode names its sources under /var/task whatever folder
    it is compiled in, so the same sources make the same bytes. One process
    compiles them all, in order: marshal marks an object it writes more than
    once by the object's reference count, which in a pool of processes
    depends on which files each happened to compile before, so parallel
    builds of the same sources could differ in a few bytes."""
    for stale in sorted(folder.rglob("__pycache__")):
        shutil.rmtree(stale)
    command = [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash"]
    command += ["-s", str(folder), "-p", TASK_ROOT, str(folder)]
    subprocess.run(command, check=True)  # noqa: S603 - our own command


def _files(folder: Path) -> list[Path]:
    found = []
    for directory, subdirectories, names in os.walk(folder):
        subdirectories[:] = sorted(
            d for d in subdirectories if not any(fnmatch.fnmatch(d, j) for j in _ZIP_JUNK)
        )
        found += [
            Path(directory, n) for n in names if not any(fnmatch.fnmatch(n, j) for j in _ZIP_JUNK)
        ]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def write_zip(folder: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for file in _files(folder):
            entry = zipfile.ZipInfo(file.relative_to(folder).as_posix(), (1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o100644 << 16  # a regular file Lambda's user can read
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, file.read_bytes())
    partial.replace(path)


def zip_path(arch: str, dist: Path = ROOT / "dist") -> Path:
    return dist / f"papo-lambda-{arch}.zip"


def build(arch: str, dist: Path = ROOT / "dist") -> Path:
    """Builds `dist/papo-lambda-{arch}.zip`; returns its path."""
    if arch not in PLATFORMS:
        raise SystemExit(f"the architecture is arm64 or x86_64, not {arch!r}")
    python = runtime_python()
    with tempfile.TemporaryDirectory(prefix="papo-lambda-") as staging:
        folder = Path(staging)
        install_dependencies(folder, arch)
        copy_papo(folder)
        compile_bytecode(folder, python)
        path = zip_path(arch, dist)
        write_zip(folder, path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.lambda_zip", description=__doc__)
    parser.add_argument("--arch", default="arm64", choices=sorted(PLATFORMS))
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="where the zip goes")
    args = parser.parse_args(argv)
    path = build(args.arch, Path(args.dist))
    size = path.stat().st_size
    print(
        f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}: "
        f"{size / 1e6:.1f} MB; handler {HANDLER}, runtime python{PYTHON_VERSION}, {args.arch}"
    )


if __name__ == "__main__":
    main()
