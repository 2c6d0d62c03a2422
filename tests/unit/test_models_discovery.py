"""Model discovery: the packaged models, dependencies from SQL, and load-time errors naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ciwatch_etl import package_files as models_module
from ciwatch_etl.warehouse.models import ModelLoadError, default_models_dir, load_models

STG = "stg_circleci__usage_jobs"
FCT = "fct_credit_usage_daily"
ID_COLUMN = "columns: {id: {description: x}}\n"


def write_model(root: Path, layer: str, name: str, sql: str, yml: str | None = "columns: {}\n") -> Path:
    folder = root / layer
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.sql").write_text(sql)
    if yml is not None:
        (folder / f"{name}.yml").write_text(yml)
    return folder / f"{name}.sql"


def grain(body: str) -> str:
    return f"-- One row per thing.\n{body}\n"


def test_packaged_models_are_found_in_dependency_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # the models come from the package, never the working directory
    names = [m.name for m in load_models()]
    assert STG in names and FCT in names
    assert names.index(STG) < names.index(FCT)


def test_packaged_models_dir_sits_beside_the_package():
    root = default_models_dir()
    assert (root / "staging" / f"{STG}.sql").is_file()
    assert (root / "marts" / f"{FCT}.yml").is_file()


def test_models_inside_an_installed_wheel_are_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    packaged = tmp_path / "site-packages" / "ciwatch_etl"
    monkeypatch.setattr(models_module.importlib.resources, "files", lambda package: packaged)
    assert default_models_dir() != packaged / "dbt_like_sql"  # not in the wheel: the checkout's
    (packaged / "dbt_like_sql").mkdir(parents=True)
    assert default_models_dir() == packaged / "dbt_like_sql"


def test_packaged_model_dependencies_descriptions_and_tests():
    models = {m.name: m for m in load_models()}
    stg, fct = models[STG], models[FCT]

    # the project slug of each repository URL comes from a small staging table
    assert (stg.layer, stg.model_deps, stg.raw_deps) == (
        "staging", ("stg_circleci__usage_projects",), ("circleci_usage_jobs",)
    )
    # raw.settings is made by the build, so it is no asset dependency
    assert (fct.layer, fct.model_deps, fct.raw_deps) == ("marts", (STG,), ())

    assert stg.description.startswith("One row per CircleCI job run")
    assert "'(none)'" in fct.description
    assert not stg.sql.rstrip().endswith(";")
    assert fct.columns["total_cost_usd"]

    fct_tests = {t.name for t in fct.tests}
    assert {
        "unique_usage_date__org_id__project_name__workflow_name__job_name__resource_class__branch",
        "not_null_usage_date",
        "credit_types_add_up",
        "credits_not_negative",
        "columns_documented",
    } <= fct_tests
    assert {"unique_job_id", "accepted_values_provider", "credit_types_add_up"} <= {t.name for t in stg.tests}


def test_dependencies_come_from_the_sql_and_order_follows_them(tmp_path: Path):
    # Names sort against dependency order on purpose: the order must come from the references.
    write_model(
        tmp_path, "marts", "a_mart", grain("select * from b_intermediate join main.c_staging using (id)")
    )
    write_model(
        tmp_path,
        "intermediate",
        "b_intermediate",
        grain("with c_staging as (select 1 as id), x as (select * from c_staging) select * from x"),
    )
    write_model(
        tmp_path,
        "staging",
        "c_staging",
        grain(
            "with jobs as (select * from raw.circleci_usage_jobs), s as (select * from raw.settings) "
            "select 1 as id from jobs, s, range(3)"
        ),
    )
    models = load_models(tmp_path)

    assert [m.name for m in models] == ["c_staging", "b_intermediate", "a_mart"]
    by_name = {m.name: m for m in models}
    assert by_name["a_mart"].model_deps == ("b_intermediate", "c_staging")
    # a CTE named like a model shadows it
    assert by_name["b_intermediate"].model_deps == ()
    assert by_name["c_staging"].raw_deps == ("circleci_usage_jobs",)


def test_description_is_the_leading_comment_block(tmp_path: Path):
    sql = "-- One row per widget.\n--\n-- Surprise: none.\nselect 1 as id -- trailing\n;\n"
    write_model(tmp_path, "staging", "m", sql)
    (model,) = load_models(tmp_path)
    assert model.description == "One row per widget.\n\nSurprise: none."
    assert model.sql.endswith("-- trailing")


@pytest.mark.parametrize(
    ("files", "bad_file", "message"),
    [
        ({"staging/m.sql": grain("select * from nowhere")}, "staging/m.sql", "unknown table 'nowhere'"),
        ({"staging/m.sql": grain("select * from raw.nothing")}, "staging/m.sql", "unknown raw table"),
        ({"staging/m.sql": grain("select * from other.t")}, "staging/m.sql", "unknown table"),
        ({"staging/m.sql": grain("select from from")}, "staging/m.sql", "cannot parse SQL"),
        ({"staging/m.sql": grain("select 1; select 2")}, "staging/m.sql", "expected one SQL statement"),
        ({"staging/m.sql": grain("create table t as select 1")}, "staging/m.sql", "one SELECT statement"),
        ({"staging/m.sql": "select 1 as id\n"}, "staging/m.sql", "grain"),
        ({"staging/m.sql": "-- Just a note.\nselect 1 as id\n"}, "staging/m.sql", "grain"),
        ({"staging/Bad-Name.sql": grain("select 1")}, "staging/Bad-Name.sql", "lower_snake_case"),
        (
            {"marts/a.sql": grain("select * from b"), "marts/b.sql": grain("select * from a")},
            "marts/a.sql",
            "dependency cycle",
        ),
        ({"marts/a.sql": grain("select * from a")}, "marts/a.sql", "dependency cycle"),
        (
            {"staging/m.sql": grain("select 1"), "marts/m.sql": grain("select 1")},
            "marts/m.sql",
            "also used by",
        ),
    ],
)
def test_broken_models_fail_at_load_naming_the_file(
    tmp_path: Path, files: dict[str, str], bad_file: str, message: str
):
    for relative, sql in files.items():
        layer, file_name = relative.split("/")
        write_model(tmp_path, layer, file_name.removesuffix(".sql"), sql)
    with pytest.raises(ModelLoadError) as error:
        load_models(tmp_path)
    assert str(tmp_path / bad_file) in str(error.value)
    assert message in str(error.value)


def test_cycle_error_names_every_file_in_the_cycle(tmp_path: Path):
    write_model(tmp_path, "marts", "a", grain("select * from b"))
    write_model(tmp_path, "marts", "b", grain("select * from a"))
    write_model(tmp_path, "staging", "c", grain("select 1"))
    with pytest.raises(ModelLoadError) as error:
        load_models(tmp_path)
    assert str(tmp_path / "marts/a.sql") in str(error.value)
    assert str(tmp_path / "marts/b.sql") in str(error.value)
    assert "c.sql" not in str(error.value)


def test_missing_yml_fails_naming_it(tmp_path: Path):
    write_model(tmp_path, "staging", "m", grain("select 1 as id"), yml=None)
    with pytest.raises(ModelLoadError, match="missing") as error:
        load_models(tmp_path)
    assert str(tmp_path / "staging/m.yml") in str(error.value)


def test_yml_without_model_fails_naming_it(tmp_path: Path):
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging/orphan.yml").write_text("columns: {}\n")
    with pytest.raises(ModelLoadError, match="yml without a model") as error:
        load_models(tmp_path)
    assert str(tmp_path / "staging/orphan.yml") in str(error.value)


@pytest.mark.parametrize(
    ("yml", "message"),
    [
        ("columns: {id: {description: x, tests: [sometimes_null]}}\n", "unknown test"),
        (ID_COLUMN + "tests: [{unique: [id, nope]}]\n", "'nope', not listed"),
        (ID_COLUMN + "tests: [{unique: id}]\n", "list of column names"),
        ("columns: {id: {description: x, tests: [{accepted_values: []}]}}\n", "accepted_values needs"),
        (ID_COLUMN + "tests: [{expression: {name: e, sql: 'nope > 0'}}]\n", "'nope'"),
        (ID_COLUMN + "tests: [{expression: {name: e, sql: 'id >'}}]\n", "cannot parse"),
        (ID_COLUMN + "tests: [{expression: {name: bad-name, sql: 'id > 0'}}]\n", "must match"),
        ("columns: {id: {description: x, tests: [not_null, not_null]}}\n", "two tests are named"),
        ("columns: {id: {descripton: x}}\n", "expected {description, tests}"),
        ("colums: {}\n", "`columns` and `tests` only"),
        ("columns: [unclosed\n", "not valid YAML"),
        ("config: {materialized: incremental, partition_by: id, unique_key: [id], lookback_days: 1, "
         "input_lookback_days: {elsewhere: 0}}\n" + ID_COLUMN, "names ['elsewhere'], not inputs"),
    ],
)
def test_broken_yml_fails_at_load_naming_the_file(tmp_path: Path, yml: str, message: str):
    write_model(tmp_path, "staging", "m", grain("select 1 as id"), yml=yml)
    with pytest.raises(ModelLoadError) as error:
        load_models(tmp_path)
    assert str(tmp_path / "staging/m.yml") in str(error.value)
    assert message in str(error.value)


def test_missing_models_folder_fails(tmp_path: Path):
    with pytest.raises(ModelLoadError, match="not found"):
        load_models(tmp_path / "nope")
