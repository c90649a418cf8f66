"""Map an image or label map from the template grid back onto the input grid, from the revert metadata.

One resampling: each input voxel is taken to world RAS by the input affine, to the template world by
the inverse of the registration, and to a template voxel; nearest neighbour for labels, linear for
images. The output has the input's exact shape and affine (upstream reverts in three steps: inverse
transform, zoom back to the original spacing, reorientation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from medskills.core.errors import InputError
from medskills.core.volumes import read_volume, write_nifti
from medskills.segmentation.brain_preprocess.models import (
    BrainRevertOutput,
    BrainRevertRecord,
    BrainRevertRequest,
    RevertMetadata,
)

__all__ = ["read_revert_metadata", "revert_brain_volume", "revert_to_input_grid"]

_GRID_TOLERANCE_MM = 1e-3


def read_revert_metadata(path: Path) -> RevertMetadata:
    """Read ``preprocess_meta.json`` written by ``medskills preprocess brain``.

    Raises:
        InputError: the file is missing or is not that metadata.
    """
    try:
        return RevertMetadata.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise InputError(f"--meta {path} does not exist. Pass the preprocess_meta.json of the preprocessing run.") from err
    except (OSError, ValueError, ValidationError) as err:
        raise InputError(f"--meta {path} is not a brain preprocessing metadata file: {err}") from err


def revert_to_input_grid(
    volume: npt.NDArray[np.generic], metadata: RevertMetadata, *, is_label_map: bool
) -> npt.NDArray[np.generic]:
    """``volume`` (template grid, voxel order of the template) resampled onto the input grid."""
    from scipy import ndimage

    template_affine = np.asarray(metadata.template.affine, dtype=np.float64)
    template_to_input = np.asarray(metadata.transform.template_to_input_ras, dtype=np.float64)
    input_affine = np.asarray(metadata.input_affine, dtype=np.float64)
    input_voxel_to_template_voxel = np.linalg.inv(template_affine) @ np.linalg.inv(template_to_input) @ input_affine
    data = np.asarray(volume)
    if not is_label_map:
        data = data.astype(np.float32)
    return np.asarray(ndimage.affine_transform(
        data, input_voxel_to_template_voxel[:3, :3], offset=input_voxel_to_template_voxel[:3, 3],
        output_shape=metadata.input_shape, order=0 if is_label_map else 1, mode="constant", cval=0))


def revert_brain_volume(request: BrainRevertRequest) -> BrainRevertRecord:
    """Read the volume and metadata, check the volume is on the template grid, write it on the input grid.

    Raises:
        InputError: unreadable files, or the volume is not on the template grid of the metadata.
        UsageError: the output file already exists.
    """
    from medskills.core.errors import UsageError

    if Path(request.output_path).exists():
        raise UsageError(f"--output {request.output_path} exists; outputs are never overwritten. Pass a new path.")
    metadata = read_revert_metadata(request.metadata_path)
    loaded = read_volume(request.volume_path)
    template_affine = np.asarray(metadata.template.affine, dtype=np.float64)
    if tuple(loaded.array.shape) != tuple(metadata.template.shape) or \
            float(np.abs(loaded.affine - template_affine).max()) > _GRID_TOLERANCE_MM:
        raise InputError(
            f"{request.volume_path} has shape {loaded.array.shape} and is not on the template grid "
            f"{metadata.template.shape} of {request.metadata_path}. Revert only images or labels made on the "
            f"preprocessed image ({metadata.preprocessed_path}).")
    reverted = revert_to_input_grid(loaded.array, metadata, is_label_map=request.is_label_map)
    input_affine = np.asarray(metadata.input_affine, dtype=np.float64)
    write_nifti(request.output_path, reverted, input_affine)
    label_ids = sorted(int(v) for v in np.unique(reverted)) if request.is_label_map else None
    output = BrainRevertOutput(output_path=Path(request.output_path).absolute(), shape=metadata.input_shape,
                               affine=metadata.input_affine, label_ids=label_ids)
    return BrainRevertRecord(request=request, output=output)
