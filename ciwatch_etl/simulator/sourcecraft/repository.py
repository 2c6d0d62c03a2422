"""A repository as `GET /repos/id:{repo_id}` (GetRepositoryByID) shows it: the spec's `Repository`.

Protobuf-JSON, as the runs: fields without a value are left out. The simulator fills what a
repository of its world has: id, name and slug (they differ: "Payments API" and payments-api),
default branch, organization (id and slug; the API embeds no organization name), template type,
visibility, and `last_updated` as the newest run's creation.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ciwatch_etl.simulator.sourcecraft.world import SimRepo

_ID_NAMESPACE = uuid.UUID("5d0f3f8e-2a6b-4c71-9b1e-7f4c2d9a8e63")


def render_repository(repo: SimRepo, seed: int, last_run_at: datetime | None) -> dict[str, Any]:
    spec = repo.spec
    body: dict[str, Any] = {
        "id": repo.id,
        "name": spec.title or spec.name,
        "slug": spec.name,
        "default_branch": spec.default_branch,
        "organization": {"id": str(uuid.uuid5(_ID_NAMESPACE, f"{seed}/org/{spec.org}")), "slug": spec.org},
        "template_type": "not_a_template",
        "visibility": spec.visibility,
    }
    if last_run_at is not None:
        body["last_updated"] = _timestamp(last_run_at)
    return body


def _timestamp(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
