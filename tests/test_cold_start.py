"""The handler's cold start: what `import papo.aws.handler` and a `$connect` load.

Lambda imports the handler before the first event, and every import counts
(docs/benchmarks.md gives the figure: `python -X importtime -c "import papo.aws.handler"`).
Each adapter loads when first built: `$connect` posts nothing, so the Management
API's HTTP and TLS stack and botocore wait for the first frame, and the OpenAI
SDK for the first question to the bot, and the confusables' data for the
first name. A resume token's hashes (hashlib, secrets), a binary frame's
base64 and the bot's coalescing of its answer wait for the routes that use them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests import events
from tests.conftest import ROOT

LATER = (
    "papo.adapters.delivery.fanout",
    "papo.adapters.delivery.management_api",
    "papo.adapters.delivery.http11",
    "botocore",
    "boto3",
    "openai",
    "ssl",
    "confusable_homoglyphs",
    "hashlib",
    "secrets",
    "base64",
    "papo.core.coalesce",
)

SCRIPT = """
import json, sys
import papo.aws.handler as h
imported = [m for m in {later} if m in sys.modules]
h.handler(json.loads(sys.argv[1]), None)
connected = [m for m in {later} if m in sys.modules]
print(json.dumps({{"imported": imported, "connected": connected}}))
"""


def test_import_and_connect_load_no_more_than_they_need(tmp_path: Path) -> None:
    event = events.connect(events.connection_id())
    shown = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(later=LATER), json.dumps(event)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3")},
        timeout=60,
        check=True,
    )
    loaded = json.loads(shown.stdout.splitlines()[-1])
    assert loaded == {"imported": [], "connected": []}
