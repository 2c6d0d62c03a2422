"""The SQL models as one Dagster multi-asset with asset checks, materialized on the real sample export."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ciwatch_etl.assets.sql_models import build_sql_model_assets
from ciwatch_etl.landing.usage_load import UsageFile, land_usage_files
from ciwatch_etl.resources import DataFolderResource
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.models import load_models

STG = dg.AssetKey("stg_circleci__usage_jobs")
FCT = dg.AssetKey("fct_credit_usage_daily")


def test_one_spec_per_model_and_one_check_per_model_test():
    assets = build_sql_model_assets()
    models = load_models()

    assert set(assets.keys) == {dg.AssetKey(m.name) for m in models}
    assert assets.check_keys == {
        dg.AssetCheckKey(dg.AssetKey(m.name), t.name) for m in models for t in m.tests
    }
    stg, fct = assets.specs_by_key[STG], assets.specs_by_key[FCT]
    assert {d.asset_key for d in stg.deps} == {
        dg.AssetKey("circleci_usage_jobs"), dg.AssetKey("stg_circleci__usage_projects")
    }
    assert [d.asset_key for d in fct.deps] == [STG]
    assert (stg.group_name, fct.group_name) == ("staging", "marts")
    # An incremental model stores its rows as Parquet in the lake; the staging view stores nothing.
    assert (set(stg.kinds), set(fct.kinds)) == ({"duckdb", "sql"}, {"duckdb", "sql", "parquet"})
    assert fct.description.startswith("One row per UTC day")
    schema = fct.metadata["dagster/column_schema"]
    described = {c.name: c.description for c in schema.columns}
    assert described["total_cost_usd"]
    assert described == next(m for m in models if m.name == FCT.path[0]).columns


def test_materializes_every_model_and_passes_every_check(tmp_path: Path, refs_dir: Path):
    home = tmp_path / "home"
    sample = refs_dir / "circleci/usage_export/faros/usage-export.csv"
    land_usage_files(
        Paths(home).lake,
        [UsageFile(path=sample, source=sample.name, source_key="faros-sample")],
        extracted_at=datetime(2025, 7, 3),
    )
    assets = build_sql_model_assets()

    warehouse = DataFolderResource(home=str(home), credit_price_usd=0.001)

    result = dg.materialize([assets], resources={"data_folder": warehouse})

    assert result.success
    materialized = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("sql_models")}
    assert materialized[STG]["dagster/row_count"].value == 2
    assert materialized[FCT]["dagster/row_count"].value == 2
    columns = {c.name: c.type for c in materialized[FCT]["dagster/column_schema"].value.columns}
    assert columns["total_cost_usd"] == "DOUBLE"
    assert "| usage_date |" in materialized[FCT]["preview"].value

    evaluations = result.get_asset_check_evaluations()
    assert {(e.asset_key, e.check_name) for e in evaluations} == {
        (k.asset_key, k.name) for k in assets.check_keys
    }
    assert [e.check_name for e in evaluations if not e.passed] == []

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        costs = con.execute(
            "select job_name, total_credits, total_cost_usd from fct_credit_usage_daily order by job_name"
        ).fetchall()
    # the sample's two jobs: 8 and 13 credits, at 0.001 USD per credit
    assert costs == [("deploy-job", 13.0, pytest.approx(0.013)), ("test-job", 8.0, pytest.approx(0.008))]
