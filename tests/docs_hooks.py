"""The docs' build hook (`docs/hooks/reference.py`), which MkDocs loads by its
path, made importable for the tests of what it makes."""

from __future__ import annotations

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

import reference

__all__ = ["reference"]
