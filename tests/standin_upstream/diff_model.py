"""Stand-in support for the image-only and advanced CT entry points (added on top of the paired root).

:func:`build_diff_model_root` builds the paired stand-in root (whose ``configs/`` already holds the
real ``diff_model_infer`` environment and model configs and ``modality_mapping.json``, copied from
the snapshot), then adds the MR-brain weights upstream's downloader lists and the real T1 brain scan
the MR stand-in derives its volume from. Extra switches (beyond :class:`Behaviour`) are merged into the
behaviour file by :func:`set_extra_switches`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from standin_upstream import Behaviour, StandinRoot, build_nv_generate_root
from standin_upstream.snapshot import upstream_download_files

__all__ = ["build_diff_model_root", "set_extra_switches", "stand_in_pins"]


def _write_json(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))


@lru_cache(maxsize=2)
def _mr_source(scan: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    import nibabel as nib

    image = nib.load(str(scan))
    zooms = image.header.get_zooms()[:3]
    return np.asarray(image.dataobj).astype(np.int16), (float(zooms[0]), float(zooms[1]), float(zooms[2]))


def _write_mr_weights(root: Path) -> None:
    for item in upstream_download_files("rflow-mr-brain"):
        target = root / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(f"stand-in weights {item['path']}".encode())


def stand_in_pins(root: Path, names: tuple[str, ...]) -> dict[str, str]:
    """sha256 of stand-in weight files by name, to pass as ``expected_sha256`` (the real pins cannot match)."""
    from medskills.core.io import sha256_file

    return {name: sha256_file(root / "models" / name) for name in names}


def _write_mask_model_files(root: Path) -> None:
    """Empty torch checkpoints in upstream's key layout (the stand-in networks have no parameters)."""
    import torch

    torch.save({}, root / "models" / "mask_generation_autoencoder.pt")
    torch.save({"unet_state_dict": {}, "scale_factor": torch.tensor(1.0)},
               root / "models" / "mask_generation_diffusion_unet.pt")


def set_extra_switches(root: Path, **switches: object) -> None:
    """Merge switches the :class:`Behaviour` dataclass lacks (e.g. ``has_negative_values``) into the file."""
    path = root / "standin_behaviour.json"
    current = json.loads(path.read_text()) if path.is_file() else {}
    path.write_text(json.dumps({**current, **switches}, indent=2))


def build_diff_model_root(
    tmp_path: Path, *, shared_data: Path, behaviour: Behaviour | None = None, with_mr_weights: bool = True,
) -> StandinRoot:
    """A stand-in root that also serves ``diff_model_infer``, ``infer_image_from_mask`` and ``sample_mask``."""
    standin = build_nv_generate_root(tmp_path, scan_dir=shared_data / "ct_abdomen_3mm", behaviour=behaviour)
    if with_mr_weights:
        _write_mr_weights(standin.root)
    if (standin.root / "models" / "mask_generation_autoencoder.pt").exists():
        _write_mask_model_files(standin.root)
    volume, spacing = _mr_source(shared_data / "mr_brain_t1" / "image.nii.gz")
    np.save(standin.root / "standin_data" / "mr_brain.npy", volume)
    _write_json(standin.root / "standin_data" / "mr_source.json", {"spacing_mm": list(spacing)})
    return standin
