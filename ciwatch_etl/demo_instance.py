"""The demo's Dagster instance: sqlite files in `<home>/dagster`, the folder `dagster dev` opens.

Dagster's default sqlite event log creates an engine for every event it stores and closes it
again; closing the last connection to a WAL database checkpoints it, so each of the demo's ~2,300
events paid an engine and a few fsyncs (about half of the demo's time on 2 shared cores). The
event log here is the same class over the same files and schema, so `dagster dev` reads the runs
as before; it keeps one engine per file open and lets a commit reach the WAL without an fsync
(`synchronous=normal`, SQLite's advice for WAL: a crash of the machine may lose the last events,
never corrupt a file).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData

# Every dagster.yaml the demo writes starts so; a file that does not is the user's and is kept.
HEADER = "# The ciwatch-etl demo's Dagster instance"


class DemoEventLogStorage(SqliteEventLogStorage):
    """Dagster's sqlite event log (one file a run, plus the index), with its files kept open."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: dict[str, sa.Engine] = {}
        # Apart from Dagster's `_db_lock`: `has_table` is asked while a connection holds that one.
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value) -> DemoEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as connection, connection.begin():
                yield connection

    def _engine(self, shard: str) -> sa.Engine:
        with self._engines_lock:
            if shard not in self._engines:
                engine = sa.create_engine(self.conn_string_for_shard(shard),
                                          connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                sa.event.listen(engine, "connect", _commit_without_fsync)
                self._engines[shard] = engine
            return self._engines[shard]

    def has_table(self, table_name: str) -> bool:
        # Asked for every check and asset event stored, within the connection storing it: the kept
        # index engine answers, on a second connection, as Dagster's own asks on a new engine.
        with self._engine(INDEX_SHARD_NAME).connect() as connection:
            return bool(connection.dialect.has_table(connection, table_name))

    def wipe(self) -> None:
        self._close_files()  # wiping deletes the files; nothing may hold them open
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_files()

    def _close_files(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


def _commit_without_fsync(connection, _record) -> None:
    connection.execute("pragma synchronous = normal")


def demo_instance(home: Path) -> dg.DagsterInstance:
    """A persistent Dagster instance in `<home>/dagster`: `dagster dev` with DAGSTER_HOME there
    shows the demo's runs, materializations and check results."""
    directory = home / "dagster"
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "dagster.yaml"
    # Rewritten while it is the demo's own (an older demo's included), so a home that moved
    # points at its new folder; runs, schedules and local files keep Dagster's sqlite defaults.
    if not config.exists() or config.read_text().startswith(HEADER):
        config.write_text(
            f"{HEADER}, rewritten by every demo run: sqlite storage in this folder, with an\n"
            "# event log that keeps its files open while the demo writes (ciwatch_etl/demo_instance.py).\n"
            "telemetry:\n  enabled: false\n"
            "event_log_storage:\n"
            f"  module: {__name__}\n"
            f"  class: {DemoEventLogStorage.__name__}\n"
            "  config:\n"
            f"    base_dir: {_yaml_string(directory / 'history' / 'runs')}\n"
        )
    return dg.DagsterInstance.from_config(str(directory))


def _yaml_string(path: Path) -> str:
    """A path as a double-quoted YAML scalar (a folder may hold `: ` or `#`)."""
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'
