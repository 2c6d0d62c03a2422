"""The `config:` block of a model's yml: what it accepts, and the line it draws on what it does not."""

from __future__ import annotations

from datetime import date

import pytest

from ciwatch_etl.warehouse.materialization import Materialization, MaterializationError, parse_materialization


def test_an_incremental_model_by_day_reads_back_its_lookback():
    spec = {"materialized": "incremental", "partition_by": "job_date", "lookback_days": 14,
            "unique_key": ["job_id"], "full_refresh_by": "month"}
    parsed = parse_materialization(spec)
    assert parsed == Materialization("incremental", "job_date", "day", 14, ("job_id",), True)
    assert parsed.rebuild_from(date(2026, 6, 20)) == date(2026, 6, 6)
    assert parsed.read_from(date(2026, 6, 6)) == date(2026, 5, 23)


def test_weeks_and_months_rewrite_whole_partitions():
    week = parse_materialization({"materialized": "incremental", "partition_by": "week_start",
                                  "granularity": "week", "unique_key": ["week_start"]})
    month = parse_materialization({"materialized": "incremental", "partition_by": "month_start",
                                   "granularity": "month", "unique_key": ["month_start"]})
    assert week.rebuild_from(date(2026, 6, 20)) == date(2026, 6, 15)  # a Saturday: its Monday
    assert month.rebuild_from(date(2026, 6, 20)) == date(2026, 6, 1)


def test_an_input_with_its_own_lookback_reaches_back_only_that_far():
    parsed = parse_materialization({"materialized": "incremental", "partition_by": "usage_date",
                                    "lookback_days": 14, "unique_key": ["job_id"],
                                    "input_lookback_days": {"monthly_input": 0}})
    assert parsed.rebuild_from(date(2026, 6, 1), "monthly_input") == date(2026, 6, 1)
    assert parsed.rebuild_from(date(2026, 6, 20), "daily_input") == date(2026, 6, 6)
    assert parsed.read_from(date(2026, 6, 1)) == date(2026, 5, 18)  # rows read: the model's lookback


def test_a_model_whose_rules_look_only_forward_reads_from_its_first_rewritten_day():
    parsed = parse_materialization({"materialized": "incremental", "partition_by": "run_date",
                                    "lookback_days": 14, "read_lookback_days": 0, "unique_key": ["run_id"]})
    assert parsed.rebuild_from(date(2026, 6, 20)) == date(2026, 6, 6)
    assert parsed.read_from(date(2026, 6, 6)) == date(2026, 6, 6)


def test_a_model_may_read_further_back_than_its_changes_reach():
    parsed = parse_materialization({"materialized": "incremental", "partition_by": "usage_date",
                                    "read_lookback_days": 14, "unique_key": ["job_id"]})
    assert parsed.rebuild_from(date(2026, 6, 20)) == date(2026, 6, 20)
    assert parsed.read_from(date(2026, 6, 20)) == date(2026, 6, 6)


@pytest.mark.parametrize(("spec", "named"), [
    ({"materialized": "incremental", "partition_by": "d", "unique_key": ["k"], "lookback_days": 3,
      "read_lookback_days": -1}, "config.read_lookback_days"),
    ({"materialized": "view", "read_lookback_days": 2}, "config.read_lookback_days"),
    ({"materialized": "incremental", "partition_by": "d", "unique_key": ["k"], "lookback_days": 3,
      "input_lookback_days": {"i": 4}}, "config.input_lookback_days"),
    ({"materialized": "incremental", "partition_by": "d", "unique_key": ["k"], "lookback_days": 3,
      "input_lookback_days": ["i"]}, "config.input_lookback_days"),
    ({"materialized": "snapshot"}, "config.materialized"),
    ({"materialized": "incremental", "partition_by": "d"}, "needs partition_by and unique_key"),
    ({"materialized": "incremental", "partition_by": "d", "unique_key": ["k"], "lookback_days": -1},
     "config.lookback_days"),
    ({"materialized": "table", "lookback_days": 3}, "lookback_days is for incremental models"),
    ({"materialized": "table", "full_refresh_by": "month"}, "config.full_refresh_by"),
    ({"materialized": "incremental", "partition_by": "w", "granularity": "week", "unique_key": ["w"],
      "full_refresh_by": "month"}, "config.full_refresh_by"),
    ({"materialized": "incremental", "partition_by": "d", "unique_key": ["k"], "full_refresh_by": "year"},
     "config.full_refresh_by"),
    ({"materialized": "table", "cluster_by": ["d"]}, "config.cluster_by"),
    ({"materialized": "incremental", "partition_by": "d", "unique_key": ["k"], "cluster_by": "d"},
     "config.cluster_by"),
    ({"materialised": "view"}, "expected a mapping with keys among"),
])
def test_a_malformed_config_is_refused_naming_the_key(spec: dict, named: str):
    with pytest.raises(MaterializationError, match=named):
        parse_materialization(spec)
