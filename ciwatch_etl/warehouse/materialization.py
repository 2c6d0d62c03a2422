"""How a model is stored, read from the `config:` block of its yml (in the spirit of dbt's configs).

    config:
      materialized: incremental      # view | table (default) | incremental
      partition_by: usage_date       # the date column an incremental reader may filter on
      granularity: day               # day (default), week or month: what one value of it stands for
      lookback_days: 14              # incremental: how far back a change can reach
      input_lookback_days:           # optional, per input: a change of it reaches less far back
        int_job_resource_classes_evaluated: 0
      read_lookback_days: 0          # optional: how far before the rewritten days rows are read
      unique_key: [provider, job_id] # one row per key (a model test checks it)
      full_refresh_by: month         # incremental, per day: a full build computes a month at a time
      cluster_by: [run_date]         # incremental: rows are written to Parquet in this order

- `view`: a DuckDB view, computed when read (staging models: renames over the raw lake views).
- `table`: rebuilt in full by every build, stored in the warehouse file. For small models, and
  for rules without a bound in time (a failed deployment may be restored a month later).
- `incremental`: one Parquet file per partition under `lake/_models/<model>/`, the warehouse
  holding a view over them. A build rewrites the partitions from the earliest day any input
  changed minus `lookback_days` (the window the model's cross-day rules look across) to the
  newest; the rows it reads start `lookback_days` earlier still, so every rewritten row sees
  everything its rules can reach. It reads a dependency with a `partition_by` from that day on,
  and one without in full. With `full_refresh_by: month`, a full build computes one month at a
  time, reading its dependencies' days from `lookback_days` before the month to `lookback_days`
  after it: memory bounded by a month of input, for models (window percentiles) that would
  otherwise hold a year at once. `input_lookback_days` names inputs whose changes reach back
  less far than `lookback_days` (a month's rightsizing reaches its own month only; a job's day is
  never before its run's): the rewrite starts from the earliest day any input's change reaches,
  each by its own lookback; the rows read still start `lookback_days` before it, or
  `read_lookback_days` (a rule that links a row only to later ones, such as a newer push
  superseding a run, needs no row before the first one rewritten; a job's row, dated by its own
  start, is read from its run's, up to 14 days earlier, while a change reaches no day before
  its own: more days read than rewritten). `cluster_by` (in the spirit of dbt's clustering
  configs) sorts the rows as they are written: a full build's one file then holds each day in a
  few row groups, and a nightly build's reads of the last weeks, and its tests, skip the rest by
  the row groups' statistics. Rows that a model computes in day order anyway (row-wise models
  over the day-partitioned lake) need no sort, which costs the most on the largest models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

KINDS = ("view", "table", "incremental")
GRANULARITIES = ("day", "week", "month")
_KEYS = {"materialized", "partition_by", "granularity", "lookback_days", "input_lookback_days",
         "read_lookback_days", "unique_key", "full_refresh_by", "cluster_by"}


class MaterializationError(ValueError):
    """A model's `config:` block is malformed."""


@dataclass(frozen=True)
class Materialization:
    kind: str = "table"
    partition_by: str | None = None
    granularity: str = "day"
    lookback_days: int = 0
    unique_key: tuple[str, ...] = ()
    full_refresh_by_month: bool = False
    input_lookback_days: Mapping[str, int] = field(default_factory=dict)
    read_lookback_days: int | None = None  # None: lookback_days
    cluster_by: tuple[str, ...] = ()

    @property
    def is_incremental(self) -> bool:
        return self.kind == "incremental"

    def partition_floor(self, day: date) -> date:
        """The first day of the partition holding `day` (weeks start on Monday, as DuckDB's)."""
        if self.granularity == "month":
            return day.replace(day=1)
        if self.granularity == "week":
            return day - timedelta(days=day.weekday())
        return day

    def rebuild_from(self, changed_from: date, changed_input: str | None = None) -> date:
        """The first partition to rewrite when an input (`changed_input`: its own lookback, if it
        has one) changed from `changed_from` on."""
        lookback = self.input_lookback_days.get(changed_input, self.lookback_days)
        return self.partition_floor(changed_from - timedelta(days=lookback))

    def read_from(self, rebuild_from: date) -> date:
        """The first day of input the rewritten partitions need (their rules look back this far)."""
        reads_back = self.lookback_days if self.read_lookback_days is None else self.read_lookback_days
        return rebuild_from - timedelta(days=reads_back)


def parse_materialization(spec: Any) -> Materialization:
    if spec is None:
        return Materialization()
    if not isinstance(spec, dict) or set(spec) - _KEYS:
        raise MaterializationError(f"config: expected a mapping with keys among {sorted(_KEYS)}, got {spec!r}")
    kind = spec.get("materialized", "table")
    if kind not in KINDS:
        raise MaterializationError(f"config.materialized must be one of {', '.join(KINDS)}, got {kind!r}")
    partition_by = spec.get("partition_by")
    if partition_by is not None and not isinstance(partition_by, str):
        raise MaterializationError(f"config.partition_by must be a column name, got {partition_by!r}")
    granularity = spec.get("granularity", "day")
    if granularity not in GRANULARITIES:
        raise MaterializationError(f"config.granularity must be day, week or month, got {granularity!r}")
    lookback = spec.get("lookback_days", 0)
    if not isinstance(lookback, int) or isinstance(lookback, bool) or lookback < 0:
        raise MaterializationError(f"config.lookback_days must be a whole number of days >= 0, got {lookback!r}")
    unique_key = spec.get("unique_key", [])
    if not isinstance(unique_key, list) or not all(isinstance(c, str) for c in unique_key):
        raise MaterializationError(f"config.unique_key must be a list of column names, got {unique_key!r}")
    if kind == "incremental" and (partition_by is None or not unique_key):
        raise MaterializationError("config: an incremental model needs partition_by and unique_key")
    if kind != "incremental" and lookback:
        raise MaterializationError("config: lookback_days is for incremental models")
    inputs = spec.get("input_lookback_days", {})
    if not isinstance(inputs, dict) or not all(
        isinstance(name, str) and isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= lookback
        for name, days in inputs.items()
    ) or (inputs and kind != "incremental"):
        raise MaterializationError(
            f"config.input_lookback_days: input names to whole numbers of days from 0 to lookback_days, "
            f"for incremental models, got {inputs!r}"
        )
    reads_back = spec.get("read_lookback_days")
    if reads_back is not None and (not isinstance(reads_back, int) or isinstance(reads_back, bool)
                                   or reads_back < 0 or kind != "incremental"):
        raise MaterializationError(
            f"config.read_lookback_days: a whole number of days >= 0, for incremental models, got {reads_back!r}"
        )
    cluster_by = spec.get("cluster_by", [])
    if not isinstance(cluster_by, list) or not all(isinstance(c, str) for c in cluster_by) or (
        cluster_by and kind != "incremental"
    ):
        raise MaterializationError(
            f"config.cluster_by: a list of column names, for incremental models, got {cluster_by!r}"
        )
    by = spec.get("full_refresh_by")
    if by not in (None, "month") or (by and (kind != "incremental" or granularity != "day")):
        raise MaterializationError(f"config.full_refresh_by: 'month', for incremental models by day, got {by!r}")
    return Materialization(kind, partition_by, granularity, lookback, tuple(unique_key), by == "month",
                           dict(inputs), reads_back, tuple(cluster_by))
