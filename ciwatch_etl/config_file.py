"""`ciwatch.toml`: the settings a team tunes by hand (cost rates, deployment rules per repo).

The file is read from the working directory, else from `$CIWATCH_HOME`; without one the defaults
below apply. Only one file is read, never a merge of two. Every value is checked here, so a typo
fails the build naming the file and the key instead of quietly changing a mart:

    [costs]
    developer_hour_usd = 75             # queue time priced as developer wait
    [costs.minute_rates_usd]            # estimates for providers that bill no credits
    gocdnext = 0.008
    sourcecraft = 0.008
    [[costs.resource_classes]]          # adds to, or replaces a row of, the packaged rate table
    executor = "docker"
    resource_class = "large"
    family = "docker"
    credits_per_minute = 20
    vcpus = 4
    ram_gb = 8

    [repos]                             # every repo, unless a repo table below says otherwise
    deployment_pattern = "deploy|release"
    production_pattern = "(^|[^a-z0-9])prod(uction)?([^a-z0-9]|$)"
    non_production_pattern = "(^|[^a-z0-9])(staging|stage|uat|qa|dev|test|sandbox|preview|non[-_ ]?prod|pre[-_ ]?prod)"
    deployment_branch = ""              # a successful run on this branch is a deployment
    default_branch = "main"             # for repos whose provider's API names none
    [repos."checkout-api"]              # one repo (as int_ci_runs.repo names it)
    deployment_branch = "release"
    default_branch = "trunk"            # wins over what the API says

A repo's default branch is its own table's `default_branch`, else the one its provider's API
reports, else `[repos]`'s, else "main".

Patterns are regular expressions (RE2, as DuckDB runs them), matched case-insensitively anywhere
in the name. A name matching non_production_pattern is never production.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from ciwatch_etl.package_files import default_models_dir

CONFIG_FILE = "ciwatch.toml"
RESOURCE_CLASS_SEED = Path("seeds") / "circleci_resource_classes.csv"
PROVIDERS_WITHOUT_CREDITS = ("gocdnext", "sourcecraft")

DEFAULT_DEVELOPER_HOUR_USD = 75.0
# GitHub-hosted 2-core Linux runner list price: a neutral yardstick, not what self-hosted agents cost.
DEFAULT_MINUTE_RATE_USD = 0.008
DEFAULT_DEPLOYMENT_PATTERN = "deploy|release"
DEFAULT_PRODUCTION_PATTERN = "(^|[^a-z0-9])prod(uction)?([^a-z0-9]|$)"
# Checked before production_pattern: "pre-prod", "non-prod" and "prod-like-staging" are no production.
DEFAULT_NON_PRODUCTION_PATTERN = (
    "(^|[^a-z0-9])(staging|stage|uat|qa|dev|test|sandbox|preview|non[-_ ]?prod|pre[-_ ]?prod)"
)
DEFAULT_BRANCH = "main"
# Where a repo's default branch comes from, most specific first (int_repos_configured applies
# them): its own [repos."<repo>"] table, the provider's API (read by the pulls, not here), the
# [repos] table, the built-in DEFAULT_BRANCH.
BRANCH_FROM_REPO_TABLE = "ciwatch_toml_repo"
BRANCH_FROM_DEFAULT_TABLE = "ciwatch_toml_default"
BRANCH_BUILT_IN = "builtin"

_REPO_KEYS = ("deployment_pattern", "production_pattern", "non_production_pattern", "deployment_branch",
              "default_branch")
_PATTERN_KEYS = ("deployment_pattern", "production_pattern", "non_production_pattern")
_CLASS_KEYS = ("executor", "resource_class", "family", "credits_per_minute", "vcpus", "ram_gb", "size_rank")


class ConfigError(ValueError):
    """`ciwatch.toml` (or the packaged rate table) holds something invalid; the message names where."""


@dataclass(frozen=True)
class ResourceClassRate:
    """Credits per minute of one CircleCI resource class; size_rank orders the classes of an executor."""

    executor: str
    resource_class: str
    family: str  # classes of one family can replace each other (same executor and CPU architecture)
    vcpus: float
    ram_gb: float
    credits_per_minute: float
    size_rank: int
    rates_read_on: date
    source: str


@dataclass(frozen=True)
class RepoRules:
    """How to read one repo's runs (repo None: the default for every repo)."""

    repo: str | None
    deployment_pattern: str = DEFAULT_DEPLOYMENT_PATTERN
    production_pattern: str = DEFAULT_PRODUCTION_PATTERN
    non_production_pattern: str = DEFAULT_NON_PRODUCTION_PATTERN
    deployment_branch: str | None = None
    default_branch: str = DEFAULT_BRANCH
    default_branch_source: str = BRANCH_BUILT_IN  # which table of the file set default_branch


