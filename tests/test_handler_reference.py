"""A function's `Handler`, in either spelling, and a handler that will not import,
reported the same way wherever it runs: in the server's threads, in worker
processes, and in processes of its own."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
import websockets

from papo.local.handler_reference import HandlerReference
from tests.conftest import PapoServe


@pytest.mark.parametrize(
    ("reference", "module", "function"),
    [
        ("app:handler", "app", "handler"),
        ("app.handler", "app", "handler"),
        ("papo.aws.handler:handler", "papo.aws.handler", "handler"),
        ("papo.aws.handler.handler", "papo.aws.handler", "handler"),
    ],
)
def test_a_handler_is_read_in_both_spellings(reference: str, module: str, function: str) -> None:
    assert HandlerReference.parse(reference) == (module, function)


@pytest.mark.parametrize("reference", ["app", "app:", ":handler", ".handler", "app.", "a:b:c"])
def test_a_handler_without_a_module_or_a_function_is_refused(reference: str) -> None:
    with pytest.raises(ValueError, match=re.escape("module.path:function or file.function")):
        HandlerReference.parse(reference)


MODES = {
    "threads": ("--timeout", "60"),
    "workers": ("--workers", "1"),
    "its own processes": ("--timeout", "2"),
}
FAILURE = (
    "Runtime.ImportModuleError: Unable to import module 'tests.lambdas.unimportable': "
    "No module named 'a_package_this_function_lacks'"
)


@pytest.mark.parametrize("mode", MODES)
def test_a_handler_that_will_not_import_is_reported_as_lambda_reports_it(
    papo_serve: PapoServe, tmp_path: Path, mode: str
) -> None:
    handler = ("--handler", "tests.lambdas.unimportable:handler", "--route", "$default")
    _, url = papo_serve(*handler, *MODES[mode])

    async def send() -> dict[str, str]:
        async with websockets.connect(url) as ws:
            await ws.send("hello")
            return dict(json.loads(await ws.recv()))

    assert asyncio.run(send())["message"] == "Internal server error"
    errors = re.findall(
        r"^\[ERROR\]\t\S+\t(.*)$", (tmp_path / "papo-serve.log").read_text(), re.MULTILINE
    )
    assert errors == [FAILURE]
