"""Every preflight rule fires on its own negative case, and all problems come back in one report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import medskills.dicom
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings
from medskills.segmentation.bundle import estimate_timeout_seconds
from medskills.segmentation.models import OutputType, SegmentationRequest
from medskills.segmentation.preflight import PreflightOutcome, preflight_segmentation

NO_GPU = DeviceInfo(cuda_available=False, torch_version="test")
needs_dicom_reader = pytest.mark.skipif(not hasattr(medskills.dicom, "read_dicom_series"),
                                        reason="medskills.dicom.read_dicom_series is not in this checkout yet")
PLENTY_OF_MEMORY = (10**12, "test probe")


def ct_like(shape: tuple[int, int, int] = (24, 24, 12)) -> np.ndarray:
    """Air at -1000 with a 40 HU block: finite, max > 0, HU-like."""
    array = np.full(shape, -1000, dtype=np.int16)
    array[6:18, 6:18, 3:9] = 40
    return array


def _preflight(settings: Settings, image: Path, *, device_info: DeviceInfo = NO_GPU,
               memory: tuple[int | None, str] = PLENTY_OF_MEMORY, **fields: object) -> PreflightOutcome:
    values = {"modality": "CT_BODY", "output_dir": image.parent / "out", "device": "cpu", **fields}
    request = SegmentationRequest(image_path=image, **values)
    return preflight_segmentation(request, settings=settings, device_info=device_info, memory_probe=lambda _: memory)


def _errors(outcome: PreflightOutcome) -> list[str]:
    return [check.code for check in outcome.report.errors]


def _warnings(outcome: PreflightOutcome) -> list[str]:
    """Warning codes, without the placeholder checkpoint's size warning (tested on its own)."""
    return [check.code for check in outcome.report.warnings if check.code != "weights_size_unexpected"]


