"""The web page in a room that never stops talking: the page before and after, in one run.

Run by hand: `make bench-page` (or `.venv/bin/python bench/page.py --before DIR`).

For each built web client (`--before`, the page of an earlier commit, and
`--after`, web/dist by default) it starts `papo serve` on SQLite in a folder of
its own, the pace limit raised, and opens the page in Chromium (Playwright, a
1280 by 800 window), joined as Ana and following the newest lines. Bruno, on a
plain WebSocket client, then says short public messages at `--rate` a second,
without a pause; Carla, on another, only listens. Once the page has received
2,000 lines, and again at 10,000 (`--at`), while Bruno goes on:

- the JavaScript heap, after a garbage collection (CDP's `Runtime.getHeapUsage`),
  and the lines in the page (`li.line` elements), then;
- a new line's way to the screen: Bruno says `--probes` marked lines, and
  each one's time from Carla hearing it to the page having it (a
  MutationObserver in the page; both clocks are this machine's);
- a keystroke in the composer, from its `keydown` (the event's time) to the
  next animation frame, over `--keys` keys typed 40 ms apart.

Medians and 95th percentiles; with `--rounds 2` each page runs twice,
alternating, and each figure is the median of the rounds. `--save FILE` adds
each page's run to FILE as it ends, and `--table FILE` prints the medians of
all the runs saved there (runs of several invocations, on a busy machine).
Only loopback is used, and every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM_FLAGS, chromium_path  # noqa: E402
from tests.test_web import DESKTOP  # noqa: E402

WAIT_S = 60.0
"""The longest any one step waits (a page far behind the room included)."""
TYPED = "the quick brown fox jumps over the lazy dog"

# Installed at each measure: when each marked line first enters the conversation.
WATCH = """() => {
  window.papoSeen = {};
  const now = () => performance.timeOrigin + performance.now();
  new MutationObserver((records) => {
    const at = now();
    for (const record of records) {
      for (const node of record.addedNodes) {
        for (const match of (node.textContent || "").matchAll(/probe-(\\d+)/g)) {
          if (!(match[1] in window.papoSeen)) window.papoSeen[match[1]] = at;
        }
      }
    }
  }).observe(document.querySelector(".messages"), { childList: true, subtree: true });
  window.papoKeys = [];
  document.querySelector("textarea").addEventListener("keydown", (event) => {
    const start = event.timeStamp;
    requestAnimationFrame(() => window.papoKeys.push(performance.now() - start));
  }, true);
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def papo_serve(web_dir: Path, folder: Path) -> Any:
    """`papo serve` on SQLite in `folder`, serving the page in `web_dir`; its
    WebSocket and page addresses."""
    api, web = free_port(), free_port()
    env = {
        **os.environ,
        "PAPO_STORE": "sqlite",
        "PAPO_SQLITE_PATH": str(folder / "papo.sqlite3"),
        "PAPO_RATE_BURST": "1000000",
        "PAPO_RATE_PER_MINUTE": "1000000",
        "OPENAI_API_KEY": "",
    }
    command = [sys.executable, "-m", "papo", "serve", "--port", str(api), "--tls-port", "0"]
    command += ["--web-port", str(web), "--web-dir", str(web_dir)]
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while not (listening(api) and listening(web)):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("papo serve did not start")
            time.sleep(0.1)
        yield f"ws://127.0.0.1:{api}/dev", f"http://127.0.0.1:{web}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Room:
    """Bruno, who talks, and Carla, who listens and notes when each line came."""

    bruno: ClientConnection
    carla: ClientConnection
    said: int = 0
    heard: int = 0
    marked: int = 0
    probes: dict[int, float] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def listen(self) -> None:
        async for message in self.carla:
            frame = json.loads(message)
            if frame.get("type") != "public":
                continue
            text = str(frame.get("text", ""))
            if text.startswith("probe-"):
                self.probes[int(text[6:])] = time.time() * 1000
            self.heard += 1
            self.changed.set()

    async def drain(self) -> None:
        async for _ in self.bruno:
            pass

    async def talk(self, rate: float) -> None:
        """Short public messages, `rate` a second, until cancelled."""
        start = time.monotonic()
        while True:
            self.said += 1
            await self.bruno.send(json.dumps({"action": "sendPublic", "message": f"m{self.said}"}))
            await asyncio.sleep(max(0.0, start + self.said / rate - time.monotonic()))

    async def until_heard(self, count: int) -> None:
        deadline = time.monotonic() + max(WAIT_S, count)
        while self.heard < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.1, deadline - time.monotonic()))


