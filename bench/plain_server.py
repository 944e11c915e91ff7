"""The baseline for `bench/fanout.py`: papo's protocol (setName, sendPublic) in
memory, on a plain `websockets` server, with no API Gateway, Lambda or store.

Run by the benchmark as `python bench/plain_server.py PORT`.
"""

from __future__ import annotations

import asyncio
import json
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

names: dict[ServerConnection, str] = {}


async def chat(ws: ServerConnection) -> None:
    try:
        async for raw in ws:
            message = json.loads(raw)
            if message.get("action") == "setName":
                names[ws] = message["name"]
                roster = json.dumps({"members": list(names.values())})
                joined = json.dumps({"systemMessage": f"{message['name']} joined the chat"})
                broadcast(names, roster)
                broadcast(names, joined)
            elif message.get("action") == "sendPublic" and ws in names:
                text = message["message"]
                frame = json.dumps(
                    {"publicMessage": f"{names[ws]}: {text}", "from": names[ws], "text": text}
                )
                broadcast(names, frame)
    finally:
        names.pop(ws, None)


async def main(port: int) -> None:
    async with serve(chat, "127.0.0.1", port, max_size=128 * 1024, ping_interval=None):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
