"""Helpers shared by the stand-in entry points: behaviour switches, source volumes, output writing.

The stand-in mimics the upstream contract (flags, config reading, validation messages, output names,
log lines) and writes outputs derived from a real CT scan instead of running diffusion models.
Behaviour switches come from ``standin_behaviour.json`` at the stand-in root (the CWD).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

BEHAVIOUR_FILE = "standin_behaviour.json"
SOURCE_DIR = "standin_data"


def behaviour() -> dict[str, Any]:
    """The behaviour switches (empty dict = behave like a healthy upstream)."""
    path = Path(BEHAVIOUR_FILE)
    return json.loads(path.read_text()) if path.is_file() else {}


def log(message: str) -> None:
    """Upstream logs to stdout with a ``[time][LEVEL](name) - msg`` prefix."""
    print(f"[{datetime.now():%Y-%m-%d %H:%M:%S}][ INFO](maisi) - {message}", flush=True)


def record_call(settings: dict[str, Any], extra: dict[str, Any]) -> None:
    """Write what this invocation saw into the behaviour's ``calls_dir`` (outside the root)."""
    calls_dir = settings.get("calls_dir")
    if not calls_dir:
        return
    Path(calls_dir).mkdir(parents=True, exist_ok=True)
    payload = {
        "argv": sys.argv,
        "cwd": os.getcwd(),
        "environment": {k: os.environ.get(k) for k in (
            "MONAI_DATA_DIRECTORY", "HF_HUB_OFFLINE", "PYTHONDONTWRITEBYTECODE", "PYTORCH_CUDA_ALLOC_CONF",
            "NV_GENERATE_ROOT", "HOME")},
        "environment_keys": sorted(os.environ),
        **extra,
    }
    name = Path(calls_dir) / f"call_{time.time_ns()}.json"
    name.write_text(json.dumps(payload, indent=1, default=str))


def data_root() -> str:
    """``$MONAI_DATA_DIRECTORY`` or a fresh temporary folder, as upstream does."""
    root = os.environ.get("MONAI_DATA_DIRECTORY")
    if root:
        os.makedirs(root, exist_ok=True)
        return root
    return tempfile.mkdtemp()


def load_environment(path: str, root_dir: str) -> dict[str, Any]:
    """Read an environment file; values containing ``datasets/`` are re-rooted under ``root_dir``."""
    values = json.loads(Path(path).read_text())
    for key, value in values.items():
        if "datasets/" in value:  # a None value raises TypeError here, like upstream
            values[key] = os.path.join(root_dir, value)
    return values


def source_volumes() -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """The real CT (HU) and its MAISI-id label map prepared by the builder."""
    folder = Path(SOURCE_DIR)
    meta = json.loads((folder / "source.json").read_text())
    return np.load(folder / "ct_hu.npy"), np.load(folder / "labels_maisi.npy"), tuple(meta["spacing_mm"])


def resample_centred(
    volume: np.ndarray, source_spacing: tuple[float, ...], output_size: list[int], spacing: list[float],
    fill: float,
) -> np.ndarray:
    """Nearest-neighbour resample onto a grid with the same centre; outside the source is ``fill``."""
    index_arrays, valid = [], []
    for axis in range(3):
        n_out, n_src = output_size[axis], volume.shape[axis]
        positions = (np.arange(n_out) - (n_out - 1) / 2) * spacing[axis] / source_spacing[axis] + (n_src - 1) / 2
        nearest = np.rint(positions).astype(np.int64)
        valid.append((nearest >= 0) & (nearest < n_src))
        index_arrays.append(np.clip(nearest, 0, n_src - 1))
    result = volume[np.ix_(*index_arrays)]
    inside = valid[0][:, None, None] & valid[1][None, :, None] & valid[2][None, None, :]
    return np.where(inside, result, fill).astype(volume.dtype)


def paint_blob(labels: np.ndarray, image: np.ndarray, value: int, ordinal: int, hu: float = 40.0) -> None:
    """Paint a small sphere for an anatomy the source scan lacks, at a spot chosen by ``ordinal``."""
    radius = 6
    centre = [n // 2 for n in labels.shape]
    centre[0] += ((ordinal % 5) - 2) * 3 * radius
    centre[1] += (((ordinal // 5) % 5) - 2) * 3 * radius
    grid = np.ogrid[-radius:radius + 1, -radius:radius + 1, -radius:radius + 1]
    sphere = (grid[0] ** 2 + grid[1] ** 2 + grid[2] ** 2) <= radius ** 2
    box = tuple(slice(c - radius, c + radius + 1) for c in centre)
    labels[box][sphere] = value
    image[box][sphere] = hu


def timestamp() -> str:
    """Upstream's SaveImage postfix timestamp."""
    return datetime.now().strftime("%Y%m%d_%H%M%S_%f")


def save_nifti(path: Path, array: np.ndarray, spacing: list[float]) -> None:
    """Save float32 NIfTI with affine diag(spacing), as MONAI SaveImage does by default."""
    import nibabel as nib

    affine = np.diag([*spacing, 1.0]).astype(np.float64)
    nib.save(nib.Nifti1Image(array.astype(np.float32), affine), str(path))
    log(f"writing: {path}")
