"""Every model's given/expect unit tests (the `unit_tests:` of its yml), one test id each.

Each runs the model's SQL alone over a few given rows in an in-memory DuckDB (see
`ciwatch_etl.warehouse.unit_tests`); no other model is built on data.
"""

from __future__ import annotations

import dataclasses

import pytest

from ciwatch_etl.warehouse.models import load_models
from ciwatch_etl.warehouse.unit_tests import UnitTestRunner

MODELS = load_models()
CASES = [(model.name, test) for model in MODELS for test in model.unit_tests]


@pytest.fixture(scope="module")
def runner() -> UnitTestRunner:
    return UnitTestRunner(MODELS)


@pytest.mark.parametrize(("model", "unit_test"), CASES, ids=[f"{m}::{t.name}" for m, t in CASES])
def test_model_unit_test(runner: UnitTestRunner, model: str, unit_test):
    result = runner.run(model, unit_test)
    assert result.passed, result.explain()


def test_unit_tests_cover_the_models_with_real_logic():
    assert {"int_ci_runs", "int_runs_superseded", "mart_credit_waste", "mart_dora_keys"} <= {m for m, _ in CASES}


def test_a_unit_test_whose_expected_rows_are_wrong_fails(runner: UnitTestRunner):
    model, unit_test = next((m, t) for m, t in CASES if m == "int_ci_runs")
    first, *rest = unit_test.expect
    wrong = dataclasses.replace(unit_test, expect=({**first, "status": "failed"}, *rest))

    result = runner.run(model, wrong)

    assert not result.passed
    assert len(result.missing) == 1 and "failed" in result.missing[0]
    assert len(result.unexpected) == 1 and first["status"] in result.unexpected[0]
    # A given table rolls back with its test: the next run sees the model's inputs empty again.
    assert runner.run(model, unit_test).passed
