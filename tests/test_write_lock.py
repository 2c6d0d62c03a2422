"""Only one process writes a data folder at a time."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ciwatch_etl.resources import WarehouseBusyError, WarehouseResource

HOLD = """
import sys, time
from ciwatch_etl.resources import WarehouseResource
with WarehouseResource(home=sys.argv[1]).write_lock():
    print("locked", flush=True)
    time.sleep(30)
"""


def test_a_second_writer_waits_then_gives_up_with_a_clear_error(tmp_path: Path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError, match="another ciwatch-etl process is writing"):
            with WarehouseResource(home=str(tmp_path)).write_lock(timeout=0.5):
                pass
        assert time.monotonic() - started >= 0.5
    finally:
        holder.kill()
        holder.wait()
    with WarehouseResource(home=str(tmp_path)).write_lock(timeout=5):
        pass
