"""Which models a build recomputes, and from which day: the incremental plan.

Changes flow down the dependency graph as "the earliest day that may differ":
- a raw table changed from the earliest day partition landed (or removed) since the last build;
- a view or a table changed from the earliest change among what it reads;
- an incremental model rewrites its partitions from the earliest of its inputs' changes, each
  minus its lookback (`Materialization.rebuild_from`), and passes on the earliest partition
  whose rows actually differ from the last build's (most of a nightly lookback window comes out
  the same).
A model whose fingerprint differs from the last build's (its SQL, yml, settings, or anything it
reads changed) changes from the beginning of time: a full rebuild of it and everything below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ciwatch_etl.landing.tables import RAW_TABLES
from ciwatch_etl.warehouse.models import Model
from ciwatch_etl.warehouse.state import STORAGE_VERSION, BuildState, ModelState

# "Everything may differ": a full rebuild.
FULL = date.min


@dataclass(frozen=True)
class ModelPlan:
    fingerprint: str
    inputs_changed_from: date | None  # earliest day an input may differ from the last build; None: none
    rebuild_from: date | None = None  # incremental: first partition to rewrite (FULL: all); None: keep

    @property
    def is_full(self) -> bool:
        return self.inputs_changed_from == FULL


class BuildPlanner:
    """Plans each model, in dependency order, from what its inputs turned out to change."""

    def __init__(
        self,
        previous: BuildState | None,
        lake_changes: Mapping[str, date],
        settings_fingerprint: str,
        full_refresh: bool = False,
    ):
        self.previous = previous
        self.lake_changes = lake_changes
        self.settings_fingerprint = settings_fingerprint
        self.full_refresh = full_refresh
        self.fingerprints: dict[str, str] = {}
        self.changed_from: dict[str, date | None] = {}  # per model built so far: its earliest change

    def plan(self, model: Model) -> ModelPlan:
        fingerprint = _fingerprint(model, self.fingerprints, self.settings_fingerprint)
        self.fingerprints[model.name] = fingerprint
        before = self.previous.models.get(model.name) if self.previous else None
        if self.full_refresh or before is None or before.fingerprint != fingerprint or not _files_present(before):
            changed: date | None = FULL
        else:
            days = {raw: self.lake_changes.get(raw) for raw in model.raw_deps}
            days |= {dep: self.changed_from[dep] for dep in model.model_deps}
            known = {name: day for name, day in days.items() if day is not None}
            changed = min(known.values()) if known else None
        rebuild = None
        if model.materialization.is_incremental and changed is not None:
            rebuild = FULL if changed == FULL else min(
                model.materialization.rebuild_from(day, name) for name, day in known.items()
            )
        return ModelPlan(fingerprint, changed, rebuild)

    def record(self, model: Model, changed_from: date | None) -> None:
        """What building `model` changed: its earliest partition that differs (FULL: anything)."""
        self.changed_from[model.name] = changed_from


def _files_present(state: ModelState) -> bool:
    return all(Path(path).exists() for path in state.files())


def _fingerprint(model: Model, fingerprints: Mapping[str, str], settings_fingerprint: str) -> str:
    parts = [STORAGE_VERSION, model.sql, model.yml]
    parts += [f"{dep}={fingerprints[dep]}" for dep in model.model_deps]
    parts += [f"raw.{raw}={RAW_TABLES[raw].columns!r}" for raw in model.raw_deps]
    if model.build_deps:
        parts.append(settings_fingerprint)
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()