@pytest.fixture()
def ready(bundle_layout: Path, settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(bundle_layout)


def test_a_good_ct_on_a_ready_machine_passes_with_a_plan(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("ct.nii.gz", ct_like()), prompts="liver,spleen")
    assert _errors(outcome) == []
    assert outcome.report.request_valid and outcome.report.environment_ready
    plan = outcome.plan
    assert plan.prompts is not None and plan.prompts.expanded_ids == [1, 3]
    assert plan.memory is not None and plan.memory.buffer_bytes == 2 * 4 * np.prod(plan.memory.shape_at_model_spacing)
    assert plan.timeout_seconds == estimate_timeout_seconds(plan.memory.windows_estimated, device_kind="cpu")
    assert plan.bundle.version == "0.0.1s" and plan.bundle.hf_revision


@pytest.mark.parametrize(("name", "code"), [("missing.nii.gz", "input_missing"), ("junk.nii.gz", "input_unreadable")])
def test_unreadable_inputs_are_refused(ready: Settings, tmp_path: Path, name: str, code: str) -> None:
    if name == "junk.nii.gz":
        (tmp_path / name).write_bytes(b"not a nifti")
    assert _errors(_preflight(ready, tmp_path / name)) == [code]


def test_a_4d_input_is_refused(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("4d.nii.gz", np.ones((8, 8, 8, 2), np.int16)))
    assert _errors(outcome) == ["input_not_3d"]


def test_a_4d_input_with_one_frame_is_accepted(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("4d1.nii.gz", ct_like()[..., None]))
    assert _errors(outcome) == []


def test_non_finite_voxels_are_refused(ready: Settings, write_volume: Callable[..., Path]) -> None:
    array = ct_like().astype(np.float32)
    array[0, 0, 0] = np.nan
    assert _errors(_preflight(ready, write_volume("nan.nii.gz", array))) == ["input_not_finite"]


def test_a_volume_with_nothing_above_zero_is_refused(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("neg.nii.gz", np.full((8, 8, 8), -1000, np.int16)))
    assert _errors(outcome) == ["input_not_positive"]


def test_a_singular_affine_is_refused(ready: Settings, tmp_path: Path) -> None:
    import nibabel as nib

    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[2, :3] = affine[1, :3]  # two voxel axes point the same way
    header = nib.Nifti1Header()
    header.set_sform(affine, code=1)
    path = tmp_path / "singular.nii.gz"
    nib.save(nib.Nifti1Image(ct_like(), None, header), path)
    assert _errors(_preflight(ready, path)) == ["input_affine_singular"]


@pytest.mark.parametrize("spacing", [0.05, 12.0])
def test_implausible_spacing_is_refused(ready: Settings, write_volume: Callable[..., Path], spacing: float) -> None:
    outcome = _preflight(ready, write_volume("sp.nii.gz", ct_like(), np.diag([spacing, 1.0, 1.0, 1.0])))
    assert _errors(outcome) == ["input_spacing_out_of_range"]


def test_a_header_without_orientation_is_refused(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("noorient.nii.gz", ct_like(), codes=(0, 0)))
    assert _errors(outcome) == ["input_no_orientation"]


def test_ct_without_air_warns_that_it_may_not_be_hu(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("offset.nii.gz", ct_like() + 1024))
    assert _errors(outcome) == [] and _warnings(outcome) == ["input_ct_not_hu"]


def test_an_unknown_modality_is_refused_with_a_suggestion(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("ct.nii.gz", ct_like()), modality="CT_BDOY")
    assert _errors(outcome) == ["modality_invalid"]
    assert "Did you mean 'CT_BODY'" in outcome.report.errors[0].message


def test_bad_prompts_are_preflight_errors(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("ct.nii.gz", ct_like()), prompts="livr,155,0")
    assert _errors(outcome) == ["prompt_unknown_name", "prompt_untrained", "prompt_background"]
    assert not outcome.report.request_valid


def test_a_raw_t1_for_mri_brain_warns_with_a_pointer_to_preprocessing(ready: Settings, shared_data: Path) -> None:
    outcome = _preflight(ready, shared_data / "mr_brain_t1" / "image.nii.gz", modality="MRI_BRAIN")
    assert _errors(outcome) == [] and _warnings(outcome) == ["mri_brain_not_preprocessed"]
    warning = outcome.report.warnings[0]
    assert "brain_t1_preprocess" in (warning.fix or "")
    failed = {h.name for h in outcome.plan.brain_heuristics if not h.is_passed}
    assert {"spacing_1mm", "intensity_0_1", "preprocess_meta_json"} <= failed


def test_a_preprocessed_looking_brain_passes_the_heuristics(ready: Settings, write_volume: Callable[..., Path]) -> None:
    # on the MNI ICBM152 grid `medskills preprocess brain` writes (the template_grid heuristic knows it)
    brain = np.zeros((197, 233, 189), np.float32)
    brain[40:140, 60:160, 40:150] = 0.7  # 1.1 L of skull-stripped, normalised "brain" at 1 mm
    mni_affine = np.array([[1.0, 0, 0, -98], [0, 1, 0, -134], [0, 0, 1, -72], [0, 0, 0, 1]])
    path = write_volume("brain_pre.nii.gz", brain, mni_affine)
    (path.parent / "brain_pre.preprocess.json").write_text(f'{{"output_path": "{path}"}}')
    outcome = _preflight(ready, path, modality="MRI_BRAIN")
    assert "mri_brain_not_preprocessed" not in _warnings(outcome)
    assert all(h.is_passed for h in outcome.plan.brain_heuristics)


def test_a_preprocessed_looking_brain_off_the_template_grid_warns(ready: Settings,
                                                                  write_volume: Callable[..., Path]) -> None:
    pytest.importorskip("nilearn", reason="the MNI152 grid comes from nilearn: pip install 'medskills[brain]'")
    brain = np.zeros((120, 120, 120), np.float32)
    brain[10:110, 10:110, 10:120] = 0.7
    path = write_volume("brain_off.nii.gz", brain, np.eye(4))
    outcome = _preflight(ready, path, modality="MRI_BRAIN")
    assert "mri_brain_not_preprocessed" in _warnings(outcome)
    assert [h.name for h in outcome.plan.brain_heuristics if not h.is_passed] == ["preprocess_meta_json",
                                                                                  "template_grid"]


def test_missing_bundle_and_weights_are_readiness_errors_naming_the_setup_command(
    settings_for: Callable[..., Settings], tmp_path: Path, write_volume: Callable[..., Path]
) -> None:
    outcome = _preflight(settings_for(tmp_path / "nowhere"), write_volume("ct.nii.gz", ct_like()), prompts="liver")
    assert _errors(outcome) == ["bundle_missing", "weights_missing"]
    assert outcome.report.request_valid and not outcome.report.environment_ready
    weights = outcome.report.errors[1]
    assert "models/model.pt" in weights.message and "medskills setup segment-ctmr" in (weights.fix or "")


def test_an_incomplete_bundle_lists_the_missing_files(
    bundle_layout: Path, settings_for: Callable[..., Settings], write_volume: Callable[..., Path]
) -> None:
    (bundle_layout / "scripts" / "inferer.py").unlink()
    outcome = _preflight(settings_for(bundle_layout), write_volume("ct.nii.gz", ct_like()))
    assert _errors(outcome) == ["bundle_missing"] and "scripts/inferer.py" in outcome.report.errors[0].message


def test_weights_far_from_the_published_size_warn(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("ct.nii.gz", ct_like()))
    assert "weights_size_unexpected" in [check.code for check in outcome.report.warnings]


def test_no_gpu_is_a_readiness_error_unless_cpu_is_chosen_or_allowed(
    bundle_layout: Path, settings_for: Callable[..., Settings], write_volume: Callable[..., Path]
) -> None:
    image = write_volume("ct.nii.gz", ct_like())
    default = _preflight(settings_for(bundle_layout), image, device=None)
    assert _errors(default) == ["no_gpu"] and default.report.request_valid
    explicit_cpu = _preflight(settings_for(bundle_layout), image, device="cpu")
    assert _errors(explicit_cpu) == []
    allowed = _preflight(settings_for(bundle_layout, allow_no_gpu=True), image, device="cuda:0")
    assert _errors(allowed) == [] and "no_gpu_allowed" in _warnings(allowed) and allowed.plan.device == "cpu"


def test_a_gpu_machine_defaults_to_cuda_0(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("ct.nii.gz", ct_like()), device=None,
                         device_info=DeviceInfo(cuda_available=True, device_name="test GPU"))
    assert outcome.plan.device == "cuda:0" and _errors(outcome) == []


def test_a_malformed_device_is_refused(ready: Settings, write_volume: Callable[..., Path]) -> None:
    assert _errors(_preflight(ready, write_volume("ct.nii.gz", ct_like()), device="gpu0")) == ["device_invalid"]


def test_a_buffer_above_free_memory_needs_yes_and_says_how_to_shrink_it(
    ready: Settings, write_volume: Callable[..., Path]
) -> None:
    image = write_volume("ct.nii.gz", ct_like())
    refused = _preflight(ready, image, memory=(1000, "tiny probe"))
    assert _errors(refused) == ["memory_over_budget"]
    assert refused.report.cost is not None and refused.report.cost.needs_confirmation
    assert "fewer prompts" in (refused.report.errors[0].fix or "") and "crop" in (refused.report.errors[0].fix or "")
    confirmed = _preflight(ready, image, memory=(1000, "tiny probe"), is_confirmed=True)
    assert _errors(confirmed) == [] and "memory_over_budget_confirmed" in _warnings(confirmed)


def test_dicom_seg_output_needs_a_dicom_input(ready: Settings, write_volume: Callable[..., Path]) -> None:
    outcome = _preflight(ready, write_volume("ct.nii.gz", ct_like()), output_type=OutputType.DICOM_SEG)
    assert _errors(outcome) == ["output_type_needs_dicom"]


def test_a_missing_ground_truth_is_refused(ready: Settings, write_volume: Callable[..., Path], tmp_path: Path) -> None:
    outcome = _preflight(ready, write_volume("ct.nii.gz", ct_like()), ground_truth_path=tmp_path / "gt.nii.gz")
    assert _errors(outcome) == ["ground_truth_missing"]


def test_a_ground_truth_folder_is_refused_as_a_folder(ready: Settings, write_volume: Callable[..., Path],
                                                       tmp_path: Path) -> None:
    outcome = _preflight(ready, write_volume("ct.nii.gz", ct_like()), ground_truth_path=tmp_path)
    assert _errors(outcome) == ["ground_truth_missing"]
    assert "is a folder, not a label map file" in outcome.report.errors[0].message


def test_a_ground_truth_that_is_not_a_3d_nifti_is_refused_before_the_run(
        ready: Settings, write_volume: Callable[..., Path], tmp_path: Path) -> None:
    text = tmp_path / "text.nii.gz"
    text.write_text("not a NIfTI")
    flat = write_volume("flat.nii.gz", np.zeros((8, 8), dtype=np.int16))
    for truth in (text, flat):
        outcome = _preflight(ready, write_volume("ct.nii.gz", ct_like()), ground_truth_path=truth)
        assert _errors(outcome) == ["ground_truth_unreadable"], truth


def test_all_problems_are_reported_together(settings_for: Callable[..., Settings], tmp_path: Path) -> None:
    outcome = _preflight(settings_for(tmp_path / "nowhere"), tmp_path / "missing.nii.gz", modality="CT",
                         prompts="livr", device="gpu", ground_truth_path=tmp_path / "gt.nii.gz")
    assert set(_errors(outcome)) >= {"modality_invalid", "bundle_missing", "prompt_unknown_name", "input_missing",
                                     "ground_truth_missing", "device_invalid", "weights_missing"}


@needs_dicom_reader
def test_a_dicom_series_folder_is_read_once_and_defaults_to_both_outputs(ready: Settings, shared_data: Path) -> None:
    outcome = _preflight(ready, shared_data / "ct_dicom_series", prompts="spleen")
    assert _errors(outcome) == []
    summary = outcome.plan.input
    assert summary is not None and summary.kind == "dicom_series" and summary.source_instance_count == 20
    assert summary.bundle_input_path.name == "series.nii.gz" and summary.geometry.shape == (512, 512, 20)
    assert outcome.plan.output_type is OutputType.BOTH


@needs_dicom_reader
def test_a_folder_without_dicom_is_refused(ready: Settings, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    assert _errors(_preflight(ready, tmp_path / "empty")) == ["input_unreadable"]


def test_a_package_the_bundle_imports_but_python_cannot_find_is_a_readiness_error_naming_pip(
    ready: Settings, write_volume: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ignite", None)  # how Python marks a module as not importable
    outcome = _preflight(ready, write_volume("ct.nii.gz", ct_like()), prompts="spleen")
    [check] = [c for c in outcome.report.errors if c.code == "bundle_packages_missing"]
    assert outcome.report.request_valid and not outcome.report.environment_ready
    assert "ignite (pip: pytorch-ignite; imported by scripts/evaluator.py)" in check.message
    assert check.fix is not None and check.fix.endswith("-m pip install pytorch-ignite")


def test_a_bundle_without_label_dict_is_complete_and_warns(
    bundle_layout: Path, settings_for: Callable[..., Settings], write_volume: Callable[..., Path]
) -> None:
    (bundle_layout / "configs" / "label_dict.json").unlink()
    outcome = _preflight(settings_for(bundle_layout), write_volume("ct.nii.gz", ct_like()), prompts="spleen")
    assert _errors(outcome) == [] and outcome.report.environment_ready
    assert outcome.plan.bundle.is_layout_complete and "label_dict_missing" in _warnings(outcome)
    assert outcome.plan.prompts is not None and outcome.plan.prompts.requested_ids == [3]
    assert "metadata.json channel_def" in outcome.plan.bundle.label_dictionary_source
