"""Many handler invocations at once, in several processes sharing one SQLite file,
as when several Lambda containers serve one room."""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import sqlite3
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from botocore.credentials import Credentials

from papo.adapters.store.sqlite import SqliteStore
from tests import events
from tests.management_api import ManagementApi

PEOPLE = 48
PROCESSES = 4
THREADS_PER_PROCESS = 4


def _container(environ: dict[str, str]) -> None:
    os.environ.update(environ)


def _invoke_all(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One 'container': its share of events, several at a time."""
    from papo.aws.handler import handler

    with ThreadPoolExecutor(THREADS_PER_PROCESS) as threads:
        return list(threads.map(lambda event: handler(event, None), batch))


def _run(pool: ProcessPoolExecutor, batch: list[dict[str, Any]]) -> None:
    shares = [batch[i::PROCESSES] for i in range(PROCESSES)]
    for results in pool.map(_invoke_all, shares):
        assert all(result == {"statusCode": 200} for result in results)


def test_concurrent_invocations_in_several_processes(tmp_path: Path) -> None:
    db = tmp_path / "papo.sqlite3"
    key, secret, token = "AKIDPAPOTEST", "papo-test-secret", "papo-test-token"
    with ManagementApi(Credentials(key, secret, token)) as api:
        environ = {
            "PAPO_STORE": "sqlite",
            "PAPO_SQLITE_PATH": str(db),
            "PAPO_MANAGEMENT_ENDPOINT": api.url,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_SESSION_TOKEN": token,
            "AWS_REGION": "us-east-1",
        }
        ids = [events.connection_id() for _ in range(PEOPLE)]
        names = [f"Person{i}" for i in range(PEOPLE)]
        api.connect(*ids)
        with ProcessPoolExecutor(
            PROCESSES,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=functools.partial(_container, environ),
        ) as pool:
            _run(pool, [events.connect(cid) for cid in ids])
            _run(
                pool,
                [
                    events.message(cid, "setName", json.dumps({"action": "setName", "name": n}))
                    for cid, n in zip(ids, names, strict=True)
                ],
            )
            api.clear()
            _run(
                pool,
                [
                    events.message(
                        cid, "sendPublic", json.dumps({"action": "sendPublic", "message": f"m{i}"})
                    )
                    for i, cid in enumerate(ids)
                ],
            )

        assert sorted(m.name for m in SqliteStore(db).members()) == sorted(names)
        expected = Counter(f"{name}: m{i}" for i, name in enumerate(names))
        for cid in ids:
            got = Counter(str(frame["publicMessage"]) for frame in api.frames(cid))
            assert got == expected, cid
        assert api.bad_signatures == 0


ROUNDS = 8


def _open_together(paths: list[str], ready: Barrier, outcomes: Queue[str]) -> None:
    """One container: at each round, opens the round's new file with the others."""
    for path in paths:
        ready.wait()
        try:
            SqliteStore(path)
        except sqlite3.Error as error:
            outcomes.put(repr(error))
        else:
            outcomes.put("ok")


def test_containers_opening_a_new_file_together_all_get_a_store(tmp_path: Path) -> None:
    """Switching a new file to WAL takes it whole, and SQLite refuses the others
    at once, without waiting: each container must still get its store."""
    context = multiprocessing.get_context("spawn")
    paths = [str(tmp_path / f"round{n}.sqlite3") for n in range(ROUNDS)]
    ready = context.Barrier(PROCESSES * 2)
    outcomes: Queue[str] = context.Queue()
    containers = [
        context.Process(target=_open_together, args=(paths, ready, outcomes))
        for _ in range(PROCESSES * 2)
    ]
    for container in containers:
        container.start()
    got = Counter(outcomes.get(timeout=60) for _ in range(ROUNDS * len(containers)))
    for container in containers:
        container.join(timeout=60)
    assert got == Counter({"ok": ROUNDS * len(containers)})
