"""Member inputs derived from the one canonical HU volume: shapes, ranges, dtype, memoisation."""

from __future__ import annotations

import numpy as np
import torch

from medskills.triage.pack_manifest import AstraPreprocessing, CTCLIPPreprocessing, MedNeXtPreprocessing
from medskills.triage.preprocessing import StudyInputs, astra_chest_input, bounding_box, ctclip_input, mednext_input
from triage_models_support.builders import synthetic_volume


def test_astra_chest_input_is_cropped_resized_windowed_and_depth_first() -> None:
    volume = synthetic_volume((40, 36, 30))
    tensor = astra_chest_input(volume, AstraPreprocessing(target_shape_xyz=(32, 24, 16)))
    assert tuple(tensor.shape) == (1, 1, 16, 32, 24) and tensor.dtype == torch.float32
    assert float(tensor.min()) >= 0.0 and float(tensor.max()) <= 1.0


def test_ctclip_input_resamples_to_spacing_and_pads_with_minus_one() -> None:
    volume = synthetic_volume((20, 20, 10), spacing_mm=10.0)
    spec = CTCLIPPreprocessing(spacing_mm_zyx=(20.0, 10.0, 10.0), shape_zyx=(8, 24, 24))
    tensor = ctclip_input(volume, spec)
    assert tuple(tensor.shape) == (1, 1, 8, 24, 24) and tensor.dtype == torch.float32
    assert float(tensor[0, 0, :, 0, 0].max()) == -1.0  # padded corner (20 -> 24 columns)
    assert float(tensor.min()) >= -1.0 and float(tensor.max()) <= 1.0


def test_ctclip_input_puts_superior_slices_last() -> None:
    volume = synthetic_volume((16, 16, 12), spacing_mm=10.0)
    volume.array[:, :, -1] = 1000.0  # most superior slice bright
    spec = CTCLIPPreprocessing(spacing_mm_zyx=(10.0, 10.0, 10.0), shape_zyx=(12, 16, 16))
    tensor = ctclip_input(volume, spec)
    assert float(tensor[0, 0, -1].mean()) == 1.0


def test_mednext_input_crops_to_the_body_box_and_normalises() -> None:
    volume = synthetic_volume((40, 36, 30), spacing_mm=4.0)
    spec = MedNeXtPreprocessing(spacing_mm=(4.0, 4.0, 4.0), roi_size=(40, 36, 30), crop_by_body_part=True)
    calls = []

    def mask(v: object) -> np.ndarray:
        calls.append(v)
        result = np.zeros((40, 36, 30), dtype=bool)
        result[10:30, 8:28, 5:25] = True
        return result

    tensor = mednext_input(volume, spec, body_mask=mask)
    assert len(calls) == 1 and tuple(tensor.shape) == (1, 1, 40, 36, 30)
    assert float(tensor[0, 0, :10].abs().max()) == 0.0  # padding outside the cropped box stays 0
    inner = tensor[0, 0, 10:30, 8:28, 5:25]
    assert abs(float(inner.mean())) < 0.1


def test_study_inputs_build_each_input_once() -> None:
    inputs = StudyInputs(synthetic_volume())
    built = []
    first = inputs.derive("key", lambda: built.append(1) or "value")
    second = inputs.derive("key", lambda: built.append(1) or "other")
    assert first == second == "value" and built == [1]


def test_bounding_box_of_an_empty_mask_is_none() -> None:
    assert bounding_box(np.zeros((3, 3, 3), dtype=bool)) is None
    box = bounding_box(np.pad(np.ones((1, 2, 1), dtype=bool), 1))
    assert box == (slice(1, 2), slice(1, 3), slice(1, 2))
