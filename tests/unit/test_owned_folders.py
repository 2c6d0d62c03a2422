"""Scratch folders a killed process left are removed by the next writer; a live process's stay."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crash_runs import PROJECT

from ciwatch_etl.owned_folders import OwnedFolder, sweep
from ciwatch_etl.resources import DataFolderResource

# Makes an owned folder with a file in it under each parent given, prints their paths, then
# either dies on the spot (os._exit: no cleanup runs) or holds them until its stdin closes.
HOLDER = """
import os, sys
from pathlib import Path
from ciwatch_etl.owned_folders import OwnedFolder
folders = [OwnedFolder(Path(p)) for p in sys.argv[2:]]
for f in folders:
    (f.path / "part.parquet").write_bytes(b"x")
print(" ".join(str(f.path) for f in folders), flush=True)
if sys.argv[1] == "die":
    os._exit(9)
sys.stdin.read()
"""


def _holder(how: str, *parents: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", HOLDER, how, *map(str, parents)], cwd=PROJECT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_the_next_writer_removes_a_killed_runs_folders_and_keeps_a_live_runs(tmp_path: Path):
    home = tmp_path / "home"
    staging, downloads = home / "lake" / "_staging", home / "downloads"
    dead = _holder("die", staging, downloads)
    dead_folders = [Path(p) for p in dead.stdout.readline().split()]
    assert dead.wait() == 9
    live = _holder("hold", staging, downloads)
    try:
        live_folders = [Path(p) for p in live.stdout.readline().split()]
        assert all(p.is_dir() for p in dead_folders + live_folders)

        with DataFolderResource(home=str(home)).write_lock(timeout=5):
            assert not any(p.exists() for p in dead_folders)
            assert not any(p.with_name(p.name + ".lock").exists() for p in dead_folders)
            assert all((p / "part.parquet").exists() for p in live_folders)
    finally:
        live.stdin.close()
        live.wait()
    assert sorted(sweep(staging) + sweep(downloads)) == sorted(live_folders)
    assert list(staging.iterdir()) == [] and list(downloads.iterdir()) == []


def test_an_owned_folder_is_removed_with_its_lock_and_a_sweep_spares_it_meanwhile(tmp_path: Path):
    with OwnedFolder(tmp_path, prefix="merge-") as folder:
        (folder.path / "data.parquet").write_bytes(b"x")
        assert folder.path.name.startswith("merge-")
        assert sweep(tmp_path) == []
        assert (folder.path / "data.parquet").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_sweep_removes_unguarded_leftovers_and_lone_lock_files(tmp_path: Path):
    (tmp_path / "from-an-older-version").mkdir()  # staged before folders had locks
    (tmp_path / "gone.lock").touch()  # a lock file whose folder is already removed
    assert sweep(tmp_path) == [tmp_path / "from-an-older-version", tmp_path / "gone"]
    assert list(tmp_path.iterdir()) == []
