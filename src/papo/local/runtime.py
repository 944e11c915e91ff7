"""What the process running handlers holds, as a Lambda container would.

A handler reads its configuration from `os.environ` (Lambda's contract) and
reaches AWS by name. papo serve sets both up here and nowhere else: the
environment Lambda would give the function, and the API's own AWS address
(`papo.local.hostnames`). In each worker process, once, as it starts; in the
server's own process, when handlers run in its threads, for as long as the
emulator serves, giving back what it replaced when it stops. papo's own parts
never pass options to each other through the environment.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from papo.local import hostnames
from papo.local.config import RouteTarget
from papo.local.loader import shadowed


def default_region(environ: Mapping[str, str] = os.environ) -> str:
    """The developer's region, as boto3 finds it in the environment, else us-east-1."""
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def lambda_defaults(region: str, *, exposed: bool = False) -> dict[str, str]:
    """What Lambda's environment always has and a laptop may not: the function's
    region, and credentials for boto3 (real AWS services keep using the
    developer's own when they have some). On loopback the emulator's Management
    API accepts any, and they are the placeholder `papo-local`; `exposed` (its
    calls must be signed with them), they are new at each start, so that nobody
    who read this can sign."""
    defaults = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    if not _developer_credentials():
        if exposed:
            defaults["AWS_ACCESS_KEY_ID"] = "PAPO" + secrets.token_hex(8).upper()
            defaults["AWS_SECRET_ACCESS_KEY"] = secrets.token_urlsafe(30)
        else:
            defaults["AWS_ACCESS_KEY_ID"] = "papo-local"
            defaults["AWS_SECRET_ACCESS_KEY"] = "papo-local"  # noqa: S105 - a placeholder
    return defaults


_ENTERED: list[dict[str, str | None]] = []
"""What each runtime entered in this process replaced of its environment, oldest first."""


def environment_without_runtimes() -> dict[str, str]:
    """This process's environment as it was before the runtimes entered in it:
    what an emulator's worker processes start from, so that the variables of
    another emulator's handlers running in this process's threads at that
    moment are not theirs too."""
    environment = dict(os.environ)
    for replaced in reversed(_ENTERED):
        for name, value in replaced.items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
    return environment


def _developer_credentials() -> bool:
    """Whether boto3 finds credentials of the developer's own: not those of a
    runtime entered in this process (another emulator's handlers in threads)."""
    import botocore.session

    found = botocore.session.get_session().get_credentials()
    if found is None:
        return False
    return found.method != "env" or "AWS_ACCESS_KEY_ID" in environment_without_runtimes()


@dataclass(frozen=True)
class Runtime:
    environment: Mapping[str, str] = field(default_factory=dict)
    """Set in the process's environment, over what it holds."""
    hosts: Mapping[str, hostnames.Address] = field(default_factory=dict)
    """Names that resolve, on port 443, to the emulator's https address."""

    def enter(self) -> Callable[[], None]:
        """Applies to this process; returns what gives the process back as it was."""
        replaced = {name: os.environ.get(name) for name in self.environment}
        os.environ.update(self.environment)
        _ENTERED.append(replaced)
        releases = [hostnames.claim(host, address) for host, address in self.hosts.items()]

        def leave() -> None:
            for release in releases:
                release()
            _ENTERED[:] = [entered for entered in _ENTERED if entered is not replaced]
            for name, value in replaced.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

        return leave


@dataclass(frozen=True)
class Interpreter:
    """The Python that runs a function: the one its `Runtime` names where this
    machine has it, else papo serve's own (docs/promises.md: "A function runs on
    the Python its template names")."""

    runtime: str | None
    """As the template names it (`python3.12`); None: none named."""
    path: str
    version: str
    """`3.12`"""
    found: bool = True
    """False: the named Python is not on this machine, and papo serve's runs the function."""

    language = "python"
    """What the container runs: `python`, or `node` (`papo.local.nodejs`)."""

    @property
    def foreign(self) -> bool:
        """Whether it is another Python than papo serve's, so runs in containers of its own."""
        return self.path != sys.executable

    def describe(self) -> str:
        """What runs the function, as the banner says it."""
        if not self.found:
            return (
                f"Python {self.version} ({self.path}) instead of {self.runtime}, "
                f"which is neither on PATH nor among pyenv's versions"
            )
        if self.foreign:
            return f"{self.runtime} ({self.path}), in processes of its own"
        return f"Python {self.version} ({self.path}), papo serve's own"


