"""CircleCI resource classes the simulated jobs run on, and what each costs per minute.

This is the one credit table of the simulator: job generation, usage rows and the tests all read
it from here. Rates are CircleCI's published Linux credit prices per minute.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResourceClass:
    executor: str  # EXECUTOR column: docker | machine
    name: str  # RESOURCE_CLASS column
    credits_per_minute: int


# Arm runs on the machine executor, so (executor, name) is the key, not the name alone:
# "medium" exists both as a docker and as a machine class.
RESOURCE_CLASSES: dict[tuple[str, str], ResourceClass] = {
    (rc.executor, rc.name): rc
    for rc in (
        ResourceClass("docker", "small", 5),
        ResourceClass("docker", "medium", 10),
        ResourceClass("docker", "medium+", 15),
        ResourceClass("docker", "large", 20),
        ResourceClass("docker", "xlarge", 40),
        ResourceClass("docker", "2xlarge", 80),
        ResourceClass("machine", "arm.medium", 10),
        ResourceClass("machine", "arm.large", 20),
        ResourceClass("machine", "medium", 10),
        ResourceClass("machine", "large", 20),
    )
}


def resource_class(executor: str, name: str) -> ResourceClass:
    return RESOURCE_CLASSES[(executor, name)]
