"""The handler's cold start as Lambda runs it, against the import of boto3.

    make bench-cold-start    (or .venv/bin/python bench/cold_start.py [--runs 9] [--zip PATH]...)

Lambda unpacks the zip into `/var/task`, which is read-only, and imports the
handler in a fresh Python 3.12 process: a module of the zip without its
bytecode is compiled at every cold start. boto3, which AWS's samples import,
is already in the runtime, compiled. So here:

- the zip of this machine's architecture, built from the sources (`make
  lambda`) or given with `--zip` (several may be compared), unpacked into a
  folder where nothing is written (`PYTHONDONTWRITEBYTECODE=1`);
- the same zip without its bytecode, as it was shipped before;
- boto3, with its bytecode, in the virtual environment of Python 3.12 that
  `make serve-lambda` runs the zip with (`deploy.lambda_runtime`);
- each import timed inside a fresh process (the `import` statement alone, not
  the interpreter's start), the series taken in turn, once each per round, so
  that the machine's load falls on all of them alike; the medians of `--runs`
  rounds and each one's ratio to boto3's, and the same of the fastest runs,
  which a busy machine disturbs least.

`--profile` adds what `python -X importtime` says of the handler's import from
the first zip: the modules that took longest on their own.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from deploy import lambda_runtime, lambda_zip  # noqa: E402

HANDLER_MODULE = lambda_zip.HANDLER.rpartition(".")[0]
TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class Series:
    label: str
    module: str
    task: Path
    """The folder Lambda would unpack the code into, first on `sys.path`."""


def unpack(archive: Path, folder: Path, *, bytecode: bool = True) -> Path:
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder)
    if not bytecode:
        for cache in sorted(folder.rglob("__pycache__")):
            shutil.rmtree(cache)
    for path in folder.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    folder.chmod(0o555)
    return folder


def import_ms(python: Path, series: Series, *extra: str) -> tuple[float, str]:
    """One import in a fresh process: its milliseconds, and what it wrote on stderr."""
    shown = subprocess.run(
        [str(python), *extra, "-c", TIMED.format(module=series.module)],
        capture_output=True,
        text=True,
        cwd=series.task,
        env={"PATH": os.defpath, "PYTHONPATH": str(series.task), "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=120,
        check=True,
    )
    return float(shown.stdout.split()[-1]) * 1e3, shown.stderr


def profile(python: Path, series: Series, count: int) -> None:
    """The modules whose own import time was longest, from `-X importtime`: those
    the timed import loaded, not the interpreter's start."""
    _, shown = import_ms(python, series, "-X", "importtime")
    rows: list[tuple[int, int, str]] = []
    for line in reversed(shown.splitlines()):
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own_us, total_us, field = line.removeprefix("import time:").split("|")
        module = field.strip()
        if rows and len(field) - len(field.lstrip()) == 1:  # another top-level import
            break
        rows.append((int(own_us), int(total_us), module))
    print(f"\n{series.label}, python -X importtime: the {count} longest on their own")
    print(f"{'own ms':>7} {'with imports ms':>16}  module")
    for own, total, module in sorted(rows, reverse=True)[:count]:
        print(f"{own / 1e3:7.1f} {total / 1e3:16.1f}  {module}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench/cold_start.py", description=__doc__)
    parser.add_argument("--runs", type=int, default=9, help="rounds; the medians are reported")
    parser.add_argument(
        "--zip",
        action="append",
        type=Path,
        help="a Lambda zip for this machine (repeat to compare); default: built from the sources",
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="-X importtime's top N")
    args = parser.parse_args(argv)
    arch = ARCHITECTURES.get(platform.machine().lower())
    if arch is None:
        raise SystemExit(f"Lambda has no {platform.machine()} architecture")

    with tempfile.TemporaryDirectory(prefix="papo-cold-start-") as scratch:
        work = Path(scratch)
        try:
            measure(work, arch, args.zip, args.runs, args.profile)
        finally:
            _writable(work)


def measure(work: Path, arch: str, archives: list[Path] | None, runs: int, top: int) -> None:
    archives = archives or [lambda_zip.build(arch, work / "dist")]
    python = lambda_runtime.create(work / "runtime") / "python"
    named = len(archives) > 1
    series = []
    for number, archive in enumerate(archives):
        task = unpack(archive, work / f"task-{number}")
        if number == 0:  # AWS's samples: boto3 from the runtime, the zip first on sys.path
            series.append(Series("boto3", "boto3", task))
        series.append(Series(f"papo, {archive.name if named else 'the zip'}", HANDLER_MODULE, task))
    sources = unpack(archives[0], work / "sources-only", bytecode=False)
    label = f"papo, {archives[0].name if named else 'the zip'} without its bytecode"
    series.append(Series(label, HANDLER_MODULE, sources))

    samples: dict[str, list[float]] = {one.label: [] for one in series}
    for one in series:  # not counted: the first reads the files into the page cache
        import_ms(python, one)
    load_before = os.getloadavg()[0]
    for _ in range(runs):
        for one in series:
            samples[one.label].append(import_ms(python, one)[0])
    load_after = os.getloadavg()[0]

    boto3 = samples["boto3"]
    print(
        f"import in a fresh Python {lambda_zip.PYTHON_VERSION} process, {arch}, code "
        f"read-only, no bytecode written; {runs} rounds, series in turn"
    )
    print(
        f"load average {load_before:.1f} before, {load_after:.1f} after, on "
        f"{os.cpu_count()} CPUs: a loaded machine slows the longer import more"
    )
    width = max(len(one.label) for one in series)
    print(
        f"{'':{width}} {'median ms':>10} {'min ms':>8} {'max ms':>8} "
        f"{'median/boto3':>13} {'min/boto3':>10}"
    )
    for one in series:
        times = samples[one.label]
        median = statistics.median(times)
        print(
            f"{one.label:{width}} {median:10.1f} {min(times):8.1f} {max(times):8.1f} "
            f"{median / statistics.median(boto3):13.2f} {min(times) / min(boto3):10.2f}"
        )
    if top:
        profile(python, series[1], top)


def _writable(folder: Path) -> None:
    """Gives the owner back the right to delete what `unpack` made read-only."""
    for directory, _, _ in os.walk(folder):
        Path(directory).chmod(0o755)


if __name__ == "__main__":
    main()
