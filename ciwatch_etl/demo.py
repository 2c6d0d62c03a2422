"""`ciwatch-etl demo`: the simulator plus the whole pipeline through Dagster, offline."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from rich.console import Console

from ciwatch_etl.pipeline import materialize
from ciwatch_etl.simulator import Simulator
from ciwatch_etl.summary import print_run, print_warehouse_summary


def run_demo(home: Path, days: int, console: Console) -> None:
    started = time.monotonic()
    home = home.expanduser().resolve()
    with Simulator(days=days) as sim:
        # The demo configures itself exactly as a user would: through the environment.
        os.environ.update(
            {
                "CIWATCH_HOME": str(home),
                "CIRCLECI_API_URL": sim.circleci_api_url,
                "CIRCLECI_TOKEN": sim.token,
                "CIRCLECI_ORG_IDS": ",".join(sim.org_ids),
                "CIRCLECI_POLL_SECONDS": "0.1",
            }
        )
        last = sim.end_date
        first = last - timedelta(days=days - 1)
        console.print(f"simulator up: {len(sim.org_ids)} orgs, {first} .. {last}; data folder {home}")
        with console.status("running the pipeline through Dagster"):
            steps = materialize(None, first, last)
    print_run(steps, console)
    print_warehouse_summary(home / "warehouse.duckdb", console)
    warehouse = home / "warehouse.duckdb"
    console.print(
        f"done in {time.monotonic() - started:.1f} s. Query the warehouse read-only, e.g.:\n"
        f"  python -c \"import duckdb; duckdb.connect('{warehouse}', read_only=True)"
        f".sql('from fct_credit_usage_daily limit 5').show()\"",
        soft_wrap=True,
    )
