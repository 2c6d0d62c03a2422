"""The `metrics` command group: shared options, the output formats, the JSON envelope, and exit codes.

Options are read as plain strings and validated by `parse_request` and `parse_format`, so a bad
value (or an unknown option) answers in the same `{"error": ...}` envelope as the hosted API, never
click's usage text; so does an --org or --repo the warehouse has never seen (`not_found`).
Exit codes (see `ciwatch_etl.exit_codes`): 0 data, 2 bad input, 1 no warehouse (or an outdated or
unreadable one).
"""

from __future__ import annotations

import importlib
import sys

import click

from ciwatch_etl.exit_codes import BAD_INPUT, FAILED
from ciwatch_etl.metrics.formats import parse_format, render
from ciwatch_etl.metrics.output import to_json
from ciwatch_etl.metrics.request import MetricsError, MetricsRequest, parse_request

# Codes that mean the warehouse must be (re)built, not that the request was wrong.
WAREHOUSE_ERRORS = ("no_warehouse", "stale_warehouse", "unreadable_warehouse")
FORMAT_HELP = ("json (default): {\"data\": ...}; table: each section as a table; csv: one row per record under "
               "one header, a `section` column first: `summary` holds the top-level figures, each list "
               "(by_repo, by_workflow, ...) is its own section, nested fields are joined with dots "
               "(deployment_frequency.tier), nulls are empty. Errors are JSON whatever the format.")


def _fail(error: MetricsError) -> None:
    click.echo(to_json(error.envelope()))
    sys.exit(FAILED if error.code in WAREHOUSE_ERRORS else BAD_INPUT)


class EnvelopeCommand(click.Command):
    """A command whose usage errors are answered as `{"error": {"code": "invalid_argument", ...}}`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            _fail(MetricsError("invalid_argument", error.format_message()))
            raise  # unreachable: _fail exits


def _metric(name: str, help_text: str) -> click.Command:
    """The command `name`, answered by `ciwatch_etl.metrics.<name>.<name>(con, request)` (imported
    only when it runs, so the CLI starts without DuckDB)."""

    @click.command(name, cls=EnvelopeCommand, help=help_text)
    @click.option("--period-days", help="Days in the window, 1..365 (default 30).")
    @click.option("--as-of", help="Last day of the window, YYYY-MM-DD (default: today, UTC).")
    @click.option("--provider", help="circleci, sourcecraft or gocdnext.")
    @click.option("--org", help="Organization, exactly as in the warehouse.")
    @click.option("--repo", help="Repository or project, exactly as in the warehouse.")
    @click.option("--format", "output_format", help=FORMAT_HELP)
    def command(period_days: str | None, as_of: str | None, provider: str | None, org: str | None,
                repo: str | None, output_format: str | None) -> None:
        from ciwatch_etl.metrics.known import check_filters
        from ciwatch_etl.metrics.published_warehouse import open_warehouse
        from ciwatch_etl.environment import Paths

        try:
            request: MetricsRequest = parse_request(period_days, as_of, provider, org, repo)
            chosen = parse_format(output_format)
            compute = getattr(importlib.import_module(f"ciwatch_etl.metrics.{name}"), name)
            with open_warehouse(Paths.from_env().warehouse) as con:
                check_filters(con, request)
                data = compute(con, request)
        except MetricsError as error:
            _fail(error)
        click.echo(render(data, chosen))

    return command


@click.group()
def metrics() -> None:
    """Cost, performance and DORA metrics from the warehouse, as JSON ({"data": ...}), a table or CSV."""


metrics.add_command(_metric("costs", "Spend, waste by category and rightsizing recommendations."))
metrics.add_command(_metric("performance", "Runs, success rate, durations, queue times, MTTR, slowest jobs "
                            "and flaky tests, against the previous period."))
metrics.add_command(_metric("dora", "Deployment frequency, lead time, change failure rate and time to "
                            "restore, with DORA 2023 tiers."))
