"""Stand-in NV-Generate-CTMR root for tests: configs, a runnable ``scripts`` package, fake weights and data.

Build one with :func:`build_nv_generate_root`; switch failures on with :class:`Behaviour`. Entry points
live in ``scripts_src/`` and are copied whole into ``<root>/scripts``, so another stand-in entry point
is added by dropping a module there (e.g. ``diff_model_infer.py``). Tests only; the product never
imports this package.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from medskills.core.assets import AssetKind, SkillId, assets_for
from medskills.core.label_spaces import LabelSpace, load_label_dictionary, map_labels

__all__ = ["Behaviour", "StandinRoot", "build_nv_generate_root", "prepare_source_volumes"]

SCRIPTS_SOURCE = Path(__file__).parent / "scripts_src"
REFERENCE_ENTRIES = {
    "controlnet": "$@controlnet_def", "diffusion_unet": "$@diffusion_unet_def", "autoencoder": "$@autoencoder_def",
    "mask_generation_autoencoder": "$@mask_generation_autoencoder_def",
    "mask_generation_diffusion": "$@mask_generation_diffusion_def",
}
# Shipped defaults of configs/config_infer.json (facts from the spec, §B.1).
CONFIG_INFER = {
    "num_output_samples": 1, "body_region": ["chest"], "anatomy_list": ["lung tumor"],
    "controllable_anatomy_size": [], "num_inference_steps": 30, "mask_generation_num_inference_steps": 1000,
    "output_size": [256, 256, 256], "image_output_ext": ".nii.gz", "label_output_ext": ".nii.gz",
    "spacing": [1.5, 1.5, 2.0], "autoencoder_sliding_window_infer_size": [48, 48, 48],
    "autoencoder_sliding_window_infer_overlap": 0.6666, **REFERENCE_ENTRIES, "modality": 1, "cfg_guidance_scale": 0.0,
}
# The size-condition database: 10-slot vectors in upstream slot order (gallbladder, liver, stomach,
# pancreas, colon, lung tumor, pancreatic tumor, hepatic tumor, colon cancer primaries, bone lesion).
ANATOMY_SIZE_CONDITIONS = [
    {"organ_size": [0.3, 0.5, 0.4, 0.4, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]},
    {"organ_size": [0.2, 0.6, 0.5, 0.3, 0.4, 0.4, 0.0, 0.0, 0.0, 0.0]},
    {"organ_size": [0.4, 0.7, 0.3, 0.5, 0.6, 0.0, 0.0, 0.3, 0.0, 0.0]},
]


@dataclass(frozen=True)
class Behaviour:
    """Switches for the stand-in entry points; the defaults behave like a healthy upstream.

    Extend by adding fields: the whole dataclass is written to ``standin_behaviour.json`` and the
    entry points read keys with defaults.
    """

    exit_code: int = 0
    sleep_seconds: float = 0.0
    is_constant_image: bool = False
    drop_output_label_ids: tuple[int, ...] = ()
    writes_stale_files: bool = False
    writes_no_outputs: bool = False
    quality_check_failures: int = 0
    peak_gpu_memory_gb: float = 12.34
    calls_dir: str | None = None


@dataclass(frozen=True)
class StandinRoot:
    """A built stand-in: the runtime root (CWD for upstream), the data root and where calls are logged."""

    root: Path
    data_root: Path
    calls_dir: Path
    behaviour: Behaviour = field(default_factory=Behaviour)

    def calls(self) -> list[dict[str, object]]:
        """What each stand-in invocation saw (argv, cwd, selected environment, merged config)."""
        return [json.loads(p.read_text()) for p in sorted(self.calls_dir.glob("call_*.json"))]

    def set_behaviour(self, behaviour: Behaviour) -> StandinRoot:
        """Rewrite the behaviour file; returns the updated description."""
        _write_behaviour(self.root, behaviour, self.calls_dir)
        return StandinRoot(root=self.root, data_root=self.data_root, calls_dir=self.calls_dir, behaviour=behaviour)


def _write_json(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))


def _write_behaviour(root: Path, behaviour: Behaviour, calls_dir: Path) -> None:
    payload = asdict(behaviour)
    payload["calls_dir"] = str(calls_dir)
    payload["drop_output_label_ids"] = list(behaviour.drop_output_label_ids)
    _write_json(root / "standin_behaviour.json", payload)


@lru_cache(maxsize=4)
def prepare_source_volumes(scan_dir: Path) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """The real CT (int16 HU) and its labels converted from TotalSegmentator to MAISI ids (cached)."""
    import nibabel as nib

    image = nib.load(str(scan_dir / "image.nii.gz"))
    reference = nib.load(str(scan_dir / "reference_totalsegmentator.nii.gz"))
    ct = np.asarray(image.dataobj).astype(np.int16)
    converted = map_labels(np.asarray(reference.dataobj), source=LabelSpace.TOTALSEGMENTATOR, target=LabelSpace.MAISI)
    zooms = image.header.get_zooms()[:3]
    return ct, converted.labels.astype(np.uint16), (float(zooms[0]), float(zooms[1]), float(zooms[2]))


def _write_configs(configs: Path, label_dict_overrides: dict[str, int] | None) -> None:
    _write_json(configs / "config_infer.json", CONFIG_INFER)
    common = {
        "output_dir": "output",
        "trained_autoencoder_path": "models/autoencoder_v1.pt",
        "trained_mask_generation_autoencoder_path": "models/mask_generation_autoencoder.pt",
        "trained_mask_generation_diffusion_path": "models/mask_generation_diffusion_unet.pt",
        "all_mask_files_base_dir": "datasets/all_masks_flexible_size_and_spacing_4000",
        "label_dict_json": "./configs/label_dict.json",
        "label_dict_remap_json": "./configs/label_dict_124_to_132.json",
    }
    _write_json(configs / "environment_rflow-ct.json", {
        **common, "trained_diffusion_path": "models/diff_unet_3d_rflow-ct.pt",
        "trained_controlnet_path": "models/controlnet_3d_rflow-ct.pt",
        "all_mask_files_json": "datasets/candidate_masks_flexible_size_and_spacing_4000.json",
        "all_anatomy_size_conditions_json": "datasets/all_anatomy_size_conditions.json",
    })
    _write_json(configs / "environment_ddpm-ct.json", {  # keeps upstream's wrong anatomy-size path
        **common, "trained_diffusion_path": "models/diff_unet_3d_ddpm-ct.pt",
        "trained_controlnet_path": "models/controlnet_3d_ddpm-ct.pt",
        "all_mask_files_json": "datasets/candidate_masks_flexible_size_and_spacing_3000.json",
        "all_anatomy_size_conditions_json": "datasets/configs/all_anatomy_size_conditions.json",
    })
    for network, include_body_region in (("rflow", False), ("ddpm", True)):
        _write_json(configs / f"config_network_{network}.json", {
            "spatial_dims": 3, "image_channels": 1, "latent_channels": 4, "include_body_region": include_body_region,
            "mask_generation_latent_shape": [4, 64, 64, 64],
            **{f"{key}_def": {"_target_": f"standin.{key}"} for key in REFERENCE_ENTRIES},
        })
    maisi = load_label_dictionary(LabelSpace.MAISI)
    label_dict = {entry.name: entry.id for entry in maisi.entries}
    label_dict.update(label_dict_overrides or {})
    _write_json(configs / "label_dict.json", label_dict)
    _write_json(configs / "label_dict_124_to_132.json", [[0, 0], [124, 200]])


def _write_assets(root: Path, data_root: Path, *, with_weights: bool, with_datasets: bool,
                  is_masks_extracted: bool) -> None:
    for version in ("rflow-ct", "ddpm-ct"):
        for asset in assets_for(SkillId.SYNTH_CT, version):
            if asset.kind == AssetKind.WEIGHT and with_weights:
                target = root / asset.target
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(f"stand-in weights {asset.target}".encode())
            elif asset.kind == AssetKind.DATASET and with_datasets:
                _write_dataset(data_root, asset.target, asset.extract_dir, is_masks_extracted=is_masks_extracted)


def _write_dataset(data_root: Path, target: str, extract_dir: str | None, *, is_masks_extracted: bool) -> None:
    path = data_root / target
    path.parent.mkdir(parents=True, exist_ok=True)
    if extract_dir is not None:
        path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip archive
        if is_masks_extracted:
            (data_root / extract_dir).mkdir(parents=True, exist_ok=True)
            (data_root / extract_dir / "README.txt").write_text("stand-in mask candidates\n")
    elif target.endswith("all_anatomy_size_conditions.json"):
        _write_json(path, ANATOMY_SIZE_CONDITIONS)
    else:
        _write_json(path, [{"pseudo_label_filename": "all_masks_flexible_size_and_spacing_4000/x/mask.nii.gz",
                            "label_list": [1, 3, 23], "dim": [256, 256, 256], "spacing": [1.5, 1.5, 2.0]}])


def build_nv_generate_root(
    tmp_path: Path,
    *,
    scan_dir: Path,
    behaviour: Behaviour | None = None,
    with_weights: bool = True,
    with_datasets: bool = True,
    separate_data_root: bool = False,
    is_masks_extracted: bool = True,
    label_dict_overrides: dict[str, int] | None = None,
    is_git_repo: bool = False,
) -> StandinRoot:
    """Build a stand-in NV-Generate-CTMR root under ``tmp_path``.

    Args:
        tmp_path: a fresh folder (pytest's ``tmp_path``); ``nv_generate/`` and ``calls/`` go inside.
        scan_dir: folder with ``image.nii.gz`` and ``reference_totalsegmentator.nii.gz`` (ct_abdomen_3mm).
        behaviour: failure switches; default healthy.
        with_weights / with_datasets: write fake weight files / dataset files.
        separate_data_root: put ``datasets/`` under ``tmp_path/monai_data`` instead of the root.
        is_masks_extracted: False leaves only the mask-candidate zip (not the extracted folder).
        label_dict_overrides: entries changed in ``configs/label_dict.json`` (to differ from MAISI).
        is_git_repo: make the root a git checkout with one commit.
    """
    root = tmp_path / "nv_generate"
    data_root = tmp_path / "monai_data" if separate_data_root else root
    calls_dir = tmp_path / "standin_calls"
    shutil.copytree(SCRIPTS_SOURCE, root / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    _write_configs(root / "configs", label_dict_overrides)
    _write_assets(root, data_root, with_weights=with_weights, with_datasets=with_datasets,
                  is_masks_extracted=is_masks_extracted)
    ct, labels, spacing = prepare_source_volumes(Path(scan_dir))
    (root / "standin_data").mkdir()
    np.save(root / "standin_data" / "ct_hu.npy", ct)
    np.save(root / "standin_data" / "labels_maisi.npy", labels)
    _write_json(root / "standin_data" / "source.json", {"spacing_mm": list(spacing), "scan_dir": str(scan_dir)})
    behaviour = behaviour or Behaviour()
    _write_behaviour(root, behaviour, calls_dir)
    if is_git_repo:
        _git_commit(root)
    return StandinRoot(root=root, data_root=data_root, calls_dir=calls_dir, behaviour=behaviour)


def _git_commit(root: Path) -> None:
    environment = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                   "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "stand-in"]):
        subprocess.run(argv, cwd=root, check=True, env=environment, capture_output=True)
