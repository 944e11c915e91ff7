"""moto's server mode, one request at a time.

DynamoDB makes each request atomic. moto's threaded server does not: a
transaction copies the whole table first and, when a condition fails, puts
that copy back, erasing what other requests wrote meanwhile (a claim that
succeeded in another thread would vanish). Serving one request at a time
restores DynamoDB's guarantee, so that tests of concurrent writers test papo,
not moto's rollback.

Two of moto's costs grow with the table, and a suite's tables grow to thousands
of items (rooms of many tests share one): a transaction copies the whole table,
and a query sorts the whole table before it keeps the partition asked for. Here,
one request at a time, a transaction that fails gives back the items it names,
and a query of the table (not of an index) reads its partition alone: the same
answers, at the cost of what they touch.
"""

from __future__ import annotations

import copy
import inspect
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _one_at_a_time(app: Wsgi) -> Wsgi:
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    return serve


class _TablesNotCopied:
    """The `copy` module as moto's DynamoDB backend sees it during a transaction:
    a table's deep copy is the table itself (its rollback is then a no-op, and
    `_transact_write_items` gives back the items the transaction named)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_moto_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items
Saved = tuple[Table, DynamoType, DynamoType | None, Any]


def _named_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[Saved] | None:
    """Each item the transaction names, as it is now (None where it is absent);
    None when a name is not one moto will take (moto's own checks then answer)."""
    saved: list[Saved] = []
    for entry in transact_items:
        operation = next(iter(entry.values()), None) if isinstance(entry, dict) else None
        if not isinstance(operation, dict):
            return None
        table = backend.tables.get(operation.get("TableName"))
        if table is None:
            continue
        key = operation.get("Key") or operation.get("Item") or {}
        try:
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, TypeError):
            return None
        item = table.get_item(hash_value, range_value)
        saved.append((table, hash_value, range_value, copy.deepcopy(item)))
    return saved


def _give_back(saved: list[Saved]) -> None:
    for table, hash_value, range_value, item in reversed(saved):
        partition = table.items[hash_value] if range_value is not None else table.items
        key = range_value if range_value is not None else hash_value
        if item is None:
            partition.pop(key, None)
        else:
            partition[key] = item


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    saved = _named_items(self, transact_items)
    if saved is None:
        _moto_transact_write_items(self, transact_items)
        return
    setattr(dynamodb_models, "copy", _TablesNotCopied())  # noqa: B010 - moto's own name
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        _give_back(saved)
        raise
    finally:
        setattr(dynamodb_models, "copy", copy)  # noqa: B010


_moto_query = Table.query
_QUERY = inspect.signature(_moto_query)


def _query(self: Table, *args: Any, **kwargs: Any) -> Any:
    asked = _QUERY.bind(self, *args, **kwargs).arguments
    hash_key = asked.get("hash_key")
    if asked.get("index_name") or hash_key is None or not self.range_key_attr:
        return _moto_query(self, *args, **kwargs)
    everything = self.items
    self.items = defaultdict(dict)
    if hash_key in everything:
        self.items[hash_key] = everything[hash_key]
    try:
        return _moto_query(self, *args, **kwargs)
    finally:
        self.items = everything


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler, without werkzeug's log line for each request,
    which pytest kept for each test's report: a tenth of the CPU of a test of
    thirty joins on DynamoDB."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SerialMotoServer:
    """moto on a loopback port (0: a free one), in a thread, one request at a time."""

    def __init__(self, port: int = 0) -> None:
        dynamodb_models.DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
        Table.query = _query  # type: ignore[method-assign]
        app = _one_at_a_time(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=_QuietRequestHandler
        )
        # It looks whether to stop every 20 ms, not every half second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
