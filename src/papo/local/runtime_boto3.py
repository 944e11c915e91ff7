"""boto3 as Lambda's Python runtimes bring it, for functions on another Python.

On Lambda, boto3 and botocore (with s3transfer, jmespath, python-dateutil,
six and urllib3) sit in the runtime's own folder, last on `sys.path`: after
the function's code and its own packages, which win where they bring their
own. A developer's `python3.12` may have none, and a Chalice or plain boto3
app would fail its import there. Containers of another Python than papo
serve's get papo serve's own copies, which papo needs anyway, appended last
to their path: a folder in papo's cache that links to exactly those
packages (nothing else of papo serve's environment shows), made on first
need, one per set of versions. These packages are pure Python; where one's
`Requires-Python` excludes the function's Python, the function gets none,
and the banner says why.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.specifiers import SpecifierSet

DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
"""What Lambda's Python runtimes have in their own folder: boto3 and what it needs."""


@dataclass(frozen=True)
class RuntimeBoto3:
    folder: Path | None
    """What to append to the function's `sys.path`; None: nothing can be."""
    said: str
    """What the banner says functions on that Python get: `get papo serve's boto3 1.44.8…`."""


def cache_folder() -> Path:
    """papo's cache: `$XDG_CACHE_HOME/papo`, else `~/.cache/papo`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser()
    return Path(base) / "papo"


def _top_level(distribution: metadata.Distribution) -> set[str]:
    """The names a distribution installs at the top of site-packages: `botocore`, `six.py`."""
    names = set()
    for file in distribution.files or ():
        top = file.parts[0]
        if top != ".." and not top.endswith((".dist-info", ".egg-info", ".pth")):
            names.add(top)
    names.discard("__pycache__")
    return names


def _unsuitable(distribution: metadata.Distribution, version: str) -> str | None:
    """Why `distribution` cannot run on Python `version` (`3.12`), if it cannot."""
    name = f"{distribution.metadata['Name']} {distribution.version}"
    wheel = distribution.read_text("WHEEL") or ""
    if "Root-Is-Purelib: true" not in wheel:
        return f"papo serve's {name} is not pure Python"
    needs = next(iter(distribution.metadata.get_all("Requires-Python") or ()), None)
    if needs and not SpecifierSet(needs).contains(f"{version}.0", prereleases=True):
        return f"papo serve's {name} needs Python {needs}"
    if not _top_level(distribution):
        return f"papo serve's {name} does not list its files"
    return None


_NONE = "get no boto3 but their own"


@functools.cache
def runtime_boto3(version: str) -> RuntimeBoto3:
    """boto3 for a function on Python `version` (`3.12`), as Lambda's runtime has it."""
    try:
        found = [metadata.distribution(name) for name in DISTRIBUTIONS]
    except metadata.PackageNotFoundError as error:
        return RuntimeBoto3(None, f"{_NONE}: papo serve's environment lacks {error.name}")
    for distribution in found:
        unsuitable = _unsuitable(distribution, version)
        if unsuitable is not None:
            return RuntimeBoto3(None, f"{_NONE}: {unsuitable}")
    pins = ",".join(f"{d.metadata['Name']}=={d.version}" for d in found)
    key = hashlib.sha256(f"{pins};{found[0].locate_file('')}".encode()).hexdigest()[:16]
    folder = cache_folder() / "lambda-python-runtime" / key
    if not folder.is_dir():
        try:
            _link(found, folder)
        except OSError as error:
            return RuntimeBoto3(None, f"{_NONE}: papo's cache cannot hold them ({error})")
    boto3 = next(d.version for d in found if d.metadata["Name"] == "boto3")
    said = f"get papo serve's boto3 {boto3} after their own packages, as Lambda's runtime has it"
    return RuntimeBoto3(folder, said)


def _link(distributions: list[metadata.Distribution], folder: Path) -> None:
    """Makes `folder`, linking to each distribution's top-level packages; whole or
    not at all, so that two servers starting at once both find it whole."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    making = Path(tempfile.mkdtemp(prefix=".making-", dir=folder.parent))
    try:
        for distribution in distributions:
            for name in _top_level(distribution):
                (making / name).symlink_to(Path(str(distribution.locate_file(name))).resolve())
        os.replace(making, folder)
    except OSError:
        if not folder.is_dir():
            raise
    finally:
        shutil.rmtree(making, ignore_errors=True)
