"""`ciwatch-etl demo`: the three simulators plus the whole pipeline through Dagster, offline."""

from __future__ import annotations

import shlex
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from rich.console import Console

from ciwatch_etl.data_folder import writable_folder
from ciwatch_etl.demo_instance import demo_instance
from ciwatch_etl.metrics.request import MetricsError
from ciwatch_etl.pipeline import materialize
from ciwatch_etl.report.command import last_full_month
from ciwatch_etl.report.write import write_waste_report
from ciwatch_etl.resources import CircleCIResource, GocdnextResource, SourceCraftResource, DataFolderResource
from ciwatch_etl.environment import credit_price_usd
from ciwatch_etl.simulator.circleci import Simulator
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


def simulator_resources(circleci: Simulator, sourcecraft: SourceCraftSimulator, gocdnext: GocdnextSimulator,
                        home: Path) -> dict[str, dg.ConfigurableResource]:
    """The resources that point every source at the simulators, handed to the definitions as they are.

    The simulators' tokens are throwaway values they made up, so they are given as plain values;
    real tokens only ever arrive through `EnvVar` (see `definitions.build_resources`).
    """
    return {
        "data_folder": DataFolderResource(home=str(home), credit_price_usd=credit_price_usd()),
        "circleci": CircleCIResource(
            token=circleci.token,
            api_url=circleci.circleci_api_url,
            org_ids=",".join(circleci.org_ids),
            project_slugs=",".join(circleci.project_slugs),
            # The simulator's export moves a state per status poll, whatever the time between.
            poll_interval_seconds=0.01,
        ),
        "sourcecraft": SourceCraftResource(
            token=sourcecraft.token, api_url=sourcecraft.api_url, repo_ids=",".join(sourcecraft.repo_ids)
        ),
        "gocdnext": GocdnextResource(url=gocdnext.url, token=gocdnext.token, name=DEMO_GOCDNEXT_NAME),
    }


def dagster_dev_command(home: Path) -> str:
    """The one command that opens `dagster dev` on the demo's instance and data folder."""
    return (f"DAGSTER_HOME={shlex.quote(str(home / 'dagster'))} CIWATCH_HOME={shlex.quote(str(home))} "
            "dagster dev -m ciwatch_etl.definitions")


def run_demo(home: Path, days: int, console: Console, out: Console | None = None) -> None:
    """Progress goes to `console` (stderr from the CLI), the summary and what to do next to `out`."""
    out = out or console
    started = time.monotonic()
    home = writable_folder(home.expanduser().resolve(), "demo data folder")
    with ExitStack() as stack:
        circleci = stack.enter_context(Simulator(days=days))
        sourcecraft = stack.enter_context(SourceCraftSimulator())
        gocdnext = stack.enter_context(GocdnextSimulator(days=days))
        last = circleci.end_date
        first = last - timedelta(days=days - 1)
        console.print(f"simulators up (CircleCI {first} .. {last}, SourceCraft, gocdnext); data folder {home}")
        with console.status("running the pipeline through Dagster"), demo_instance(home) as instance:
            run = materialize(
                None, first, last, DEMO_ASSET_CONFIG,
                resources=simulator_resources(circleci, sourcecraft, gocdnext, home),
                instance=instance,
                require_a_source=True,
            )
    print_run(run, out)
    warehouse = home / "warehouse.duckdb"
    print_warehouse_summary(warehouse, out)
    write_report(warehouse, last_full_month(last + timedelta(days=1)), home / "reports", out)
    out.print(
        f"done in {time.monotonic() - started:.1f} s. Query the warehouse read-only, e.g.:\n"
        f"  python -c \"import duckdb; duckdb.connect('{warehouse}', read_only=True)"
        f".sql('from fct_credit_usage_daily limit 5').show()\"\n"
        f"or ask for metrics: CIWATCH_HOME={home} ciwatch-etl metrics costs --period-days 30\n"
        f"See the runs, assets and checks in Dagster's UI:\n  {dagster_dev_command(home)}",
        soft_wrap=True, highlight=False, markup=False,
    )


def write_report(warehouse: Path, month: date, folder: Path, out: Console) -> None:
    """The finance report of the month, or one line saying why there is none (e.g. a month without data)."""
    try:
        paths = write_waste_report(warehouse, month, folder)
    except MetricsError as error:
        out.print(f"finance report ({month:%B %Y}): not written: {error.message}", soft_wrap=True,
                  highlight=False, markup=False)
        return
    for path in paths:
        out.print(f"finance report ({month:%B %Y}): {path}", soft_wrap=True, highlight=False, markup=False)
