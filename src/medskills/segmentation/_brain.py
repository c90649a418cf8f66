"""Heuristics for "this T1 was not run through the upstream brain preprocessing" (MRI_BRAIN only).

The brain parcellation was trained on skull-stripped, bias-corrected, intensity-normalised T1 volumes
affinely registered to the LUMIR template at 1 mm. A raw T1 still runs, but the labels are garbage.
The checks are heuristics, so they produce one warning that lists what failed, never an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from medskills.core.preflight import PreflightCollector
from medskills.segmentation._input import LoadedInput
from medskills.segmentation.bundle import nifti_stem
from medskills.segmentation.models import BrainHeuristic

if TYPE_CHECKING:
    from nibabel import Nifti1Image

__all__ = ["TEMPLATE_RELATIVE_PATH", "check_brain_preprocessed"]

TEMPLATE_RELATIVE_PATH = Path("brain_t1_preprocess") / "LUMIR_template.nii.gz"
PREPROCESSED_MAX_VALUE = 1.05
BRAIN_VOLUME_ML_RANGE = (1000.0, 1800.0)
SPACING_TOLERANCE_MM = 0.05
AFFINE_TOLERANCE_MM = 1e-4


def check_brain_preprocessed(
    loaded: LoadedInput, *, bundle_root: Path, collector: PreflightCollector
) -> list[BrainHeuristic]:
    """Run every heuristic, warn once when any fails, and return all of them for the evidence."""
    results = [
        _meta_json(loaded.path),
        _template_grid(loaded, bundle_root / TEMPLATE_RELATIVE_PATH),
        _isotropic_1mm(loaded),
        _normalised_range(loaded),
        _brain_sized_foreground(loaded),
    ]
    failed = [result for result in results if not result.is_passed]
    if failed:
        listing = "; ".join(f"{result.name}: {result.observed}" for result in failed)
        collector.warning(
            "mri_brain_not_preprocessed",
            f"the input does not look preprocessed for MRI_BRAIN ({listing}); parcellation of a raw T1 is unreliable.",
            field="--modality",
            fix="add --preprocess (runs `medskills preprocess brain` first and reverts the labels), or "
            f"run the upstream pipeline first (skull strip with SynthStrip, then "
            f"{bundle_root / 'brain_t1_preprocess' / 'preprocess.py'} against the LUMIR template; see "
            f"{bundle_root / 'brain_t1_preprocess' / 'README.md'}) and segment its output",
        )
    return results


def _meta_json(path: Path) -> BrainHeuristic:
    stem = nifti_stem(path)
    for candidate in (path.parent / f"{stem}.preprocess.json", path.parent / f"{stem}.meta.json"):
        if candidate.is_file():
            try:
                output_path = json.loads(candidate.read_text(encoding="utf-8")).get("output_path")
            except (OSError, ValueError, AttributeError):
                continue
            if output_path and Path(output_path).name == path.name:
                return BrainHeuristic(name="preprocess_meta_json", is_passed=True, observed=str(candidate))
    return BrainHeuristic(name="preprocess_meta_json", is_passed=False,
                          observed="no <stem>.preprocess.json / .meta.json naming this file")


def _template_grid(loaded: LoadedInput, template_path: Path) -> BrainHeuristic:
    """On upstream's LUMIR grid, or on the MNI ICBM152 grid `medskills preprocess brain` writes."""
    import nibabel as nib

    grids = [(template_path.name, nib.Nifti1Image.from_filename(template_path))] if template_path.is_file() else []
    mni = _mni_grid()
    if mni is not None:
        grids.append(mni)
    if not grids:
        return BrainHeuristic(name="template_grid", is_passed=True, observed=f"skipped: template {template_path} "
                              "not present and the MNI152 template not installed (pip install 'medskills[brain]')")
    for name, template in grids:
        if tuple(template.shape[:3]) == tuple(loaded.geometry.shape[:3]) and bool(
                np.abs(np.asarray(template.affine) - loaded.affine).max() <= AFFINE_TOLERANCE_MM):
            return BrainHeuristic(name="template_grid", is_passed=True, observed=f"on the {name} grid")
    shapes = ", ".join(f"{name} {tuple(template.shape[:3])}" for name, template in grids)
    return BrainHeuristic(name="template_grid", is_passed=False,
                          observed=f"shape {loaded.geometry.shape} is on no template grid ({shapes})")


def _mni_grid() -> tuple[str, Nifti1Image] | None:
    from medskills.core.errors import MedskillsError
    from medskills.pretrained import locate_packaged_weights
    from medskills.segmentation.brain_preprocess.template import MNI152_TEMPLATE

    try:
        path = locate_packaged_weights(MNI152_TEMPLATE)
    except MedskillsError:
        return None
    import nibabel as nib

    return "MNI ICBM152 2009a (medskills preprocess brain)", nib.Nifti1Image.from_filename(path)


def _isotropic_1mm(loaded: LoadedInput) -> BrainHeuristic:
    spacing = loaded.geometry.spacing_mm
    is_passed = all(abs(s - 1.0) <= SPACING_TOLERANCE_MM for s in spacing)
    return BrainHeuristic(name="spacing_1mm", is_passed=is_passed,
                          observed=f"spacing {tuple(round(s, 3) for s in spacing)} mm")


def _normalised_range(loaded: LoadedInput) -> BrainHeuristic:
    low, high = loaded.intensity.minimum, loaded.intensity.maximum
    is_float = np.issubdtype(loaded.array.dtype, np.floating)
    is_passed = is_float and low is not None and high is not None and low >= 0 and high <= PREPROCESSED_MAX_VALUE
    return BrainHeuristic(name="intensity_0_1", is_passed=bool(is_passed),
                          observed=f"dtype {loaded.array.dtype}, range [{low}, {high}]")


def _brain_sized_foreground(loaded: LoadedInput) -> BrainHeuristic:
    voxel_ml = float(np.prod(loaded.geometry.spacing_mm)) / 1000.0
    foreground_ml = float(np.count_nonzero(loaded.array)) * voxel_ml
    low, high = BRAIN_VOLUME_ML_RANGE
    return BrainHeuristic(name="skull_stripped_volume", is_passed=low <= foreground_ml <= high,
                          observed=f"non-zero volume {foreground_ml:.0f} mL (brain only: {low:.0f}-{high:.0f})")