@dataclass(frozen=True)
class Config:
    source: Path | None  # the file read, None when the defaults apply
    developer_hour_usd: float = DEFAULT_DEVELOPER_HOUR_USD
    minute_rates_usd: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(PROVIDERS_WITHOUT_CREDITS, DEFAULT_MINUTE_RATE_USD)
    )
    resource_classes: tuple[ResourceClassRate, ...] = ()
    repo_rules: tuple[RepoRules, ...] = (RepoRules(None),)  # the default first, then one per repo


def config_file(home: Path, cwd: Path | None = None) -> Path | None:
    """The `ciwatch.toml` that applies: the working directory's, else the data folder's."""
    for folder in (cwd or Path.cwd(), home):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_config(home: Path, cwd: Path | None = None) -> Config:
    """The settings of `config_file(home, cwd)` over the defaults and the packaged rate table."""
    seed = load_resource_class_seed(default_models_dir() / RESOURCE_CLASS_SEED)
    path = config_file(home, cwd)
    if path is None:
        return Config(None, resource_classes=seed)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    _only(doc, ("costs", "repos"), path, "")
    costs = _table(doc.get("costs", {}), path, "costs")
    _only(costs, ("developer_hour_usd", "minute_rates_usd", "resource_classes"), path, "costs.")
    return Config(
        source=path,
        developer_hour_usd=_money(costs.get("developer_hour_usd", DEFAULT_DEVELOPER_HOUR_USD), path,
                                  "costs.developer_hour_usd"),
        minute_rates_usd=_minute_rates(costs.get("minute_rates_usd", {}), path),
        resource_classes=_resource_classes(seed, costs.get("resource_classes", []), path),
        repo_rules=_repo_rules(_table(doc.get("repos", {}), path, "repos"), path),
    )


