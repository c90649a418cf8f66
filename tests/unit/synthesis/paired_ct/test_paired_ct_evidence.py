"""Output scan, per-pair measurements, log parsing and the Path-A condition vector."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from medskills.core.volumes import write_nifti
from medskills.synthesis.paired_ct.evidence import (
    compute_anatomy_size_condition,
    describe_sample,
    parse_upstream_log,
    scan_outputs,
)
from medskills.synthesis.paired_ct.record import LabelMappingEntry
from medskills.synthesis.nv_generate.ct_inference import InferenceSettings

AFFINE = np.diag([1.5, 1.5, 2.0, 1.0])
MAPPING = [LabelMappingEntry(output_label_id=1, maisi_label_id=1, anatomy="liver"),
           LabelMappingEntry(output_label_id=2, maisi_label_id=23, anatomy="lung tumor")]


def _pair(folder: Path, stamp: str, *, label: np.ndarray | None = None, image: np.ndarray | None = None):
    image = image if image is not None else np.linspace(-1000, 1000, 1000, dtype=np.float32).reshape(10, 10, 10)
    if label is None:
        label = np.zeros((10, 10, 10), dtype=np.float32)
        label[:2] = 1
        label[5] = 2
    image_path = write_nifti(folder / f"sample_{stamp}_image.nii.gz", image, AFFINE)
    label_path = write_nifti(folder / f"sample_{stamp}_label.nii.gz", label.astype(np.float32), AFFINE)
    return image_path, label_path


def test_scan_keeps_fresh_exact_pairs_and_lists_the_rest(tmp_path):
    old = _pair(tmp_path, "20200101_000000_000000")
    for path in old:
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    started = time.time()
    fresh = _pair(tmp_path, "20261121_120000_000001")
    lonely = write_nifti(tmp_path / "sample_20261121_120000_000002_image.nii.gz", np.zeros((2, 2, 2)), AFFINE)
    other = write_nifti(tmp_path / "image.nii.gz", np.zeros((2, 2, 2)), AFFINE)
    scan = scan_outputs(tmp_path, started_epoch=started, image_ext=".nii.gz", label_ext=".nii.gz")
    assert scan.pairs == [fresh]
    assert sorted(scan.ignored) == sorted([*old, lonely, other])


def test_describe_sample_counts_each_label_by_ordinal_and_maisi_id(tmp_path):
    image_path, label_path = _pair(tmp_path, "20261121_120000_000001")
    evidence = describe_sample(image_path, label_path, MAPPING).evidence
    assert evidence.is_pair_readable and evidence.label_dtype == "float32" and evidence.is_nonconstant
    assert evidence.has_hu_below_minus_500 and evidence.has_hu_above_200
    volumes = {(v.output_label_id, v.maisi_label_id): (v.voxel_count, v.volume_ml) for v in evidence.class_volumes}
    assert volumes == {(1, 1): (200, 0.9), (2, 23): (100, 0.45)}
    assert evidence.geometry_match.is_match and evidence.image.sha256 and evidence.label.bytes > 0


def test_non_integral_float_labels_are_recorded_as_unreadable(tmp_path):
    label = np.full((10, 10, 10), 0.5, dtype=np.float32)
    image_path, label_path = _pair(tmp_path, "20261121_120000_000001", label=label)
    evidence = describe_sample(image_path, label_path, MAPPING).evidence
    assert not evidence.is_label_readable and "not integral" in evidence.label_error


def test_unlisted_ordinal_keeps_counts_without_a_maisi_id(tmp_path):
    label = np.zeros((10, 10, 10), dtype=np.float32)
    label[0] = 7
    image_path, label_path = _pair(tmp_path, "20261121_120000_000001", label=label)
    (volume,) = describe_sample(image_path, label_path, MAPPING).evidence.class_volumes
    assert volume.output_label_id == 7 and volume.maisi_label_id is None


def test_log_parsing_finds_quality_failures_and_peak_memory():
    text = ("x\n[..] quality check for label 'liver' failed: median value 900\nok\n"
            "Peak GPU memory usage: 21.50 GB\n")
    failures, peak = parse_upstream_log(text)
    assert len(failures) == 1 and "'liver'" in failures[0] and peak == 21.5
    assert parse_upstream_log("nothing") == ([], None)


def _path_a(controllable: list[tuple[str, float]]) -> InferenceSettings:
    return InferenceSettings(num_output_samples=1, body_region=[], anatomy_list=[], controllable_anatomy_size=controllable,
                             num_inference_steps=30, mask_generation_num_inference_steps=1000, output_size=(256, 256, 256),
                             spacing_mm=(1.5, 1.5, 2.0), image_output_ext=".nii.gz", label_output_ext=".nii.gz",
                             autoencoder_sliding_window_infer_size=(48, 48, 48),
                             autoencoder_sliding_window_infer_overlap=0.5, modality=1, cfg_guidance_scale=0.0)


def test_anatomy_size_condition_follows_the_upstream_rule(tmp_path):
    database = tmp_path / "conditions.json"
    database.write_text(json.dumps([{"organ_size": [0.1] * 10}, {"organ_size": [0.9, 0.5] + [0.3] * 8}]))
    condition = compute_anatomy_size_condition(_path_a([("liver", 0.6)]), database)
    assert condition.values == [0.9, 0.6] + [0.3] * 8 and condition.requested == {"liver": 0.6}
    assert compute_anatomy_size_condition(_path_a([]), database) is None
    assert compute_anatomy_size_condition(_path_a([("liver", 0.6)]), tmp_path / "absent.json") is None
