"""Fixtures of the artifact tests: a store of each kind that keeps bytes where a real search would."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from hypersweep.artifacts import ArtifactStore, FsspecArtifactStore, LocalArtifactStore


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    """A local folder, or an fsspec ``memory://`` file system (a store behind a URL, as on an object store)."""
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "store")
    return FsspecArtifactStore(f"memory://artifacts-{uuid.uuid4().hex}")
