"""`ciwatch.toml`: where it is read from, what it changes, and errors that name the file and key."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ciwatch_etl.config_file import ConfigError, config_file, load_config
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ciwatch.toml"
    path.write_text(text)
    return path


def test_the_working_directory_file_wins_over_the_data_folder(tmp_path: Path):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    assert config_file(home, cwd) is None and load_config(home, cwd).source is None
    in_home = write(home, "[costs]\ndeveloper_hour_usd = 50\n")
    assert config_file(home, cwd) == in_home and load_config(home, cwd).developer_hour_usd == 50
    in_cwd = write(cwd, "[costs]\ndeveloper_hour_usd = 90\n")
    assert config_file(home, cwd) == in_cwd and load_config(home, cwd).developer_hour_usd == 90


def test_defaults_overrides_and_per_repo_rules(tmp_path: Path):
    write(tmp_path, """
[costs]
minute_rates_usd = { gocdnext = 0.02 }
[[costs.resource_classes]]
executor = "docker"
resource_class = "large"
credits_per_minute = 22
[[costs.resource_classes]]
executor = "docker"
resource_class = "gpu.nvidia.small"
family = "gpu"
credits_per_minute = 160
vcpus = 4
ram_gb = 15
size_rank = 1
[repos]
deployment_pattern = "ship"
[repos."checkout-api"]
production_pattern = "live"
deployment_branch = "release"
""")
    config = load_config(tmp_path, tmp_path)
    assert config.minute_rates_usd == {"gocdnext": 0.02, "sourcecraft": 0.008}
    rates = {(r.executor, r.resource_class): r for r in config.resource_classes}
    assert rates[("docker", "large")].credits_per_minute == 22 and rates[("docker", "large")].vcpus == 4
    assert str(tmp_path / "ciwatch.toml") == rates[("docker", "large")].source
    assert rates[("docker", "medium")].source.startswith("https://circleci.com/")
    assert rates[("docker", "gpu.nvidia.small")].family == "gpu"
    default, checkout = config.repo_rules
    assert (default.deployment_pattern, default.deployment_branch) == ("ship", None)
    assert (checkout.deployment_pattern, checkout.production_pattern, checkout.deployment_branch) == (
        "ship", "live", "release")


@pytest.mark.parametrize(("text", "sources"), [
    ("", [(None, "main", "builtin")]),
    ('[repos."web"]\ndeployment_branch = "release"\n', [(None, "main", "builtin"), ("web", "main", "builtin")]),
    ('[repos]\ndefault_branch = "develop"\n[repos."web"]\ndeployment_branch = "release"\n',
     [(None, "develop", "ciwatch_toml_default"), ("web", "develop", "ciwatch_toml_default")]),
    ('[repos]\ndefault_branch = "develop"\n[repos."web"]\ndefault_branch = "trunk"\n',
     [(None, "develop", "ciwatch_toml_default"), ("web", "trunk", "ciwatch_toml_repo")]),
])
def test_each_default_branch_says_which_table_set_it(tmp_path: Path, text: str, sources: list[tuple]):
    """Only a repo's own default_branch is an override of the API's; one it inherits is not."""
    write(tmp_path, text)
    rules = load_config(tmp_path, tmp_path).repo_rules
    assert [(r.repo, r.default_branch, r.default_branch_source) for r in rules] == sources


@pytest.mark.parametrize(("text", "where"), [
    ("[costs\n", "not valid TOML"),
    ("[cost]\n", "unknown key cost"),
    ("[costs]\ndeveloper_hour_usd = -1\n", "costs.developer_hour_usd"),
    ("[costs]\ndeveloper_hour_usd = 'a lot'\n", "costs.developer_hour_usd"),
    ("[costs.minute_rates_usd]\njenkins = 0.1\n", "unknown key costs.minute_rates_usd.jenkins"),
    ("[[costs.resource_classes]]\nexecutor = 'docker'\nresource_class = 'huge'\ncredits_per_minute = 1\n",
     "costs.resource_classes[0] (docker huge) is not in the packaged table"),
    ("[repos]\ndeployment_pattern = '(unclosed'\n", "repos.deployment_pattern is not a valid regular expression"),
    ('[repos."web"]\nproduction_pattern = ""\n', 'repos."web".production_pattern must be a non-empty string'),
    ('[repos."web"]\ndeploy_pattern = "x"\n', 'unknown key repos."web".deploy_pattern'),
])
def test_a_bad_file_names_itself_and_the_key(tmp_path: Path, text: str, where: str):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path, tmp_path)
    assert str(path) in str(error.value) and where in str(error.value)


def test_a_build_records_the_settings_it_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "[costs]\ndeveloper_hour_usd = 60\n[repos]\ndefault_branch = 'trunk'\n")
    paths = Paths(tmp_path / "home")
    build_warehouse(paths, 0.0007)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("select credit_price_usd, developer_hour_usd, config_file from raw.settings").fetchone() == (
            0.0007, 60.0, str(path))
        assert con.execute("select repo, default_branch, default_branch_source from raw.repo_rules").fetchall() == [
            (None, "trunk", "ciwatch_toml_default")]
        assert con.execute("select count(*) from raw.circleci_resource_classes").fetchone()[0] >= 15
