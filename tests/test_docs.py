"""What the docs say of the code stays true of it: the tests they name exist, the
promises the code cites are in them, every refusal's code is explained, and the
README's links lead somewhere. (`mkdocs build --strict`, in `make test`, checks
the site's own links and pages.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from papo.aws.handler import ROUTE_KEYS
from papo.core.refusals import ErrorCode
from tests.conftest import ROOT
from tests.docs_hooks import reference

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))


def named_tests(text: str) -> set[tuple[str, str]]:
    """`tests/test_x.py::test_y` in `text`, as (file, test)."""
    return set(re.findall(r"\b(tests/test_\w+\.py)::(test_\w+)", text))


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(DOCS)))
def test_every_test_a_page_names_exists(page: Path) -> None:
    for file, test in named_tests(page.read_text()):
        assert (ROOT / file).is_file(), f"{page.name} names {file}, which is not there"
        assert test in defined_tests(ROOT / file), f"{page.name} names {file}::{test}"


def test_every_promise_names_the_tests_that_hold_it() -> None:
    """Each promise, a `###` heading of docs/promises.md, names a test."""
    page = (DOCS / "promises.md").read_text()
    sections = re.split(r"^### ", page, flags=re.M)[1:]
    assert len(sections) >= 25
    for section in sections:
        title = section.splitlines()[0]
        assert named_tests(section), f"the promise {title!r} names no test"


def promise_titles() -> set[str]:
    page = (DOCS / "promises.md").read_text()
    return {
        re.sub(r"^\d+\. ", "", title).replace("`", "")
        for title in re.findall(r"^### (.+)$", page, re.M)
    }


def test_the_promises_the_code_cites_are_in_the_docs() -> None:
    titles = promise_titles()
    cited: set[str] = set()
    for path in [*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").glob("test_*.py")]:
        text = " ".join(path.read_text().split())
        for names in re.findall(r'docs/promises\.md: ((?:"[^"]+"(?:, )?)+)', text):
            cited.update(re.findall(r'"([^"]+)"', names))
    assert cited, "nothing cites a promise by its name"
    assert cited <= titles, f"cited, but no promise of that name: {cited - titles}"


def test_every_refusal_code_is_explained() -> None:
    text = (DOCS / "protocol.md").read_text()
    missing = [code.value for code in ErrorCode if f"`{code.value}`" not in text]
    assert not missing, f"docs/protocol.md does not explain {missing}"


@pytest.mark.parametrize("page", ["lambda-console.md", "pt-BR/console-lambda.md"])
def test_the_console_pages_list_every_route_of_the_handler(page: str) -> None:
    built = reference.render((DOCS / page).read_text())
    for key in ROUTE_KEYS:
        assert f"`{key}`" in built, f"{page} does not tell to make the route {key}"


def test_the_readme_keeps_the_two_commands_and_its_links_lead_somewhere() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme
    assert "make test" in readme
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme):
        if not re.match(r"[a-z]+:", target):
            assert (ROOT / target).exists(), f"the README links to {target}, which is not there"
