"""`ciwatch-etl demo`: the three simulators plus the whole pipeline through Dagster, offline."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

from rich.console import Console

from ciwatch_etl.pipeline import materialize
from ciwatch_etl.report.command import last_full_month
from ciwatch_etl.report.write import write_waste_report
from ciwatch_etl.simulator import Simulator
from ciwatch_etl.simulator.gocdnext import GocdnextSimulator
from ciwatch_etl.simulator.sourcecraft import SourceCraftSimulator
from ciwatch_etl.summary import print_run, print_warehouse_summary

# First pulls kept short so the demo stays under a minute: pipeline history costs a call per
# job (two days here), Insights a page per 30 runs (a month here; a real first pull takes 90).
DEMO_ASSET_CONFIG = {
    "circleci_pipeline_history": {"history_days": 2},
    "circleci_insights": {"history_days": 30},
}

DEMO_GOCDNEXT_NAME = "acme-gocdnext"


def simulator_environment(circleci: Simulator, sourcecraft: SourceCraftSimulator,
                          gocdnext: GocdnextSimulator) -> dict[str, str]:
    """The settings that point every source at the simulators, as a user would set them."""
    return {
        "CIRCLECI_API_URL": circleci.circleci_api_url,
        "CIRCLECI_TOKEN": circleci.token,
        "CIRCLECI_ORG_IDS": ",".join(circleci.org_ids),
        "CIRCLECI_PROJECT_SLUGS": ",".join(circleci.project_slugs),
        "SOURCECRAFT_API_URL": sourcecraft.api_url,
        "SOURCECRAFT_TOKEN": sourcecraft.token,
        "SOURCECRAFT_REPO_IDS": ",".join(sourcecraft.repo_ids),
        "GOCDNEXT_URL": gocdnext.url,
        "GOCDNEXT_TOKEN": gocdnext.token,
        # The simulator listens on 127.0.0.1; a name is what users give a server reached by address.
        "GOCDNEXT_NAME": DEMO_GOCDNEXT_NAME,
    }


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables for the demo's run and put the previous values back afterwards."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_demo(home: Path, days: int, console: Console) -> None:
    started = time.monotonic()
    home = home.expanduser().resolve()
    with ExitStack() as stack:
        circleci = stack.enter_context(Simulator(days=days))
        sourcecraft = stack.enter_context(SourceCraftSimulator())
        gocdnext = stack.enter_context(GocdnextSimulator(days=days))
        stack.enter_context(
            _environment(
                simulator_environment(circleci, sourcecraft, gocdnext)
                | {"CIWATCH_HOME": str(home), "CIRCLECI_POLL_SECONDS": "0.1"}
            )
        )
        last = circleci.end_date
        first = last - timedelta(days=days - 1)
        console.print(f"simulators up (CircleCI {first} .. {last}, SourceCraft, gocdnext); data folder {home}")
        with console.status("running the pipeline through Dagster"):
            steps = materialize(None, first, last, DEMO_ASSET_CONFIG)
    print_run(steps, console)
    warehouse = home / "warehouse.duckdb"
    print_warehouse_summary(warehouse, console)
    month = last_full_month(last + timedelta(days=1))
    for path in write_waste_report(warehouse, month, home / "reports"):
        console.print(f"finance report ({month:%B %Y}): {path}", soft_wrap=True, highlight=False)
    console.print(
        f"done in {time.monotonic() - started:.1f} s. Query the warehouse read-only, e.g.:\n"
        f"  python -c \"import duckdb; duckdb.connect('{warehouse}', read_only=True)"
        f".sql('from fct_credit_usage_daily limit 5').show()\"\n"
        f"or ask for metrics: CIWATCH_HOME={home} ciwatch-etl metrics costs --period-days 30",
        soft_wrap=True,
    )
