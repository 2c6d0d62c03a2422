"""A local stand-in for CircleCI: real HTTP on loopback, deterministic data, switchable faults.

    with Simulator(seed=7) as sim:
        httpx.post(f"{sim.circleci_api_url}/organizations/{sim.org_ids[0]}/usage_export_job",
                   headers={"Circle-Token": sim.token}, json={"start": ..., "end": ...})
"""

from ciwatch_etl.simulator.circleci.server import SIMULATOR_TOKEN, Simulator

__all__ = ["SIMULATOR_TOKEN", "Simulator"]
