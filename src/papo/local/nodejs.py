"""Node.js functions: the Node that runs them, and the AWS SDK Lambda gives them.

A function whose `Runtime` is `nodejsNN.x` runs in containers of its own
(`papo.local.containers`), each a `node` process running
`node/bootstrap.mjs`, which loads the handler as Lambda's Node.js runtime
loads it. The machine's `node` on PATH runs every such function, whichever
version its template names, as long as it is Node.js 20.6 or newer (the
first with `module.register`, which the bootstrap needs to lead ES modules
to the SDK); the banner says which Node runs a function that names another,
or a runtime Lambda has retired.

Lambda's Node.js 18 and newer runtimes include the AWS SDK for JavaScript v3;
papo gives functions the clients WebSocket handlers use
(`node/package.json`, exact versions, `node/package-lock.json`), installed
once by `npm ci` into papo's cache folder, where every function's imports
find them after the function's own `node_modules`.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from papo.local.config import RouteTarget
from papo.local.runtime import Interpreter

HERE = Path(__file__).resolve().parent / "node"
BOOTSTRAP = HERE / "bootstrap.mjs"
"""The Node side of a container: `node bootstrap.mjs FD`."""

MINIMUM = (20, 6)
"""The oldest Node.js that runs functions."""

SUPPORTED_FROM = 20
"""The oldest `nodejsNN.x` Lambda still runs; older ones are retired
(`nodejs18.x` since September 2025, `nodejs16.x` and older before)."""

_RUNTIME = re.compile(r"nodejs(\d+)?(?:\.\w+)?")


def is_node(runtime: str | None) -> bool:
    """Whether a `Runtime` names Node.js (`nodejs20.x`, or `nodejs` of old)."""
    return runtime is not None and _RUNTIME.fullmatch(runtime) is not None


def _major(runtime: str) -> int | None:
    matched = _RUNTIME.fullmatch(runtime)
    return int(matched.group(1)) if matched and matched.group(1) else None


@functools.cache
def _version_of(node: str) -> tuple[int, ...] | None:
    """`(20, 20, 2)`, or None when it does not run."""
    try:
        shown = subprocess.run(  # noqa: S603 - the `node` on PATH
            [node, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    matched = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)\S*", shown.stdout.strip())
    return tuple(int(part) for part in matched.groups()) if matched else None


def find_node(environ: Mapping[str, str] = os.environ) -> tuple[str, tuple[int, ...]] | None:
    """The `node` on PATH and its version, when it is Node.js 20.6 or newer."""
    node = shutil.which("node", path=environ.get("PATH"))
    version = _version_of(node) if node else None
    if node is None or version is None or version[:2] < MINIMUM:
        return None
    return node, version


@dataclass(frozen=True)
class NodeInterpreter(Interpreter):
    """The Node that runs a function whose `Runtime` is `nodejsNN.x`: always in
    processes of its own."""

    language = "node"

    @property
    def foreign(self) -> bool:
        return True

    @property
    def retired(self) -> bool:
        major = _major(self.runtime or "")
        return major is None or major < SUPPORTED_FROM

    def describe(self) -> str:
        if not self.found:
            return f"no Node.js {MINIMUM[0]}.{MINIMUM[1]} or newer on PATH, for {self.runtime}"
        node = f"Node.js {self.version} ({self.path})"
        if self.retired:
            return f"{node} instead of {self.runtime}, which Lambda has retired"
        if self.version.split(".")[0] != str(_major(self.runtime or "")):
            return f"{node} instead of {self.runtime}, the only Node on PATH"
        return f"{self.runtime} on {node}, in processes of its own"


def interpreter(runtime: str) -> NodeInterpreter:
    found = find_node()
    if found is None:
        return NodeInterpreter(runtime, "node", "", found=False)
    path, version = found
    return NodeInterpreter(runtime, path, ".".join(map(str, version)))


def refusal(functions: Iterable[RouteTarget]) -> str | None:
    """Why papo serve cannot run these functions' Node.js, if it cannot: no
    Node.js 20.6 or newer on PATH, or the SDK could not be installed."""
    named = [target for target in functions if is_node(target.runtime)]
    if not named:
        return None
    if find_node() is None:
        first = named[0]
        return (
            f"{first.function_name} names {first.runtime}, and papo serve runs Node.js "
            f"functions on the node on PATH, which must be Node.js "
            f"{MINIMUM[0]}.{MINIMUM[1]} or newer: none is there (install it from "
            "https://nodejs.org or your package manager)"
        )
    try:
        sdk_modules()
    except SdkUnavailable as error:
        return str(error)
    return None


class SdkUnavailable(Exception):
    """The AWS SDK for JavaScript could not be installed into papo's cache."""


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """papo's cache folder: `$XDG_CACHE_HOME/papo`, else `~/.cache/papo`."""
    base = environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "papo"


_installing = threading.Lock()


def sdk_modules(environ: Mapping[str, str] = os.environ) -> Path:
    """The `node_modules` folder holding the SDK, installed on first need by
    `npm ci` from papo's lock file, in a folder named for that lock file's
    contents, so that another papo's versions never mix with these."""
    lock = (HERE / "package-lock.json").read_bytes()
    folder = cache_root(environ) / f"node-sdk-{hashlib.sha256(lock).hexdigest()[:16]}"
    installed = folder / "node_modules"
    if (installed / ".package-lock.json").is_file():
        return installed
    with _installing, _file_lock(folder.parent / "node-sdk.lock"):
        if not (installed / ".package-lock.json").is_file():
            _install(folder, environ)
    return installed


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """One installer at a time across processes (a test run's workers, two papo serves)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def _install(folder: Path, environ: Mapping[str, str]) -> None:
    npm = shutil.which("npm", path=environ.get("PATH"))
    if npm is None:
        raise SdkUnavailable(
            "papo serve installs the AWS SDK for JavaScript for Node.js functions with npm, "
            "which is not on PATH (it comes with Node.js)"
        )
    print(f"papo serve: installing the AWS SDK for JavaScript v3 into {folder}", file=sys.stderr)
    staging = Path(tempfile.mkdtemp(prefix="node-sdk-", dir=folder.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(HERE / name, staging / name)
        done = subprocess.run(  # noqa: S603 - npm from PATH, papo's own lock file
            [npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            said = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise SdkUnavailable(f"npm ci could not install the AWS SDK for JavaScript: {said}")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def environment(given: Mapping[str, str], runtime: str | None) -> dict[str, str]:
    """A Node container's environment: the function's, with what Lambda's Node.js
    runtime sets, `NODE_PATH` leading `require` to the SDK (after the function's
    own `node_modules`), and papo's certificate trusted as boto3 trusts it
    through `AWS_CA_BUNDLE`."""
    env = dict(given)
    env["NODE_PATH"] = os.pathsep.join(filter(None, [str(sdk_modules()), env.get("NODE_PATH")]))
    if env.get("AWS_CA_BUNDLE"):
        env["NODE_EXTRA_CA_CERTS"] = env["AWS_CA_BUNDLE"]
    env.setdefault("AWS_EXECUTION_ENV", f"AWS_Lambda_{runtime or 'nodejs20.x'}")
    return env
