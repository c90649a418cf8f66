"""Stand-in support for the image-only and advanced CT entry points (added on top of the paired root).

:func:`build_diff_model_root` builds the paired stand-in root, then adds the ``diff_model_infer``
configs (from the packaged upstream facts), the MR-brain weights and the real T1 brain scan the MR
stand-in derives its volume from. Extra switches (beyond :class:`Behaviour`) are merged into the
behaviour file by :func:`set_extra_switches`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from medskills.core.assets import AssetKind, SkillId, assets_for
from medskills.synthesis.diff_model import diff_model_facts, modality_ids
from standin_upstream import Behaviour, StandinRoot, build_nv_generate_root

__all__ = ["build_diff_model_root", "set_extra_switches", "stand_in_pins"]

_ENVIRONMENT_COMMON = {
    "data_base_dir": "./data", "embedding_base_dir": "./embeddings", "json_data_list": "./dataset.json",
    "model_dir": "./models", "output_dir": "./output", "output_prefix": "unet_3d",
    "trained_autoencoder_path": "models/autoencoder_v1.pt", "modality_mapping_path": "./configs/modality_mapping.json",
}
_MODEL_FILES = {"rflow-mr-brain": "diff_unet_3d_rflow-mr-brain_v1.pt", "rflow-ct": "diff_unet_3d_rflow-ct.pt",
                "ddpm-ct": "diff_unet_3d_ddpm-ct.pt"}


def _write_json(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))


@lru_cache(maxsize=2)
def _mr_source(scan: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    import nibabel as nib

    image = nib.load(str(scan))
    zooms = image.header.get_zooms()[:3]
    return np.asarray(image.dataobj).astype(np.int16), (float(zooms[0]), float(zooms[1]), float(zooms[2]))


def _write_diff_model_configs(root: Path) -> None:
    _write_json(root / "configs" / "modality_mapping.json", modality_ids())
    for version, model_file in _MODEL_FILES.items():
        facts = diff_model_facts(version)
        _write_json(root / facts.environment, {**_ENVIRONMENT_COMMON, "model_filename": model_file,
                                               "existing_ckpt_filepath": f"./models/{model_file}"})
        _write_json(root / facts.model_config, {
            "diffusion_unet_train": {"batch_size": 1, "cache_rate": 0, "lr": 1e-5, "n_epochs": 1000},
            "diffusion_unet_inference": facts.inference_defaults.model_dump(mode="json"),
        })


def _write_mr_weights(root: Path) -> None:
    for asset in assets_for(SkillId.SYNTH_MR_BRAIN, "rflow-mr-brain", kind=AssetKind.WEIGHT):
        target = root / asset.target
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(f"stand-in weights {asset.target}".encode())


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
    for network in ("rflow", "ddpm"):
        path = root / "configs" / f"config_network_{network}.json"
        document = json.loads(path.read_text())
        document["mask_generation_noise_scheduler"] = {"_target_": "DDPMScheduler", "num_train_timesteps": 1000}
        path.write_text(json.dumps(document, indent=2))


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
    _write_diff_model_configs(standin.root)
    if with_mr_weights:
        _write_mr_weights(standin.root)
    if (standin.root / "models" / "mask_generation_autoencoder.pt").exists():
        _write_mask_model_files(standin.root)
    volume, spacing = _mr_source(shared_data / "mr_brain_t1" / "image.nii.gz")
    np.save(standin.root / "standin_data" / "mr_brain.npy", volume)
    _write_json(standin.root / "standin_data" / "mr_source.json", {"spacing_mm": list(spacing)})
    return standin
