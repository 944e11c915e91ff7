"""Importing handlers as Lambda's runtime does, with several functions in one process.

Lambda imports a function's handler module by its name, with the function's
code folder first on `sys.path`, one function to a process. `papo serve` runs
the functions of a template in one process (its threads, or each worker), so
two code folders may each hold an `app.py`, or a `util.py` that their handler
modules import. While a function's module is imported, its folder is first on
`sys.path`, and the modules earlier imports took from code folders (other
functions', or an earlier emulator's) are out of `sys.modules`; once it is
imported, the function keeps its own modules, and the others are put back
where the new ones did not take their names.

What holds: each function runs its own handler module, under the name Lambda
would give it (`app`), and what that module imports as it is imported comes
from its own folder, even where another folder has a module of the same name.
Functions that share a folder share its modules; each emulator imports them
anew, as a new deployment starts cold. Modules the process had before (papo's
own, the standard library, boto3) stay as they are, as on Lambda, whose
runtime has imported its own before the handler. What does not hold: an
import made later, during an invocation, of a name two folders both have gets
the one whose folder was loaded last, since a process keeps one module per
name; on AWS each function has processes of its own.
"""

from __future__ import annotations

import glob
import importlib
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from papo.local.config import RouteTarget
from papo.local.handler_reference import HandlerReference
from papo.local.worker import ImportModuleError

Handler = Callable[[dict[str, Any], Any], Any]

_importing = threading.RLock()
"""`sys.modules` and `sys.path` are the process's: one load at a time, whoever loads."""

_from_code_folders: weakref.WeakSet[ModuleType] = weakref.WeakSet()
"""The modules of `sys.modules` that came from functions' code folders, whoever
loaded them; like `sys.modules`, the process's."""


def _provides(folder: str, module_name: str) -> bool:
    """Whether importing `module_name` from `folder` first on the path finds it there."""
    path = os.path.join(folder, module_name.partition(".")[0])
    return os.path.isfile(path + ".py") or os.path.isfile(os.path.join(path, "__init__.py"))


def _within(module: ModuleType, folder: str) -> bool:
    path = getattr(module, "__file__", None)
    return path is not None and os.path.realpath(path).startswith(folder + os.sep)


def _holds(folder: str, name: str) -> bool:
    """Whether `folder` has a top-level module `name`: source, package or extension."""
    path = glob.escape(os.path.join(folder, name))
    extensions = (f"{path}{suffix}" for suffix in (".so", ".*.so", ".pyd", ".*.pyd"))
    return _provides(folder, name) or any(glob.glob(pattern) for pattern in extensions)


def shadowed(code_dir: str | None) -> list[str]:
    """The top-level modules a function's code has its own of, which this process
    imported before from elsewhere (papo, for a zip with papo in it): run here,
    the function would get those instead, whatever its code holds. Modules from
    other functions' code folders are not among them: the loader puts those aside."""
    if code_dir is None:
        return []
    folder = os.path.realpath(code_dir)
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if "." not in name
        and module not in _from_code_folders
        and not _within(module, folder)
        and _holds(folder, name)
    )


class Loader:
    """The handlers of one emulator in one process, each imported once, from its
    own code folder."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._by_reference: dict[tuple[str, str], Handler] = {}
        """The same handlers by the folder as the target names it: found on every
        invocation without resolving the folder's real path (some 15 µs) again."""
        self._modules: dict[str, dict[str, ModuleType]] = {}
        """Per code folder: the modules this loader's imports took from it, by name."""

    def load(self, target: RouteTarget) -> tuple[Handler, float | None]:
        """The handler, and how long importing it took (ms) if this call imported it:
        the Init Duration of this process's first invocation of the function."""
        found = self._by_reference.get((target.code_dir or os.getcwd(), target.handler))
        if found is not None:
            return found, None
        started = time.perf_counter()
        found = self.handler(target)
        return found, (time.perf_counter() - started) * 1000

    def handler(self, target: RouteTarget) -> Handler:
        named = (target.code_dir or os.getcwd(), target.handler)  # as `python -m` and Lambda
        found = self._by_reference.get(named)
        if found is not None:
            return found
        folder = os.path.realpath(named[0])
        key = (folder, target.handler)
        found = self._handlers.get(key)
        if found is None:
            with _importing:
                found = self._handlers.get(key) or self._import(folder, target.handler)
                self._handlers[key] = found
        self._by_reference[named] = found
        return found

    def _import(self, folder: str, handler: str) -> Handler:
        """The handler; `ImportModuleError` when its module would not import, as
        Lambda's runtime says it."""
        try:
            reference = HandlerReference.parse(handler)
        except ValueError as error:
            raise ImportModuleError(str(error)) from None
        module_name = reference.module
        displaced = self._displace(folder, module_name)
        if folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)
        importlib.invalidate_caches()
        before = set(sys.modules)
        try:
            return reference.find(importlib.import_module(module_name))
        except Exception as error:
            raise ImportModuleError(reference.import_failure(error)) from error
        finally:
            own = self._modules.setdefault(folder, {})
            for name in set(sys.modules) - before:
                if _provides(folder, name):
                    own[name] = sys.modules[name]
                    _from_code_folders.add(sys.modules[name])
            for name, other in displaced.items():
                sys.modules.setdefault(name, other)

    def forget(self, targets: Iterable[RouteTarget], stale: Callable[[ModuleType], bool]) -> None:
        """`papo serve --reload`: these functions' next invocations import their
        handlers anew, with every `stale` module of the process imported anew
        too; invocations already running keep the modules they had."""
        with _importing:
            for target in targets:
                named = (target.code_dir or os.getcwd(), target.handler)
                self._by_reference.pop(named, None)
                self._handlers.pop((os.path.realpath(named[0]), target.handler), None)
            for own in self._modules.values():
                for name, module in list(own.items()):
                    if stale(module):
                        del own[name]
            for name, module in list(sys.modules.items()):
                if stale(module):
                    del sys.modules[name]

    def _displace(self, folder: str, module_name: str) -> dict[str, ModuleType]:
        """Takes modules from code folders out of `sys.modules`, and puts back this
        loader's own from `folder`."""
        own = self._modules.get(folder, {})
        displaced: dict[str, ModuleType] = {}
        for name, module in list(sys.modules.items()):
            if module in _from_code_folders and own.get(name) is not module:
                displaced[name] = sys.modules.pop(name)
        same_name = sys.modules.get(module_name)
        if (
            same_name is not None
            and own.get(module_name) is not same_name
            and "." not in module_name
            and _provides(folder, module_name)
            and not _within(same_name, folder)
        ):
            displaced[module_name] = sys.modules.pop(module_name)
        sys.modules.update(own)
        return displaced