def load_resource_class_seed(path: Path) -> tuple[ResourceClassRate, ...]:
    """The packaged rate table: one CSV row per executor and resource class."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rates = []
    for number, row in enumerate(rows, start=2):
        try:
            rates.append(ResourceClassRate(
                executor=row["executor"],
                resource_class=row["resource_class"],
                family=row["family"],
                vcpus=float(row["vcpus"]),
                ram_gb=float(row["ram_gb"]),
                credits_per_minute=float(row["credits_per_minute"]),
                size_rank=int(row["size_rank"]),
                rates_read_on=date.fromisoformat(row["rates_read_on"]),
                source=row["source"],
            ))
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"{path}, line {number}: {error}") from None
    return tuple(rates)


def _minute_rates(value: Any, path: Path) -> dict[str, float]:
    table = _table(value, path, "costs.minute_rates_usd")
    _only(table, PROVIDERS_WITHOUT_CREDITS, path, "costs.minute_rates_usd.")
    rates = dict.fromkeys(PROVIDERS_WITHOUT_CREDITS, DEFAULT_MINUTE_RATE_USD)
    for provider, rate in table.items():
        rates[provider] = _money(rate, path, f"costs.minute_rates_usd.{provider}")
    return rates


def _resource_classes(seed: tuple[ResourceClassRate, ...], value: Any, path: Path) -> tuple[ResourceClassRate, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: costs.resource_classes must be an array of tables ([[costs.resource_classes]])")
    rates = {(r.executor, r.resource_class): r for r in seed}
    # rates typed into the file: as of its last edit (UTC day)
    read_on = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).date()
    for index, entry in enumerate(value):
        where = f"costs.resource_classes[{index}]"
        entry = _table(entry, path, where)
        _only(entry, _CLASS_KEYS, path, where + ".")
        executor, name = _text(entry.get("executor"), path, where + ".executor"), _text(
            entry.get("resource_class"), path, where + ".resource_class")
        known = rates.get((executor, name))
        missing = [k for k in ("family", "credits_per_minute", "vcpus", "ram_gb", "size_rank") if k not in entry]
        if known is None and missing:
            raise ConfigError(f"{path}: {where} ({executor} {name}) is not in the packaged table, so it needs "
                              f"{', '.join(missing)}")
        base = known or ResourceClassRate(executor, name, "", 0, 0, 0, 0, read_on, str(path))
        rates[(executor, name)] = replace(
            base,
            family=_text(entry.get("family", base.family), path, where + ".family"),
            credits_per_minute=_money(entry.get("credits_per_minute", base.credits_per_minute), path,
                                      where + ".credits_per_minute"),
            vcpus=_money(entry.get("vcpus", base.vcpus), path, where + ".vcpus"),
            ram_gb=_money(entry.get("ram_gb", base.ram_gb), path, where + ".ram_gb"),
            size_rank=_integer(entry.get("size_rank", base.size_rank), path, where + ".size_rank"),
            rates_read_on=read_on,
            source=str(path),
        )
    return tuple(rates.values())


def _repo_rules(table: dict[str, Any], path: Path) -> tuple[RepoRules, ...]:
    defaults = {k: v for k, v in table.items() if not isinstance(v, dict)}
    _only(defaults, _REPO_KEYS, path, "repos.")
    default = _rules(None, defaults, RepoRules(None), path, "repos")
    overrides = [
        _rules(repo, _only(entry, _REPO_KEYS, path, f'repos."{repo}".'), default, path, f'repos."{repo}"')
        for repo, entry in table.items() if isinstance(entry, dict)
    ]
    return (default, *overrides)


def _rules(repo: str | None, entry: dict[str, Any], base: RepoRules, path: Path, where: str) -> RepoRules:
    values = {}
    for key in _REPO_KEYS:
        if key in entry:
            values[key] = _text(entry[key], path, f"{where}.{key}", allow_empty=key == "deployment_branch")
    for key in _PATTERN_KEYS:
        if key in values:
            _check_pattern(values[key], path, f"{where}.{key}")
    if values.get("deployment_branch") == "":
        values["deployment_branch"] = None
    if "default_branch" in values:
        values["default_branch_source"] = BRANCH_FROM_DEFAULT_TABLE if repo is None else BRANCH_FROM_REPO_TABLE
    return replace(base, repo=repo, **values)


def _check_pattern(pattern: str, path: Path, where: str) -> None:
    # DuckDB runs the patterns (RE2), so DuckDB judges them, not Python's re.
    try:
        with duckdb.connect() as con:
            con.execute("select regexp_matches('', ?, 'i')", [pattern]).fetchall()
    except duckdb.Error as error:
        raise ConfigError(f"{path}: {where} is not a valid regular expression: {error}") from None


def _only(table: dict[str, Any], allowed: tuple[str, ...], path: Path, prefix: str) -> dict[str, Any]:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(f"{path}: unknown key {prefix}{unknown[0]} (allowed: {', '.join(allowed)})")
    return table


def _table(value: Any, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {where} must be a table, got {value!r}")
    return value


def _text(value: Any, path: Path, where: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not allow_empty):
        raise ConfigError(f"{path}: {where} must be a non-empty string, got {value!r}")
    return value


def _money(value: Any, path: Path, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{path}: {where} must be a number of at least 0, got {value!r}")
    return float(value)


def _integer(value: Any, path: Path, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{path}: {where} must be an integer, got {value!r}")
    return value