@contextlib.asynccontextmanager
async def room(url: str) -> AsyncIterator[Room]:
    async with connect(url) as bruno, connect(url) as carla:
        for ws, name in ((bruno, "Bruno"), (carla, "Carla")):
            await ws.send(json.dumps({"action": "setName", "name": name}))
            while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("name") != name:
                pass
        people = Room(bruno, carla)
        tasks = [asyncio.create_task(people.listen()), asyncio.create_task(people.drain())]
        try:
            yield people
        finally:
            for task in tasks:
                task.cancel()


def summary(values: list[float]) -> tuple[float, float]:
    """Median and 95th percentile."""
    if not values:
        return float("nan"), float("nan")
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=20, method="inclusive")[-1]


async def measure(page: Page, people: Room, probes: int, keys: int) -> dict[str, float]:
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("HeapProfiler.collectGarbage")
    heap = await cdp.send("Runtime.getHeapUsage")
    lines = await page.locator(".messages li.line").count()
    await page.evaluate(WATCH)
    numbers = list(range(people.marked + 1, people.marked + probes + 1))
    people.marked += probes
    for number in numbers:
        await people.bruno.send(json.dumps({"action": "sendPublic", "message": f"probe-{number}"}))
        await asyncio.sleep(0.25)
    box = page.get_by_role("textbox", name="Message")
    # The composer waits while the page is not connected (a page far behind may lose it).
    connected = await page.get_by_role("status").inner_text() == "you are Ana"
    typed = 0
    while connected and typed < keys:
        text = TYPED[: min(len(TYPED), keys - typed)]
        await box.press_sequentially(text, delay=40, timeout=WAIT_S * 1000)
        typed += len(text)
        await box.press("Control+a", timeout=WAIT_S * 1000)
        await box.press("Delete", timeout=WAIT_S * 1000)
    deadline = time.monotonic() + WAIT_S
    seen: dict[str, float] = {}
    while time.monotonic() < deadline:
        seen = await page.evaluate("window.papoSeen")
        if all(str(n) in seen for n in numbers) and all(n in people.probes for n in numbers):
            break
        await asyncio.sleep(0.2)
    came = [n for n in numbers if str(n) in seen and n in people.probes]
    delays = [seen[str(n)] - people.probes[n] for n in came]
    strokes = list(await page.evaluate("window.papoKeys"))
    status = await page.get_by_role("status").inner_text()
    await cdp.detach()
    delay, delay95 = summary(delays)
    key, key95 = summary(strokes)
    return {
        "heap_mb": heap["usedSize"] / 1e6,
        "lines_in_page": lines,
        "on_screen_ms": delay,
        "on_screen_p95_ms": delay95,
        "missed_probes": probes - len(delays),
        "key_ms": key,
        "key_p95_ms": key95,
        "connected": float(connected and status == "you are Ana"),
    }


async def run_page(
    browser: Browser, web_dir: Path, marks: list[int], rate: float, probes: int, keys: int
) -> dict[int, dict[str, float]]:
    """The page of `web_dir` at each mark of lines received."""
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder, papo_serve(web_dir, Path(folder)) as (url, web):
        context = await browser.new_context(viewport=DESKTOP)
        page = await context.new_page()
        await page.goto(web)
        await page.get_by_label("Your name").fill("Ana")
        await page.get_by_role("button", name="Join").click()
        joined = page.get_by_role("status").filter(has_text="you are Ana")
        await joined.wait_for(timeout=WAIT_S * 1000)
        async with room(url) as people:
            talking = asyncio.create_task(people.talk(rate))
            try:
                for mark in marks:
                    await people.until_heard(mark)
                    results[mark] = await measure(page, people, probes, keys)
                    print(f"  {mark:,} lines: {fmt(results[mark])}", flush=True)
            finally:
                talking.cancel()
        await context.close()
    return results


