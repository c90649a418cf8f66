"""Label dictionaries and the cross-space mapping, checked on TotalSegmentator's real label map."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.errors import InputError
from medskills.core.label_spaces import (
    ClassMapping,
    LabelSpace,
    MappingRelation,
    UnmappedClass,
    UnmappedReason,
    align_label_maps,
    build_label_mapping,
    load_anatomy_table,
    load_label_dictionary,
    map_labels,
)


@pytest.fixture(scope="module")
def totalsegmentator_map(shared_data: Path) -> np.ndarray:
    path = shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz"
    return np.asarray(nib.load(path).dataobj)


def test_maisi_dictionary_has_132_ids_with_8_placeholders_and_body() -> None:
    maisi = load_label_dictionary(LabelSpace.MAISI)
    assert maisi.ids == tuple(range(1, 133)) + (200,)
    assert sum(entry.is_placeholder for entry in maisi.entries) == 8
    assert maisi.name_of(200) == "body"
    assert maisi.id_of("Left Kidney") == 14
    assert maisi.id_of("left lung upper lobe") == 28


def test_vista3d_dictionary_covers_channels_1_to_345_with_flags() -> None:
    vista3d = load_label_dictionary("vista3d")
    assert vista3d.ids == tuple(range(1, 346))
    assert vista3d.entry(16).is_deprecated and vista3d.entry(16).modalities == ()
    assert vista3d.entry("liver").modalities == ("CT", "MRI")
    assert "left lung" in vista3d and 346 not in vista3d
    assert vista3d.source.commit is not None and len(vista3d.source.commit) == 40


def test_totalsegmentator_dictionaries_match_the_shared_class_maps(shared_data: Path) -> None:
    for space, file_name in [
        (LabelSpace.TOTALSEGMENTATOR, "totalsegmentator_total_labels.json"),
        (LabelSpace.TOTALSEGMENTATOR_MR, "totalsegmentator_total_mr_labels.json"),
    ]:
        facts = {int(key): name for key, name in json.loads((shared_data / file_name).read_text()).items()}
        dictionary = load_label_dictionary(space)
        assert {entry.id: entry.name for entry in dictionary.entries} == facts


def test_unknown_label_name_suggests_close_names() -> None:
    with pytest.raises(InputError, match="Did you mean 'left kidney'"):
        load_label_dictionary("maisi").id_of("left kidny")


def test_unknown_label_space_lists_choices() -> None:
    with pytest.raises(InputError, match="choose one of: maisi, vista3d"):
        load_label_dictionary("nnunet")


def test_every_anatomy_row_names_existing_classes() -> None:
    for row in load_anatomy_table().values():
        for space, name in row.names.items():
            if name is not None:
                assert name in load_label_dictionary(space), (row.anatomy, space, name)
        assert row.parent is None or row.parent in load_anatomy_table()


def test_known_totalsegmentator_organs_land_on_maisi_ids(totalsegmentator_map: np.ndarray) -> None:
    conversion = map_labels(totalsegmentator_map, source="totalsegmentator", target="maisi")
    expected = {5: 1, 1: 3, 3: 14, 2: 5, 21: 15, 10: 28, 14: 32, 27: 33}  # TS id -> MAISI id
    for source_id, target_id in expected.items():
        if (totalsegmentator_map == source_id).any():
            assert np.array_equal(conversion.labels == target_id, totalsegmentator_map == source_id), source_id
    mapped = {item.source_name: item.target_id for item in conversion.record.mapped}
    assert mapped["liver"] == 1 and mapped["kidney_left"] == 14 and mapped["kidney_right"] == 5


def test_conversion_conserves_voxels_of_mapped_classes(totalsegmentator_map: np.ndarray) -> None:
    conversion = map_labels(totalsegmentator_map, source="totalsegmentator", target="maisi")
    source_counts = np.bincount(totalsegmentator_map.ravel())
    target_counts = np.bincount(conversion.labels.ravel(), minlength=256)
    for item in conversion.record.mapped:
        assert item.voxel_count == source_counts[item.source_id]
        assert target_counts[item.target_id] == item.voxel_count
    unmapped_voxels = sum(item.voxel_count for item in conversion.record.unmapped)
    assert target_counts[0] == source_counts[0] + unmapped_voxels
    assert conversion.labels.shape == totalsegmentator_map.shape


def test_classes_without_counterpart_are_reported_and_zeroed(totalsegmentator_map: np.ndarray) -> None:
    conversion = map_labels(totalsegmentator_map, source="totalsegmentator", target="totalsegmentator_mr")
    unmapped = {item.source_name: item for item in conversion.record.unmapped}
    ribs = {f"rib_{side}_{n}" for side in ("left", "right") for n in range(7, 13)}
    assert set(unmapped) == {"costal_cartilages"} | ribs
    assert unmapped["costal_cartilages"].reason is UnmappedReason.NO_COUNTERPART
    assert unmapped["costal_cartilages"].voxel_count == int((totalsegmentator_map == 117).sum())
    assert not conversion.labels[totalsegmentator_map == 117].any()


def test_every_class_of_the_real_ct_map_has_a_maisi_class(totalsegmentator_map: np.ndarray) -> None:
    conversion = map_labels(totalsegmentator_map, source="totalsegmentator", target="maisi")
    assert conversion.record.unmapped == []
    assert {item.source_name: item.target_id for item in conversion.record.mapped}["costal_cartilages"] == 114


def test_lobes_merge_into_whole_lung_for_totalsegmentator_mr(totalsegmentator_map: np.ndarray) -> None:
    conversion = map_labels(totalsegmentator_map, source="totalsegmentator", target="totalsegmentator_mr")
    left_lobes = np.isin(totalsegmentator_map, [10, 11])
    assert np.array_equal(conversion.labels == 10, left_lobes)  # total_mr 10 = lung_left
    merged = {item.source_name: item for item in conversion.record.merged}
    assert merged["lung_lower_lobe_left"].relation is MappingRelation.MERGED_INTO_PARENT
    assert merged["vertebrae_L1"].target_name == "vertebrae"


def test_coarse_class_is_not_split_into_finer_target_classes() -> None:
    plan = build_label_mapping(LabelSpace.TOTALSEGMENTATOR_MR, LabelSpace.MAISI)
    lung_left = plan[10]
    assert isinstance(lung_left, UnmappedClass) and lung_left.reason is UnmappedReason.TARGET_IS_FINER
    kidney = build_label_mapping(LabelSpace.VISTA3D, LabelSpace.TOTALSEGMENTATOR)[2]
    assert isinstance(kidney, UnmappedClass) and kidney.reason is UnmappedReason.TARGET_IS_FINER


def test_vista3d_to_maisi_keeps_shared_ids() -> None:
    plan = build_label_mapping(LabelSpace.VISTA3D, LabelSpace.MAISI)
    same = [item for item in plan.values() if isinstance(item, ClassMapping)]
    assert all(item.source_id == item.target_id for item in same)
    assert len(same) == 132 - 8


def test_ids_outside_the_source_space_are_reported() -> None:
    labels = np.array([[0, 1, 250]], dtype=np.uint8)
    conversion = map_labels(labels, source="totalsegmentator", target="maisi")
    assert conversion.labels.tolist() == [[0, 3, 0]]
    assert conversion.record.unmapped[0].reason is UnmappedReason.NOT_IN_SOURCE_SPACE
    assert conversion.record.unmapped[0].source_id == 250


def test_non_integer_or_negative_maps_are_rejected() -> None:
    with pytest.raises(InputError, match="not integral"):
        map_labels(np.full((2, 2), 1.5, dtype=np.float32), source="maisi", target="vista3d")
    with pytest.raises(InputError, match="negative ids"):
        map_labels(np.array([-1, 2], dtype=np.int16), source="maisi", target="vista3d")


def test_integral_float_maps_are_accepted() -> None:
    conversion = map_labels(np.array([0.0, 5.0], dtype=np.float32), source="totalsegmentator", target="maisi")
    assert conversion.labels.tolist() == [0, 1]


def test_vista3d_target_uses_a_wide_enough_dtype() -> None:
    conversion = map_labels(np.array([0, 1], dtype=np.uint8), source="totalsegmentator", target="vista3d")
    assert conversion.labels.dtype == np.uint16


def test_alignment_within_one_space_keeps_every_class(totalsegmentator_map: np.ndarray) -> None:
    aligned = align_label_maps(totalsegmentator_map, totalsegmentator_map,
                               prediction_space="totalsegmentator", reference_space="totalsegmentator")
    present = set(np.unique(totalsegmentator_map)) - {0}
    assert {unit.prediction_ids[0] for unit in aligned.units} == present
    assert np.array_equal(aligned.prediction, aligned.reference)
    assert aligned.merges == () and aligned.unpaired == ()


def test_alignment_merges_lobes_against_whole_lungs_and_says_so(totalsegmentator_map: np.ndarray) -> None:
    whole_lungs = map_labels(totalsegmentator_map, source="totalsegmentator", target="totalsegmentator_mr").labels
    aligned = align_label_maps(whole_lungs, totalsegmentator_map,
                               prediction_space="totalsegmentator_mr", reference_space="totalsegmentator")
    merges = {merge.into: merge for merge in aligned.merges}
    assert merges["left lung"].reference_classes == ["lung_upper_lobe_left", "lung_lower_lobe_left"]
    assert merges["left lung"].prediction_classes == ["lung_left"]
    assert np.array_equal(aligned.prediction, aligned.reference)
    assert {item.name for item in aligned.unpaired if item.side == "reference"} >= {"costal_cartilages", "rib_left_7"}


def test_alignment_merges_left_and_right_kidney_when_one_side_has_only_kidney(
    totalsegmentator_map: np.ndarray,
) -> None:
    prediction = map_labels(totalsegmentator_map, source="totalsegmentator", target="vista3d").labels
    prediction[np.isin(prediction, [5, 14])] = 2  # VISTA3D "kidney"
    aligned = align_label_maps(prediction, totalsegmentator_map,
                               prediction_space="vista3d", reference_space="totalsegmentator")
    kidney = next(unit for unit in aligned.units if unit.anatomy == "kidney")
    assert kidney.prediction_ids == [2] and kidney.reference_ids == [2, 3]
    assert any(merge.into == "kidney" for merge in aligned.merges)
    assert not any(unit.anatomy in {"left kidney", "right kidney"} for unit in aligned.units)


def test_alignment_keeps_laterality_when_both_sides_have_it(totalsegmentator_map: np.ndarray) -> None:
    maisi = map_labels(totalsegmentator_map, source="totalsegmentator", target="maisi").labels
    aligned = align_label_maps(maisi, totalsegmentator_map, prediction_space="maisi",
                               reference_space="totalsegmentator")
    left = next(unit for unit in aligned.units if unit.anatomy == "left kidney")
    assert left.prediction_ids == [14] and left.reference_ids == [3]
    assert aligned.merges == ()
