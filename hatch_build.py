"""papo's wheel carries the built web client, so that `papo serve` from an installed
wheel serves the page too (`papo.local.web` finds it as `papo/web`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class WebClient(BuildHookInterface[Any]):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":  # a checkout serves web/dist itself
            return
        dist = Path(self.root) / "web" / "dist"
        if not (dist / "index.html").is_file():
            raise RuntimeError("papo's wheel carries the web client: build it first (make web)")
        build_data["force_include"][str(dist)] = "papo/web"
