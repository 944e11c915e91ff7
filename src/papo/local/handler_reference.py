"""A function's `Handler`: which module to import, and which of its functions to call.

papo serve takes both spellings: `module.path:function`, Python's own, and
Lambda's `file.function` (`app.handler`, `papo.aws.handler.handler`: the
last dot splits). A container of another Python loads this file by its path
(`papo.local.worker`), so it imports nothing but the standard library, and
reads as Python 3.9.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class HandlerReference(NamedTuple):
    module: str
    """`app`, `papo.aws.handler`"""
    function: str
    """`handler`"""

    @classmethod
    def parse(cls, reference: str) -> HandlerReference:
        """ValueError when either part is missing (`app`, `app:`, `.handler`)."""
        module, colon, function = reference.partition(":")
        if not colon:
            module, _, function = reference.rpartition(".")
        if not module or not function or ":" in function:
            raise ValueError(
                f"a handler is module.path:function or file.function, not {reference!r}"
            )
        return cls(module, function)

    def find(self, module: Any) -> Callable[[Any, Any], Any]:
        """The handler in its imported module; AttributeError, or TypeError when it
        is not a function."""
        function = getattr(module, self.function)
        if not callable(function):
            raise TypeError(f"{self} is not callable")
        return function  # type: ignore[no-any-return]

    def import_failure(self, error: BaseException) -> str:
        """Lambda's words for a module that would not import."""
        return f"Unable to import module '{self.module}': {error}"

    def __str__(self) -> str:
        return f"{self.module}:{self.function}"
