"""`papo serve --reload`: a fresh server process whenever a `.py` file changes.

uvicorn's reloader keeps the WebSocket API's socket listening and starts a
new process after each change; that process runs the whole emulator (https
and the web client included) from the options it is handed, which uvicorn
pickles into it.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from uvicorn.supervisors import ChangeReload

from papo.local.app import ServeOptions
from papo.local.config import ApiConfig


@dataclass(frozen=True)
class _Serve:
    """What each fresh process runs, with the listening sockets it inherits."""

    options: ServeOptions

    def __call__(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.run(self.options.emulator().serve(sockets=sockets))


def serve_reloading(options: ServeOptions, config: ApiConfig) -> None:
    """Serves until Ctrl-C, watching the current folder and the functions' code folders."""
    folders = {str(Path.cwd())} | {t.code_dir for t in config.functions if t.code_dir}
    watching = uvicorn.Config(
        # uvicorn watches files only for an app named by an import string; each
        # process runs `_Serve(options)` and never imports this one.
        "papo.local.app:ServeOptions",
        host=options.host,
        port=options.port,
        reload=True,
        reload_dirs=sorted(folders),
        log_level="warning",
    )
    listening = watching.bind_socket()
    ChangeReload(watching, target=_Serve(options), sockets=[listening]).run()