def fmt(result: dict[str, float]) -> str:
    return (
        f"heap {result['heap_mb']:.1f} MB, {result['lines_in_page']:.0f} lines in the page, "
        f"on screen {result['on_screen_ms']:.0f} ms (p95 {result['on_screen_p95_ms']:.0f}, "
        f"{result['missed_probes']:.0f} missed), "
        f"keystroke {result['key_ms']:.1f} ms (p95 {result['key_p95_ms']:.1f})"
        + ("" if result["connected"] else ", the page lost its connection")
    )


async def main(args: argparse.Namespace) -> None:
    rounds: dict[str, list[dict[int, dict[str, float]]]] = {"before": [], "after": []}
    if args.table:
        runs = [json.loads(line) for line in Path(args.table).read_text().splitlines()]
        for run in runs:
            rounds[run["page"]].append({int(k): v for k, v in run.items() if k.isdigit()})
        table(rounds, runs[-1]["rate"])
        return
    if not args.before:
        raise SystemExit("--before: the built web client to compare with")
    pages = {"before": Path(args.before).resolve(), "after": Path(args.after).resolve()}
    for name, folder in pages.items():
        if not (folder / "index.html").is_file():
            raise SystemExit(f"--{name} {folder}: no built web client there")
    executable = chromium_path()
    if executable is None:
        raise SystemExit("needs Chromium (Debian's chromium package)")
    saved = Path(args.save) if args.save else None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        for number in range(args.rounds):
            order = list(pages) if number % 2 == 0 else list(reversed(pages))
            for name in order:
                print(f"round {number + 1}, the page {name}: {pages[name]}", flush=True)
                result = await run_page(
                    browser, pages[name], args.at, args.rate, args.probes, args.keys
                )
                rounds[name].append(result)
                if saved is not None:
                    with saved.open("a") as out:
                        out.write(json.dumps({"page": name, "rate": args.rate, **result}) + "\n")
        await browser.close()
    table(rounds, args.rate)


def table(rounds: dict[str, list[dict[int, dict[str, float]]]], rate: float) -> None:
    """Each figure's median over the rounds."""
    count = max(len(runs) for runs in rounds.values())
    print(f"\n{rate:g} lines a second; medians of {count} round(s)")
    print(
        "| page | lines received | JS heap | lines in the page | on screen, median (p95) "
        "| keystroke to frame, median (p95) |"
    )
    print("|---|---|---|---|---|---|")
    for name, results in rounds.items():
        for mark in sorted({mark for result in results for mark in result}):
            runs = [result[mark] for result in results if mark in result]
            m = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            print(
                f"| {name} | {mark:,} | {m['heap_mb']:.1f} MB | {m['lines_in_page']:,.0f} "
                f"| {m['on_screen_ms']:.0f} ms ({m['on_screen_p95_ms']:.0f} ms) "
                f"| {m['key_ms']:.1f} ms ({m['key_p95_ms']:.1f} ms) |"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", help="the built web client to compare with")
    parser.add_argument("--after", default=str(ROOT / "web" / "dist"), help="[web/dist]")
    parser.add_argument("--at", type=int, nargs="+", default=[2000, 10000], help="lines received")
    parser.add_argument("--rate", type=float, default=100, help="lines a second [100]")
    parser.add_argument("--probes", type=int, default=20, help="marked lines a measure [20]")
    parser.add_argument("--keys", type=int, default=80, help="keystrokes a measure [80]")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each page [1]")
    parser.add_argument("--save", help="add each page's run to this file, a JSON object a line")
    parser.add_argument("--table", help="only print the medians of the runs saved in this file")
    asyncio.run(main(parser.parse_args()))
