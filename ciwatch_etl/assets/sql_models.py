"""The SQL models of `dbt_like_sql/` as Dagster assets, and their yml tests as asset checks.

All models are one multi-asset, not subsettable, because the warehouse is published as one
file: a single model cannot be refreshed on its own without breaking the atomic publish, so a
selection must take all of them (e.g. `kind:sql`). Each run recomputes what the lake's changes
reach (incremental models from their changed days); `full_refresh` recomputes everything.
"""

from collections.abc import Iterator

import dagster as dg

from ciwatch_etl.crash_points import crash_point
from ciwatch_etl.resources import OWNERS, DataFolderResource
from ciwatch_etl.warehouse.build import ModelTestError, build_warehouse
from ciwatch_etl.warehouse.models import Model, load_models
from ciwatch_etl.warehouse.build_report import ModelReport

# Shown until a materialization reports the real DuckDB types.
UNBUILT_COLUMN_TYPE = "unknown"


class SqlModelsConfig(dg.Config):
    full_refresh: bool = False  # recompute every model from the whole lake, as dbt's --full-refresh


def build_sql_model_assets() -> dg.AssetsDefinition:
    """One multi-asset: an asset per SQL model, an asset check per model test."""
    models = load_models()

    @dg.multi_asset(
        name="sql_models",
        specs=[_asset_spec(model) for model in models],
        check_specs=[check for model in models for check in _check_specs(model)],
    )
    def sql_models(
        context: dg.AssetExecutionContext, config: SqlModelsConfig, data_folder: DataFolderResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        with data_folder.write_lock():
            try:
                report = build_warehouse(
                    data_folder.paths, data_folder.credit_price_usd, models=models, full_refresh=config.full_refresh
                )
            except ModelTestError as error:
                raise dg.Failure(
                    description=str(error),
                    metadata={f"{model}.{test.name}": test.failing_rows for model, test in error.failed},
                ) from None
            crash_point("sql_models.published")
        if report.full_refresh_reason:
            context.log.warning(report.full_refresh_reason)
        context.log.info(f"published {report.warehouse} ({len(report.models)} models)")
        for model in report.models:
            yield dg.MaterializeResult(asset_key=dg.AssetKey(model.name), metadata=_model_metadata(model))
            for test in model.tests:
                yield dg.AssetCheckResult(
                    asset_key=dg.AssetKey(model.name),
                    check_name=test.name,
                    passed=test.passed,
                    severity=dg.AssetCheckSeverity.ERROR if test.severity == "error" else dg.AssetCheckSeverity.WARN,
                    metadata={
                        "failing_rows": test.failing_rows,
                        "sql": dg.MetadataValue.md(f"```sql\n{test.sql}\n```"),
                    },
                )

    return sql_models


def _asset_spec(model: Model) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=model.name,
        deps=[*model.model_deps, *(dg.AssetKey(raw) for raw in model.raw_deps)],
        description=model.description,
        group_name=model.layer,
        owners=OWNERS,
        kinds={"duckdb", "sql", *(["parquet"] if model.materialization.is_incremental else [])},
        metadata={
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn(name, UNBUILT_COLUMN_TYPE, description)
                    for name, description in model.columns.items()
                ]
            ),
            "dagster/table_name": f"warehouse.main.{model.name}",
        },
    )


def _check_specs(model: Model) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            test.name,
            asset=model.name,
            description=f"{test.description} ({'blocks publishing' if test.severity == 'error' else 'warns'})",
        )
        for test in model.tests
    ]


def _model_metadata(model: ModelReport) -> dict[str, object]:
    return {
        "dagster/row_count": model.row_count,
        "rebuilt_from": model.rebuilt_from,
        "build_seconds": dg.MetadataValue.float(round(model.build_seconds, 3)),
        "test_seconds": dg.MetadataValue.float(round(model.test_seconds, 3)),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(c.name, c.type, c.description) for c in model.columns]
        ),
        "preview": dg.MetadataValue.md(_markdown_table([c.name for c in model.columns], model.preview)),
    }


def _markdown_table(header: list[str], rows: tuple[tuple[object, ...], ...]) -> str:
    def cell(value: object) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows),
    ]
    return "\n".join(lines)
