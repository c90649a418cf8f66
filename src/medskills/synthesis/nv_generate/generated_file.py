"""One file an upstream run wrote, read back from disk: what every generated mask and image record starts with."""

from __future__ import annotations

from pathlib import Path

from medskills.core.models import FrozenModel

__all__ = ["GeneratedFile"]


class GeneratedFile(FrozenModel):
    """Identity (path, size, sha256) and what reading it found; ``shape`` and ``spacing_mm`` in voxel-axis order."""

    path: Path
    bytes: int
    sha256: str
    is_readable: bool
    error: str | None = None
    shape: tuple[int, ...] | None = None
    spacing_mm: tuple[float, float, float] | None = None
