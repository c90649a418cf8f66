"""Build run directories like the synthesis and segmentation skills write, from the real scans.

Each builder writes NIfTI files and a ``result.json`` holding only the fields the verifiers read
(plus a few the skills add), so a test can break exactly one thing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from medskills.core.io import sha256_file
from medskills.core.label_spaces import map_labels

CT_ANATOMY = ["liver", "spleen", "right kidney", "left kidney", "left lung lower lobe", "right lung lower lobe"]


def load_nifti(path: Path) -> tuple[np.ndarray, np.ndarray]:
    image = nib.load(str(path))
    return np.asarray(image.dataobj), image.affine


def save_nifti(path: Path, array: np.ndarray, affine: np.ndarray) -> Path:
    nib.save(nib.Nifti1Image(array, affine), str(path))
    return path


def write_record(run_dir: Path, record: dict[str, Any]) -> Path:
    base = {"schema_version": "1", "status": "passed", "exit_code": 0, "output_dir": str(run_dir)}
    path = run_dir / "result.json"
    path.write_text(json.dumps({**base, **record}, indent=2), encoding="utf-8")
    return path


def artifact(role: str, path: Path) -> dict[str, Any]:
    return {"role": role, "path": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def ct_output_labels(reference: np.ndarray) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """TotalSegmentator map -> MAISI -> output ordinals 1..N for :data:`CT_ANATOMY` (upstream pairing)."""
    maisi = map_labels(reference, source="totalsegmentator", target="maisi").labels
    from medskills.core.label_spaces import load_label_dictionary

    dictionary = load_label_dictionary("maisi")
    mapping = [{"anatomy": name, "maisi_label_id": dictionary.id_of(name), "output_label_id": index}
               for index, name in enumerate(CT_ANATOMY, start=1)]
    output = np.zeros(maisi.shape, dtype=np.float32)  # upstream saves labels as float32
    for item in mapping:
        output[maisi == item["maisi_label_id"]] = item["output_label_id"]
    return output, mapping


def build_ct_synthesis_run(
    run_dir: Path, shared_data: Path, *, image: np.ndarray | None = None, labels: np.ndarray | None = None,
    mapping: list[dict[str, Any]] | None | str = "default", label_affine: np.ndarray | None = None,
    claims: dict[str, bool] | None = None, skill: str = "nv-generate-ct-rflow",
) -> Path:
    """A paired CT run from ``ct_abdomen_3mm``: real HU image, labels as output ordinals."""
    run_dir.mkdir(parents=True, exist_ok=True)
    ct, affine = load_nifti(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    reference, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz")
    default_labels, default_mapping = ct_output_labels(reference)
    image_array = (ct if image is None else image).astype(np.float32)
    image_path = save_nifti(run_dir / "sample_image.nii.gz", image_array, affine)
    label_path = save_nifti(run_dir / "sample_label.nii.gz", default_labels if labels is None else labels,
                            affine if label_affine is None else label_affine)
    output: dict[str, Any] = {"samples": [{"image_path": image_path.name, "label_path": label_path.name}]}
    if mapping is not None:
        output["output_label_mapping"] = default_mapping if mapping == "default" else mapping
    output.update(claims or {})
    write_record(run_dir, {"skill": skill, "output": output,
                           "artifacts": [artifact("image", image_path), artifact("label", label_path)]})
    return run_dir


def build_mr_run(
    run_dir: Path, image: np.ndarray, affine: np.ndarray, *, modality: str = "mri_t1",
    dim: list[int] | None = None, spacing_mm: list[float] | None = None, claims: dict[str, bool] | None = None,
) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = save_nifti(run_dir / "mr_brain_mri_t1.nii.gz", image, affine)
    zooms = [float(z) for z in nib.affines.voxel_sizes(affine)]
    request = {"modality_name": modality, "dim_requested": dim or list(image.shape),
               "spacing_requested_mm": spacing_mm or zooms}
    output = {"samples": [{"path": path.name}], **(claims or {})}
    write_record(run_dir, {"skill": "nv-generate-mr-brain", "request": request, "output": output,
                           "artifacts": [artifact("image", path)]})
    return run_dir


def build_segmentation_run(
    run_dir: Path, image_path: Path, mask: np.ndarray, affine: np.ndarray, *, label_space: str = "vista3d",
    modality: str = "CT_BODY", ground_truth: Path | None = None, claimed_ids: list[int] | None = None,
    label_prompts: list[int] | None = None,
) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    mask_path = save_nifti(run_dir / "image_seg.nii.gz", mask.astype(np.float32), affine)
    request = {"image_path": str(image_path), "modality": modality,
               "ground_truth_path": str(ground_truth) if ground_truth else None}
    plan = {"prompts": {"is_everything": not label_prompts, "requested_ids": label_prompts or []}}
    output = {"mask_path": mask_path.name, "label_space": label_space, "label_ids_present": claimed_ids}
    write_record(run_dir, {"skill": "nv-segment-ctmr", "request": request, "plan": plan, "output": output,
                           "artifacts": [artifact("mask", mask_path)]})
    return run_dir
