"""User-mask preparation: conversion on the real TotalSegmentator maps, body envelope, and every validation rule."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.label_spaces import UnmappedReason
from medskills.core.preflight import PreflightCollector
from medskills.synthesis.nv_generate.body_envelope import BODY_LABEL, add_body_envelope, body_mask_from_ct
from medskills.synthesis.nv_generate.user_mask import SourceLabels, prepare_user_mask

AFFINE = np.diag([1.5, 1.5, 2.0, 1.0])


def _save(path: Path, array: np.ndarray, affine: np.ndarray = AFFINE) -> Path:
    nib.save(nib.Nifti1Image(array, affine), str(path))
    return path


def _prepare(path: Path, **options: object) -> tuple[PreflightCollector, object]:
    collector = PreflightCollector()
    defaults: dict[str, object] = {"source_labels": SourceLabels.MAISI, "body_envelope_ct": None,
                                   "allow_missing_body_label": False}
    prepared = prepare_user_mask(collector, path, **{**defaults, **options})  # type: ignore[arg-type]
    return collector, prepared


def _codes(collector: PreflightCollector) -> set[str]:
    return {check.code for check in collector.report().errors}


def _phantom() -> np.ndarray:
    labels = np.zeros((16, 16, 8), dtype=np.uint8)
    labels[4:12, 4:12, 2:6] = BODY_LABEL
    labels[6:9, 6:9, 3:5] = 1
    return labels


def test_totalsegmentator_organs_land_on_maisi_ids_with_voxels_conserved(shared_data: Path) -> None:
    path = shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz"
    source = np.asarray(nib.load(str(path)).dataobj)
    collector, prepared = _prepare(path, source_labels=SourceLabels.TOTALSEGMENTATOR, allow_missing_body_label=True)
    labels = prepared.labels
    for ts_id, maisi_id in ((5, 1), (1, 3), (3, 14), (52, 6), (6, 12), (29, 35)):
        assert np.array_equal(labels == maisi_id, source == ts_id), (ts_id, maisi_id)
    conversion = prepared.evidence.conversion
    for item in conversion.mapped:
        assert item.voxel_count == int(np.count_nonzero(source == item.source_id))
    assert sum(item.voxel_count for item in conversion.mapped) == int(np.count_nonzero(labels))
    assert conversion.unmapped == [] and not collector.has_request_errors


def test_unmapped_classes_of_a_real_map_are_reported_and_zeroed(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "mr_body_3mm" / "reference_totalsegmentator_mr.nii.gz"
    source = np.asarray(nib.load(str(path)).dataobj)
    collector, prepared = _prepare(path, source_labels=SourceLabels.TOTALSEGMENTATOR_MR, allow_missing_body_label=True)
    unmapped = {item.source_name: item for item in prepared.evidence.conversion.unmapped}
    assert {"lung_right", "vertebrae", "intervertebral_discs"} <= set(unmapped)
    assert unmapped["lung_right"].reason is UnmappedReason.TARGET_IS_FINER
    assert unmapped["vertebrae"].voxel_count == int(np.count_nonzero(source == 19))
    assert not prepared.labels[source == 20].any()
    assert "class_unmapped" in {check.code for check in collector.report().warnings}


def test_ids_foreign_to_the_source_space_are_reported(shared_data: Path, tmp_path: Path) -> None:
    image = nib.load(str(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz"))
    source = np.asarray(image.dataobj).astype(np.uint8)
    source[0, 0, :3] = 250
    path = _save(tmp_path / "ts.nii.gz", source, image.affine)
    _, prepared = _prepare(path, source_labels=SourceLabels.TOTALSEGMENTATOR, allow_missing_body_label=True)
    foreign = [item for item in prepared.evidence.conversion.unmapped if item.source_id == 250]
    assert foreign and foreign[0].reason is UnmappedReason.NOT_IN_SOURCE_SPACE and foreign[0].voxel_count == 3


def test_body_envelope_from_the_real_ct_covers_the_body_not_the_air(shared_data: Path) -> None:
    folder = shared_data / "ct_abdomen_3mm"
    collector, prepared = _prepare(folder / "reference_totalsegmentator.nii.gz",
                                   source_labels=SourceLabels.TOTALSEGMENTATOR, body_envelope_ct=folder / "image.nii.gz")
    ct = np.asarray(nib.load(str(folder / "image.nii.gz")).dataobj)
    labels = prepared.labels
    assert not collector.has_request_errors
    envelope = prepared.evidence.body_envelope
    assert envelope.voxels_labelled_body == int(np.count_nonzero(labels == BODY_LABEL)) > 0
    assert envelope.labelled_voxels_outside_body == 0
    assert np.median(ct[labels == BODY_LABEL]) > -300  # soft tissue, fat, bone
    assert np.median(ct[labels == 0]) < -900  # air outside the body


def test_body_mask_fills_enclosed_air_per_axial_slice() -> None:
    ct = np.full((20, 20, 5), -1000.0)
    ct[3:17, 3:17, :] = 40.0
    ct[7:13, 7:13, :] = -900.0  # an air-filled organ inside the body
    body = body_mask_from_ct(ct, np.eye(4))
    assert body[10, 10, 2] and not body[0, 0, 2]


def test_envelope_rejects_a_ct_on_another_grid() -> None:
    from medskills.core.errors import InputError

    with pytest.raises(InputError, match="shape"):
        add_body_envelope(np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 5)), np.eye(4))


def test_valid_maisi_mask_passes(tmp_path: Path) -> None:
    collector, prepared = _prepare(_save(tmp_path / "m.nii.gz", _phantom()))
    assert not collector.has_request_errors and not prepared.is_changed
    assert prepared.evidence.label_statistics.label_ids_present == [1, BODY_LABEL]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda p: p.write_bytes(b"not nifti"), "mask_unreadable"),
        (lambda p: _save(p, np.zeros((4, 4, 4, 2), np.uint8)), "mask_unreadable"),
        (lambda p: _save(p, (_phantom() + 0.4).astype(np.float32)), "mask_not_label_map"),
        (lambda p: _save(p, np.where(_phantom() == 1, 150, _phantom()).astype(np.uint8)), "mask_foreign_ids"),
        (lambda p: _save(p, np.where(_phantom() == BODY_LABEL, 0, _phantom()).astype(np.uint8)), "mask_no_body"),
        (lambda p: _save(p, np.where(_phantom() == 1, BODY_LABEL, _phantom()).astype(np.uint8)), "mask_no_foreground"),
    ],
    ids=["unreadable", "not-3d", "not-integer", "foreign-id", "no-body", "no-foreground"],
)
def test_each_mask_rule_is_an_error(tmp_path: Path, make: object, code: str) -> None:
    path = tmp_path / "m.nii.gz"
    make(path)  # type: ignore[operator]
    collector, _ = _prepare(path)
    assert code in _codes(collector)


def test_missing_mask_file_is_an_error(tmp_path: Path) -> None:
    collector, prepared = _prepare(tmp_path / "absent.nii.gz")
    assert prepared is None and "mask_unreadable" in _codes(collector)


def test_missing_body_is_allowed_with_the_flag(tmp_path: Path) -> None:
    no_body = np.where(_phantom() == BODY_LABEL, 0, _phantom()).astype(np.uint8)
    collector, _ = _prepare(_save(tmp_path / "m.nii.gz", no_body), allow_missing_body_label=True)
    assert not collector.has_request_errors


def test_grid_outside_upstream_sets_is_a_warning(tmp_path: Path) -> None:
    collector, prepared = _prepare(_save(tmp_path / "m.nii.gz", _phantom()))
    assert prepared.evidence.is_upstream_resampled
    assert "mask_resampled_upstream" in {check.code for check in collector.report().warnings}


def test_vista3d_map_converts_by_name_and_reports_coarse_classes(tmp_path: Path) -> None:
    from medskills.core.label_spaces import load_label_dictionary

    vista = load_label_dictionary("vista3d")
    labels = np.zeros((16, 16, 8), dtype=np.uint16)
    labels[2:6, 2:6, 2:6] = vista.id_of("liver")
    labels[8:12, 2:6, 2:6] = vista.id_of("spleen")
    labels[2:6, 8:12, 2:6] = vista.id_of("lung")
    collector, prepared = _prepare(_save(tmp_path / "vista.nii.gz", labels), source_labels=SourceLabels.VISTA3D,
                                   allow_missing_body_label=True)
    assert set(np.unique(prepared.labels).tolist()) == {0, 1, 3}
    unmapped = prepared.evidence.conversion.unmapped
    assert [(item.source_name, item.reason) for item in unmapped] == [("lung", UnmappedReason.TARGET_IS_FINER)]
    assert unmapped[0].voxel_count == 64 and not collector.has_request_errors


def _upstream_sized(shape: tuple[int, int, int]) -> np.ndarray:
    labels = np.zeros(shape, dtype=np.uint8)
    labels[8:-8, 8:-8, 8:-8] = BODY_LABEL
    labels[20:30, 20:30, 20:30] = 1
    return labels


# voxel axes stored as (x, z, y): the affine sends axis 1 to S and axis 2 to A
_XZY = np.array([[1.5, 0, 0, 0], [0, 0, 1.5, 0], [0, 2.0, 0, 0], [0, 0, 0, 1.0]])


@pytest.mark.parametrize(("shape", "affine", "is_resampled"), [
    ((256, 256, 128), AFFINE, False),
    ((256, 128, 256), _XZY, False),  # 256 x 256 x 128 at 1.5, 1.5, 2 mm once in RAS order
    ((256, 256, 128), _XZY, True),  # a valid-looking file whose RAS grid is 256 x 128 x 256
    ((256, 256, 128), np.diag([1.5, 1.5004, 2.0, 1.0]), True),  # x and y spacings differ past upstream's 1e-6
], ids=["valid", "valid-in-ras-order", "invalid-in-ras-order", "xy-spacings-differ"])
def test_upstream_resampling_is_predicted_on_the_ras_grid_with_upstreams_tolerance(
        tmp_path: Path, shape: tuple[int, int, int], affine: np.ndarray, is_resampled: bool) -> None:
    collector, prepared = _prepare(_save(tmp_path / "m.nii.gz", _upstream_sized(shape), affine))
    assert prepared.evidence.is_upstream_resampled is is_resampled
    assert ("mask_resampled_upstream" in {check.code for check in collector.report().warnings}) is is_resampled