_THIS = f"{sys.version_info[0]}.{sys.version_info[1]}"


@functools.cache
def _version_of(python: str) -> str | None:
    """`3.12`, or None when it does not run (a pyenv shim for an inactive version, say)."""
    try:
        shown = subprocess.run(  # noqa: S603 - a Python found on PATH or among pyenv's
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return shown.stdout.strip() if shown.returncode == 0 else None


def _pyenv_pythons(version: str, environ: Mapping[str, str]) -> list[str]:
    """pyenv's `pythonX.Y` of each X.Y.* version, the newest first."""
    root = Path(environ.get("PYENV_ROOT") or Path("~/.pyenv").expanduser())

    def newest(python: Path) -> tuple[int, str]:
        patch = python.parent.parent.name.removeprefix(f"{version}.")
        return (int(patch) if patch.isdigit() else -1, patch)

    found = (root / "versions").glob(f"{version}.*/bin/python{version}")
    return [str(python) for python in sorted(found, key=newest, reverse=True)]


def find_python(version: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """A `pythonX.Y` that runs and is X.Y: on PATH (as `sam build` finds it: a
    virtual environment's, once activated), else the newest of pyenv's X.Y.*
    (in `$PYENV_ROOT`, else `~/.pyenv`), which pyenv's own shim on PATH runs
    only when that version is selected."""
    candidates = [shutil.which(f"python{version}", path=environ.get("PATH"))]
    candidates += _pyenv_pythons(version, environ)
    return next((c for c in candidates if c and _version_of(c) == version), None)


def interpreter(runtime: str | None) -> Interpreter:
    """Who runs a function of this `Runtime`: this Python when it is that
    version, else `pythonX.Y` as `find_python` finds it, else this Python,
    saying so."""
    from papo.local import nodejs

    if runtime is not None and nodejs.is_node(runtime):
        return nodejs.interpreter(runtime)
    wanted = runtime.removeprefix("python") if runtime and runtime.startswith("python") else None
    if wanted is None or wanted == _THIS:
        return Interpreter(runtime, sys.executable, _THIS)
    found = find_python(wanted)
    if found is not None:
        return Interpreter(runtime, found, wanted)
    return Interpreter(runtime, sys.executable, _THIS, found=False)


def refusal(functions: Iterable[RouteTarget]) -> str | None:
    """Why papo serve will not run these functions, if it will not: one's template
    names a Python this machine lacks, and its code has its own of modules papo
    serve's Python has imported already (papo itself, in papo's Lambda zip),
    which would run instead of the code's, silently. Code without such modules
    (or papo's own source) runs on papo serve's Python, as the banner says. Or
    one names Node.js, and this machine has no Node to run it (`papo.local.nodejs`)."""
    from papo.local import nodejs

    for target in functions:
        if nodejs.is_node(target.runtime):
            continue
        if target.runtime is None or interpreter(target.runtime).found:
            continue
        mixed = shadowed(target.code_dir)
        if mixed:
            version = target.runtime.removeprefix("python")
            return (
                f"{target.function_name} names {target.runtime}, which is neither on PATH "
                f"nor among pyenv's versions, and its code has its own {', '.join(mixed)}, "
                f"which papo serve's Python {_THIS} has imported already and would run "
                f"instead: install Python {version} (pyenv install {version}, or put a "
                f"virtual environment of it on PATH)"
            )
    return nodejs.refusal(functions)
