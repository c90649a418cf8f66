"""The built-in pack: qct (and Astra when installed), no stacker, measurements and rule-based findings, no probability."""

from __future__ import annotations

from pathlib import Path

import pytest

from medskills.triage.default_pack import default_manifest, is_astra_installed, load_default_predictor
from medskills.triage.ensemble import EnsemblePredictor, build_predictor
from medskills.triage.measurements import MeasurementName
from medskills.triage.pack import verify_pack
from medskills.triage.pack_manifest import MemberKind, StackerProvenance
from medskills.triage.prediction import NoModelsAvailable
from medskills.triage.studies import analyse_study
from medskills.triage.study_input import study_source

CHEST_CROP = ("ct_chest_crop_1p5mm", "image.nii.gz")


@pytest.fixture(scope="module")
def qct_only() -> EnsemblePredictor:
    """The built-in pack as it is without the astra extra (Astra's own forward is tested elsewhere)."""
    return build_predictor(verify_pack(Path("."), default_manifest(with_astra=False)))


def test_default_manifest_holds_qct_and_astra_only_when_asked() -> None:
    assert [m.kind for m in default_manifest(with_astra=False).members] == [MemberKind.QCT]
    with_astra = default_manifest(with_astra=True)
    assert [m.kind for m in with_astra.members] == [MemberKind.QCT, MemberKind.ASTRA]
    assert with_astra.stacker is None and with_astra.stacker_provenance is StackerProvenance.NONE


def test_the_loaded_default_has_astra_exactly_when_its_extra_is_installed() -> None:
    predictor = load_default_predictor()
    expected = ["qct", "astra"] if is_astra_installed() else ["qct"]
    assert predictor.members_available == expected and predictor.main is None


def test_default_answer_on_the_real_chest_crop_has_measurements_and_no_probability(
    qct_only: EnsemblePredictor, shared_data: Path
) -> None:
    response = analyse_study(study_source(shared_data.joinpath(*CHEST_CROP)), predictor=qct_only)
    assert response.processing_status == "Success"
    assert response.probability_of_pathology is None and response.pathology is None and response.threshold is None
    assert response.stacker_provenance is StackerProvenance.NONE and response.fitted_on is None
    assert response.members_available == ["qct"] and response.feature_list_sha256 is None
    names = {m.name for m in response.measurements}
    assert {MeasurementName.LUNG_VOLUME, MeasurementName.LAA_950, MeasurementName.METAL_VOLUME} <= names
    volume = next(m for m in response.measurements if m.name == MeasurementName.LUNG_VOLUME and m.side == "both")
    assert volume.value is not None and volume.value > 500 and volume.is_partial  # lungs cut by the narrow FOV
    assert response.measurement_notes and "underestimated" in response.measurement_notes[0]
    # rule-based: the crop holds sternotomy wires and a stent, so "Medical material" passes its own threshold
    assert "Medical material" in response.top_pathologies
    assert all(score.score >= score.threshold for score in response.top_pathology_scores)


def test_default_pack_refuses_a_study_when_qct_fails(qct_only: EnsemblePredictor, shared_data: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from medskills.triage.models.qct import QCTMember

    def broken(self: QCTMember, inputs: object) -> object:
        raise ValueError("simulated")

    monkeypatch.setattr(QCTMember, "compute", broken)
    with pytest.raises(NoModelsAvailable, match="qct: failed: ValueError: simulated"):
        analyse_study(study_source(shared_data.joinpath(*CHEST_CROP)), predictor=qct_only)


def test_the_chest_check_and_qct_share_one_lung_segmentation_per_study(
    qct_only: EnsemblePredictor, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import medskills.triage.lungs as lungs

    calls = []
    original = lungs.segment_lungs
    monkeypatch.setattr(lungs, "segment_lungs", lambda volume: calls.append(volume.shape) or original(volume))
    response = analyse_study(study_source(shared_data.joinpath(*CHEST_CROP)), predictor=qct_only)
    assert response.chest_check is not None and response.measurements
    assert len(calls) == 1
