"""A local stand-in for a gocdnext server: real HTTP on loopback, deterministic runs, switchable faults.

    with GocdnextSimulator(days=30) as sim:
        httpx.get(f"{sim.url}/api/v1/runs", headers={"Authorization": f"Bearer {sim.token}"})
"""

from ciwatch_etl.simulator.gocdnext.server import (
    GOCDNEXT_SIMULATOR_TOKEN,
    GocdnextSimulator,
)

__all__ = ["GOCDNEXT_SIMULATOR_TOKEN", "GocdnextSimulator"]
