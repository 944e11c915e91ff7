"""`papo serve --reload`: a changed function runs its new code, and the sockets stay open.

The emulator keeps serving: its connections keep their ids, and what
changed is each function whose code did, from its next invocation on (in new
containers, or in threads with its modules imported anew). A function's code
is its code folder (the current folder for `--handler` without one), and for
papo's own handler and authorizer, papo's package, whose emulator (this
package) and command line are not reloaded: a change there is said to need a
restart. Changes are watched by watchfiles (which uvicorn's reloader uses),
on Python files only, as before.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from watchfiles import PythonFilter, awatch

from papo.local.config import ApiConfig, RouteTarget
from papo.local.handler_reference import HandlerReference
from papo.local.server import Emulator

PAPOS_PACKAGE = Path(__file__).resolve().parent.parent
EMULATOR = (PAPOS_PACKAGE / "local", PAPOS_PACKAGE / "cli.py", PAPOS_PACKAGE / "__main__.py")
"""What of papo's package runs papo serve itself: its changes need a restart."""


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def code_folder(target: RouteTarget) -> Path:
    """Where a function's code is, as a reload watches it."""
    if target.code_dir is not None:
        return Path(target.code_dir).resolve()
    try:
        module = HandlerReference.parse(target.handler).module
    except ValueError:
        return Path.cwd().resolve()
    if module.partition(".")[0] == PAPOS_PACKAGE.name:
        return PAPOS_PACKAGE
    return Path.cwd().resolve()


@dataclass(frozen=True)
class Watched:
    """The functions of each code folder."""

    folders: dict[Path, tuple[str, ...]]

    @classmethod
    def of(cls, config: ApiConfig) -> Watched:
        folders: dict[Path, tuple[str, ...]] = {}
        for target in config.functions:
            folder = code_folder(target)
            if target.function_name not in folders.get(folder, ()):
                folders[folder] = (*folders.get(folder, ()), target.function_name)
        return cls(folders)

    def emulators_own(self, changed: Iterable[Path]) -> list[Path]:
        """The changes to papo serve's own code, where papo's package is watched."""
        if PAPOS_PACKAGE not in self.folders:
            return []
        return [path for path in changed if any(_within(path, own) for own in EMULATOR)]

    def changed_folders(self, changed: Iterable[Path]) -> list[Path]:
        """The code folders that hold a changed file, not counting papo serve's own."""
        own = set(self.emulators_own(changed))
        return [
            folder
            for folder in self.folders
            if any(_within(path, folder) for path in changed if path not in own)
        ]

    def functions(self, folders: Iterable[Path]) -> list[str]:
        return list(dict.fromkeys(name for folder in folders for name in self.folders[folder]))

    def lines(self) -> list[str]:
        """What the banner says is watched."""
        return [
            f"    {_shown(folder)}: {', '.join(names)}" for folder, names in self.folders.items()
        ]


@dataclass(frozen=True)
class StaleModules:
    """The modules a reload imports anew: those from the changed folders, but
    papo serve's own."""

    folders: tuple[Path, ...]

    def __call__(self, module: ModuleType) -> bool:
        file = getattr(module, "__file__", None)
        if file is None:
            return False
        path = Path(os.path.realpath(file))
        if path == PAPOS_PACKAGE / "__init__.py" or any(_within(path, own) for own in EMULATOR):
            return False
        return any(_within(path, folder) for folder in self.folders)


def _shown(path: Path) -> str:
    """`path` from the current folder, where it is within it."""
    try:
        return str(path.relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


def _say(line: str) -> None:
    print(f"reload: {line}", file=sys.stderr, flush=True)


async def reload_on_change(emulator: Emulator, watched: Watched, stop: asyncio.Event) -> None:
    """Reloads each function whose code changes, until `stop` is set."""
    async for changes in awatch(*watched.folders, watch_filter=PythonFilter(), stop_event=stop):
        changed = sorted({Path(path) for _, path in changes})
        own = watched.emulators_own(changed)
        if own:
            files = ", ".join(_shown(path) for path in own)
            _say(f"{files}: papo serve's own code, which runs from a restart of papo serve")
        folders = watched.changed_folders(changed)
        if not folders:
            continue
        names = watched.functions(folders)
        files = ", ".join(_shown(path) for path in changed if path not in own)
        try:
            await asyncio.to_thread(emulator.invoker.reload, names, StaleModules(tuple(folders)))
        except Exception as error:  # noqa: BLE001 - the server serves on, and says so
            _say(f"{files} changed, and reloading {', '.join(names)} failed: {error!r}")
            continue
        _say(f"{files} changed: reloaded {', '.join(names)}; connections stay open")


async def serve_reloading(emulator: Emulator) -> None:
    """Serves until Ctrl-C, reloading functions as their code changes. The watch
    begins before the server listens, so that no change after is missed."""
    stop = asyncio.Event()
    watching = asyncio.ensure_future(reload_on_change(emulator, Watched.of(emulator.config), stop))
    try:
        await emulator.serve()
    finally:
        stop.set()
        await watching
