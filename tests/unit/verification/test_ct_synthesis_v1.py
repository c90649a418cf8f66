"""ct_synthesis_quality_v1 on run directories built from the real CT and its label map."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import InputError
from medskills.core.models import Status
from medskills.verification import Verdict, grade_ct_synthesis
from unit.verification.run_builders import build_ct_synthesis_run, ct_output_labels, load_nifti

HONEST_CLAIMS = {"is_all_pairs_readable": True, "is_all_geometry_consistent": True, "has_any_foreground": True,
                 "is_all_images_nonconstant": True, "is_all_images_hu_like": True,
                 "is_all_expected_labels_present": True}  # spelled as synthesis.ct_record writes them


def _failed(verdict: Verdict) -> set[str]:
    return set(verdict.failed_checks)


def test_run_built_from_the_real_ct_passes(tmp_path: Path, shared_data: Path) -> None:
    verdict = grade_ct_synthesis(build_ct_synthesis_run(tmp_path / "run", shared_data, claims=HONEST_CLAIMS))
    assert verdict.status is Status.PASSED, verdict.failed_checks
    names = [t.name for t in verdict.tiers]
    for expected in ("artifact_inventory", "geometry_consistency", "image_hu_plausibility", "label_set_sanity",
                     "declared_anatomy_coverage", "anatomy_hu_plausibility", "honesty"):
        assert expected in names
    hu = next(t for t in verdict.tiers if t.name == "anatomy_hu_plausibility")
    assert {c.name for c in hu.checks} == {f"sample0_{g}_median_hu" for g in ("liver", "spleen", "kidney", "lung")}
    assert len(verdict.files_read) == 3 and all(len(f.sha256) == 64 for f in verdict.files_read)


def test_maisi_labels_without_a_mapping_pass_and_grade_every_hu_group(tmp_path: Path, shared_data: Path) -> None:
    reference, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz")
    from medskills.core.label_spaces import map_labels

    maisi = map_labels(reference, source="totalsegmentator", target="maisi").labels.astype(np.float32)
    verdict = grade_ct_synthesis(build_ct_synthesis_run(tmp_path / "run", shared_data, labels=maisi, mapping=None))
    assert verdict.status is Status.PASSED, verdict.failed_checks
    hu = next(t for t in verdict.tiers if t.name == "anatomy_hu_plausibility")
    assert "sample0_bone_median_hu" in {c.name for c in hu.checks}


def test_constant_image_fails_hu_plausibility(tmp_path: Path, shared_data: Path) -> None:
    ct, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    verdict = grade_ct_synthesis(build_ct_synthesis_run(tmp_path / "run", shared_data, image=np.zeros_like(ct)))
    assert "image_hu_plausibility.sample0_hu_like" in _failed(verdict)
    assert verdict.exit_code == 1


def test_id_outside_the_dictionary_fails_label_set_sanity(tmp_path: Path, shared_data: Path) -> None:
    reference, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz")
    labels, _ = ct_output_labels(reference)
    labels[0:2, 0:2, 0:2] = 200
    verdict = grade_ct_synthesis(build_ct_synthesis_run(tmp_path / "run", shared_data, labels=labels))
    assert _failed(verdict) == {"label_set_sanity.sample0_ids_known"}


def test_body_id_fails_without_a_mapping_too(tmp_path: Path, shared_data: Path) -> None:
    reference, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz")
    labels = np.where(reference == 5, 1, 0).astype(np.float32)
    labels[0:2, 0:2, 0:2] = 200
    verdict = grade_ct_synthesis(build_ct_synthesis_run(tmp_path / "run", shared_data, labels=labels, mapping=None))
    assert "label_set_sanity.sample0_ids_known" in _failed(verdict)


def test_lung_with_soft_tissue_hu_fails_anatomy_hu(tmp_path: Path, shared_data: Path) -> None:
    ct, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    reference, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz")
    image = ct.copy()
    image[np.isin(reference, [10, 11, 12, 13, 14])] = 40
    verdict = grade_ct_synthesis(build_ct_synthesis_run(tmp_path / "run", shared_data, image=image))
    assert _failed(verdict) == {"anatomy_hu_plausibility.sample0_lung_median_hu"}


def test_geometry_mismatch_fails(tmp_path: Path, shared_data: Path) -> None:
    _, affine = load_nifti(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    moved = affine.copy()
    moved[2, 3] += 3.0
    verdict = grade_ct_synthesis(build_ct_synthesis_run(tmp_path / "run", shared_data, label_affine=moved))
    assert _failed(verdict) == {"geometry_consistency.sample0_image_label_grid_match"}


def test_wrapper_claim_contradicted_by_the_files_fails_honesty(tmp_path: Path, shared_data: Path) -> None:
    ct, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    verdict = grade_ct_synthesis(build_ct_synthesis_run(tmp_path / "run", shared_data, image=np.zeros_like(ct),
                                                        claims=HONEST_CLAIMS))
    honesty = next(t for t in verdict.tiers if t.name == "honesty").checks[0]
    assert honesty.status is Status.FAILED
    assert honesty.measured == "all_images_hu_like, all_images_nonconstant"


def test_declared_anatomy_missing_from_the_labels_fails_coverage(tmp_path: Path, shared_data: Path) -> None:
    reference, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz")
    labels, _ = ct_output_labels(reference)
    labels[labels == 2] = 0  # spleen declared but absent
    verdict = grade_ct_synthesis(build_ct_synthesis_run(tmp_path / "run", shared_data, labels=labels))
    assert _failed(verdict) == {"declared_anatomy_coverage.declared_ids_present"}


def test_mapping_with_a_wrong_anatomy_name_fails(tmp_path: Path, shared_data: Path) -> None:
    reference, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz")
    _, mapping = ct_output_labels(reference)
    mapping[0] = {**mapping[0], "anatomy": "spleen"}  # id 1 is the liver in MAISI
    verdict = grade_ct_synthesis(build_ct_synthesis_run(tmp_path / "run", shared_data, mapping=mapping))
    assert "declared_anatomy_coverage.mapping_well_formed" in _failed(verdict)


@pytest.mark.parametrize("skill", ["synth-ct", "nv-generate-ct-rflow", "nv_generate_ct_from_mask",
                                   "nv-generate-ct-from-mask", "medagent.nv_generate_ct", "SYNTH-CT"])
def test_every_name_of_the_ct_synthesis_skill_is_accepted(skill: str, tmp_path: Path, shared_data: Path) -> None:
    run_dir = build_ct_synthesis_run(tmp_path / "run", shared_data, skill=skill)
    target = next(item for item in grade_ct_synthesis(run_dir).tiers if item.name == "target")
    assert target.status is Status.PASSED and target.checks[0].measured == skill


def test_foreign_skill_and_failed_run_fail_the_target_tier(tmp_path: Path, shared_data: Path) -> None:
    run_dir = build_ct_synthesis_run(tmp_path / "run", shared_data, skill="another_vendor_ct_tool")
    record = json.loads((run_dir / "result.json").read_text())
    record["status"] = "failed"
    (run_dir / "result.json").write_text(json.dumps(record))
    assert _failed(grade_ct_synthesis(run_dir)) == {"target.skill_accepted", "target.run_succeeded"}


def test_image_replaced_after_the_run_fails_the_recorded_hash(tmp_path: Path, shared_data: Path) -> None:
    run_dir = build_ct_synthesis_run(tmp_path / "run", shared_data)
    ct, affine = load_nifti(run_dir / "sample_image.nii.gz")
    import nibabel as nib

    nib.save(nib.Nifti1Image(ct + 1, affine), str(run_dir / "sample_image.nii.gz"))
    assert "artifact_inventory.recorded_hashes_match" in _failed(grade_ct_synthesis(run_dir))


def test_missing_image_is_unusable_input(tmp_path: Path, shared_data: Path) -> None:
    run_dir = build_ct_synthesis_run(tmp_path / "run", shared_data)
    (run_dir / "sample_image.nii.gz").unlink()
    with pytest.raises(InputError, match="sample_image.nii.gz.*was not found"):
        grade_ct_synthesis(run_dir)
