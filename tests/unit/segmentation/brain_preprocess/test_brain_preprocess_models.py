"""The brain recipe's recorded settings: upstream's values by default, and revert metadata that survives JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from medskills.segmentation.brain_preprocess.models import (
    AffineTransformRecord,
    BrainPreprocessParameters,
    RevertMetadata,
    TemplateIdentity,
)


def test_defaults_are_upstreams_recipe() -> None:
    parameters = BrainPreprocessParameters()
    # brain_t1_preprocess/preprocess.py: KDENormalize(norm_value=110), 99.9th-percentile rescale, 1 mm, meanSquares
    assert (parameters.kde_norm_value, parameters.rescale_percentile, parameters.target_spacing_mm,
            parameters.registration_metric) == (110.0, 99.9, 1.0, "mean_squares")
    # ANTsPy n4_bias_field_correction defaults: shrink 4, 4 x 50 iterations, 1e-7, order 3, 200 mm mesh
    assert (parameters.n4_shrink_factor, parameters.n4_iterations, parameters.n4_convergence_threshold,
            parameters.n4_spline_order, parameters.n4_spline_distance_mm) == (4, (50, 50, 50, 50), 1e-7, 3, 200.0)


def test_revert_metadata_round_trips_and_refuses_unknown_keys() -> None:
    eye = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    metadata = RevertMetadata(
        input_path=Path("t1.nii.gz"), input_sha256="0" * 64, input_shape=(176, 240, 256), input_affine=eye,
        template=TemplateIdentity(name="MNI152", source_package="nilearn", source_version="0.10", file_path=Path("t"),
                                  sha256="1" * 64, shape=(197, 233, 189), affine=eye),
        transform=AffineTransformRecord(template_to_input_ras=eye, itk_matrix_lps=[1, 0, 0, 0, 1, 0, 0, 0, 1],
                                        itk_translation_lps_mm=[0, 0, 0], itk_center_lps_mm=[0, 0, 0],
                                        final_metric_value=0.01, optimizer_stop_condition="converged"),
        parameters=BrainPreprocessParameters(thread_count=1), preprocessed_path=Path("out/t1_preprocessed.nii.gz"))
    assert RevertMetadata.model_validate_json(metadata.model_dump_json()) == metadata
    with pytest.raises(ValidationError, match="extra"):
        RevertMetadata.model_validate({**metadata.model_dump(), "note": "x"})
