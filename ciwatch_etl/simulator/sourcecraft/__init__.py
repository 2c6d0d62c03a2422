"""A local stand-in for SourceCraft's CI/CD API: real HTTP on loopback, a deterministic world of
repositories and runs (workflows, tasks, cubes), a clock that moves, switchable faults.

    with SourceCraftSimulator() as sim:
        httpx.get(f"{sim.api_url}/repos/id:{sim.repo_ids[0]}/cicd/runs",
                  headers={"Authorization": f"Bearer {sim.token}"})
"""

from ciwatch_etl.simulator.sourcecraft.server import (
    SOURCECRAFT_SIMULATOR_TOKEN,
    SourceCraftSimulator,
)

__all__ = ["SOURCECRAFT_SIMULATOR_TOKEN", "SourceCraftSimulator"]
