"""The one study pipeline (``analyse_study``) and the library halves of ``triage predict`` and ``extract-features``.

Studies are the synthetic chest phantom written as an axial CT DICOM series (it passes every chest check) and the
same phantom without lungs (refused with ``lungs_not_found``). Packs hold the ``qct`` member (no weights, no torch)
and the ``fvlm`` member (never available); one pack names a present and an absent weight file.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from dicom_support.builders import chest_phantom, write_volume_series
from medskills.core.errors import ExitCode, ModelPackError, PreflightError, StudyError, UsageError
from medskills.dicom.selection import StudyRefusal
from medskills.dicom.volume import HUVolume
from medskills.triage.api.pipeline import unconfigured_loader
from medskills.triage.api.schemas import ProcessingStatus
from medskills.triage.ensemble import EnsemblePredictor, load_predictor
from medskills.triage.features import read_feature_table
from medskills.triage.pack_manifest import StackerProvenance
from medskills.triage.prediction import MemberUnavailable, Predictor, TriagePrediction
from medskills.triage.preprocessing import StudyInputs
from medskills.triage.studies import (
    analyse_study,
    check_feature_studies,
    extract_feature_table,
    predict_study,
)
from medskills.triage.study_input import IngestOptions, StudyFormat, StudySource, study_source
from triage_models_support.builders import hash_path, write_pack
from triage_service_support.predictors import FixedPredictor
from triage_service_support.study_fixtures import (  # noqa: F401  (chest_series, lungless_series, qct_pack: fixtures)
    CHEST_STUDY_UID,
    LUNGLESS_STUDY_UID,
    QCT_AND_FVLM,
    SHORT_CHEST_SLICES,
    chest_series,
    lungless_series,
    qct_pack,
)

CHEST_SERIES_UID = "1.2.826.0.1.77.1"


@pytest.fixture(scope="module")
def weighted_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``qct`` + an ``fvlm`` entry naming a present (hash-checked) checkpoint and an absent text encoder."""
    root = tmp_path_factory.mktemp("weighted_pack")
    (root / "fvlm.safetensors").write_bytes(b"stand-in checkpoint bytes")
    fvlm = {"kind": "fvlm", "checkpoint": {"path": "fvlm.safetensors", "sha256": hash_path(root / "fvlm.safetensors")},
            "text_encoder": {"path": "cxr_bert", "sha256": "0" * 64}}
    return write_pack(root, {"model_version": "weighted-1", "members": [{"kind": "qct"}, fvlm]})


class RewrittenPredictor(FixedPredictor):
    """The fixed test predictor whose answer has ``changes`` applied; records the inputs it was given."""

    def __init__(self, **changes: object) -> None:
        super().__init__()
        self.changes = changes
        self.inputs: list[StudyInputs | None] = []

    def predict(self, volume: HUVolume, *, inputs: StudyInputs | None = None) -> TriagePrediction:
        self.inputs.append(inputs)
        return super().predict(volume, inputs=inputs).model_copy(update=self.changes)


def _built_in_without_astra() -> EnsemblePredictor:
    """The built-in pack as it loads without the astra extra (qct only), so no large network loads."""
    from medskills.triage import default_pack
    from medskills.triage.ensemble import build_predictor
    from medskills.triage.pack import verify_pack

    return build_predictor(verify_pack(Path(default_pack.__file__).parent,
                                       default_pack.default_manifest(with_astra=False)))


def test_analyse_study_answers_with_the_predictions_values_when_the_study_passes(chest_series: Path) -> None:
    predictor = FixedPredictor()
    response = analyse_study(study_source(chest_series), predictor=predictor)
    assert response.processing_status is ProcessingStatus.SUCCESS and response.error_code is None
    assert (response.study_uid, response.series_uid) == (CHEST_STUDY_UID, CHEST_SERIES_UID)
    assert (response.probability_of_pathology, response.pathology, response.threshold) == (0.87, 1, 0.59)
    assert response.top_pathologies == ["Pneumonia", "Consolidation"]
    assert (response.probability_of_pathology_thoracic, response.pathology_thoracic) == (0.92, 1)
    assert response.model_version == "test-pack-1" and response.stacker_provenance is StackerProvenance.SYNTHETIC
    assert response.fitted_on is not None and response.fitted_on.study_count == 1
    assert response.members_available == ["astra_head", "tiny_mednext"]
    assert response.members_unavailable == [MemberUnavailable(name="fvlm", reason="not implemented")]
    assert response.feature_list_sha256 == "0" * 64
    assert response.series_selection is not None and response.series_selection.chosen_series_uid == CHEST_SERIES_UID
    assert response.chest_check is not None and response.chest_check.decided_by == "passed"
    assert predictor.seen == [(CHEST_SERIES_UID, (96, 96, SHORT_CHEST_SLICES))]


def test_analyse_study_hands_the_predictor_the_inputs_the_checks_derived(chest_series: Path) -> None:
    predictor = RewrittenPredictor()
    analyse_study(study_source(chest_series), predictor=predictor)
    [inputs] = predictor.inputs
    assert inputs is not None and inputs.volume.series_uid == CHEST_SERIES_UID


def test_analyse_study_drops_top_pathologies_when_the_prediction_says_no_pathology(chest_series: Path) -> None:
    predictor = RewrittenPredictor(probability_of_pathology=0.2, pathology=0, top_pathologies=["Nodule"])
    response = analyse_study(study_source(chest_series), predictor=predictor)
    assert response.pathology == 0 and response.top_pathologies == []


def test_analyse_study_keeps_top_pathologies_when_the_pack_has_no_stacker(chest_series: Path) -> None:
    predictor = RewrittenPredictor(probability_of_pathology=None, pathology=None, threshold=None,
                                   stacker_provenance=StackerProvenance.NONE, top_pathologies=["Medical material"])
    response = analyse_study(study_source(chest_series), predictor=predictor)
    assert response.pathology is None and response.top_pathologies == ["Medical material"]


def test_analyse_study_calls_the_loader_once_when_the_study_passes(chest_series: Path) -> None:
    calls: list[str] = []

    def load() -> Predictor:
        calls.append("load")
        return FixedPredictor()

    response = analyse_study(study_source(chest_series), predictor=load)
    assert calls == ["load"] and response.model_version == "test-pack-1"


def test_analyse_study_refuses_the_study_without_calling_the_loader_when_a_check_fails(lungless_series: Path) -> None:
    calls: list[str] = []

    def load() -> Predictor:
        calls.append("load")
        return FixedPredictor()

    with pytest.raises(StudyRefusal) as caught:
        analyse_study(study_source(lungless_series), predictor=load)
    assert caught.value.error_code == "lungs_not_found" and caught.value.exit_code == ExitCode.USAGE
    assert caught.value.study_uid == LUNGLESS_STUDY_UID and calls == []


def test_analyse_study_refuses_with_the_loaders_code_and_the_studys_uids_when_the_loader_refuses(
    chest_series: Path,
) -> None:
    with pytest.raises(StudyRefusal) as caught:
        analyse_study(study_source(chest_series), predictor=unconfigured_loader(None))
    refusal = caught.value
    assert refusal.error_code == "predictor_not_configured" and "MEDSKILLS_PACK_DIR" in str(refusal)
    assert (refusal.study_uid, refusal.series_uid) == (CHEST_STUDY_UID, CHEST_SERIES_UID)
    assert refusal.selection is not None and refusal.selection.chosen_series_uid == CHEST_SERIES_UID
    assert isinstance(refusal.__cause__, StudyError)


def test_analyse_study_lets_a_pack_error_of_the_loader_through_unchanged(chest_series: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelPackError) as caught:
        analyse_study(study_source(chest_series), predictor=lambda: load_predictor(tmp_path / "absent_pack"))
    assert not isinstance(caught.value, StudyError) and caught.value.exit_code == ExitCode.FAILED


def test_analyse_study_reads_with_the_given_options_when_options_are_passed(chest_series: Path) -> None:
    with pytest.raises(StudyRefusal) as caught:
        analyse_study(study_source(chest_series), predictor=FixedPredictor(), options=IngestOptions(min_slices=81))
    assert caught.value.error_code == "not_enough_slices" and "at least 81 needed" in str(caught.value)


def test_predict_study_records_absolute_paths_the_answer_and_every_weight_the_pack_names(
    chest_series: Path, weighted_pack: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(chest_series.parent)
    record = predict_study(Path(chest_series.name), pack_dir=weighted_pack.relative_to(chest_series.parent))
    assert record.source_path == chest_series and record.pack_dir == weighted_pack
    assert record.response.model_version == "weighted-1" and record.response.members_available == ["qct"]
    checkpoint, text_encoder = sorted(record.weights, key=lambda weight: weight.reference, reverse=True)
    assert (checkpoint.reference, checkpoint.path) == ("fvlm.safetensors", weighted_pack / "fvlm.safetensors")
    assert checkpoint.sha256 == hash_path(weighted_pack / "fvlm.safetensors") and checkpoint.missing_reason is None
    assert (text_encoder.reference, text_encoder.path, text_encoder.sha256) == ("cxr_bert", None, "0" * 64)
    assert text_encoder.missing_reason is not None and "does not exist" in text_encoder.missing_reason
    assert record.schema_version and record.disclaimer


def test_predict_study_reports_the_read_the_pack_load_then_each_member(chest_series: Path, qct_pack: Path) -> None:
    steps: list[tuple[int, int]] = []
    predict_study(chest_series, pack_dir=qct_pack, on_progress=lambda done, total: steps.append((done, total)))
    assert steps == [(1, 3), (2, 4), (3, 4), (4, 4)]  # read, pack loaded, qct done, fvlm (unavailable) done


def test_predict_study_answers_without_a_probability_and_no_weights_when_the_pack_has_no_stacker(
    chest_series: Path, qct_pack: Path,
) -> None:
    record = predict_study(chest_series, pack_dir=qct_pack)
    assert record.response.probability_of_pathology is None and record.response.pathology is None
    assert record.response.model_version == "qct-1" and record.weights == []
    assert any(m.name == "lung_volume" and m.side == "both" for m in record.response.measurements)


def test_predict_study_uses_the_built_in_pack_when_no_pack_dir_is_given(
    chest_series: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from medskills.triage import default_pack

    monkeypatch.setattr(default_pack, "load_default_predictor", _built_in_without_astra)
    record = predict_study(chest_series, pack_dir=None)
    assert record.pack_dir is None and record.response.model_version == default_pack.DEFAULT_MODEL_VERSION
    assert record.response.stacker_provenance is StackerProvenance.NONE and record.weights == []


def test_predict_study_refuses_the_study_before_loading_any_pack_when_a_check_fails(
    lungless_series: Path, tmp_path: Path,
) -> None:
    with pytest.raises(StudyRefusal) as caught:
        predict_study(lungless_series, pack_dir=tmp_path / "absent_pack")  # loading it would raise ModelPackError
    assert caught.value.error_code == "lungs_not_found"


def test_check_feature_studies_refuses_an_empty_list_with_a_usage_error() -> None:
    with pytest.raises(UsageError, match="at least one study path") as caught:
        check_feature_studies([], options=IngestOptions())
    assert caught.value.exit_code == ExitCode.USAGE


def test_check_feature_studies_returns_each_source_with_its_study_id_in_order(
    chest_series: Path, lungless_series: Path,
) -> None:
    found = check_feature_studies([lungless_series, chest_series], options=IngestOptions())
    assert found == [(StudySource(lungless_series, StudyFormat.DICOM_FOLDER), LUNGLESS_STUDY_UID),
                     (StudySource(chest_series, StudyFormat.DICOM_FOLDER), CHEST_STUDY_UID)]


def test_check_feature_studies_lists_every_unusable_input_when_several_fail(
    chest_series: Path, tmp_path: Path,
) -> None:
    with pytest.raises(PreflightError) as caught:
        check_feature_studies([chest_series, chest_series, tmp_path / "absent.zip"], options=IngestOptions())
    assert len(caught.value.problems) == 2
    assert "is also the id of" in caught.value.problems[0] and "does not exist" in caught.value.problems[1]


def test_extract_feature_table_writes_one_row_per_study_with_every_members_features(
    chest_series: Path, qct_pack: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    second = tmp_path_factory.mktemp("second_chest")
    write_volume_series(second, chest_phantom(seed=1), study_uid="1.2.826.0.1.79", series_uid="1.2.826.0.1.79.1")
    sources = check_feature_studies([chest_series, second], options=IngestOptions())
    steps: list[tuple[int, int]] = []
    record = extract_feature_table(sources, pack_dir=qct_pack, output_dir=tmp_path, options=IngestOptions(),
                                   on_progress=lambda done, total: steps.append((done, total)))
    assert record.table_path == tmp_path / "features.csv" and record.pack_dir == qct_pack
    assert record.studies == [CHEST_STUDY_UID, "1.2.826.0.1.79"] and steps == [(1, 2), (2, 2)]
    assert record.members_available == ["qct"] and [m.name for m in record.members_unavailable] == ["fvlm"]
    table = read_feature_table(record.table_path)
    assert list(table.study_ids) == record.studies and len(table.feature_names) == record.feature_count
    qct = [i for i, name in enumerate(table.feature_names) if name.startswith("qct_")]
    fvlm = [i for i, name in enumerate(table.feature_names) if name.startswith("fvlm_")]
    assert qct and fvlm and len(qct) + len(fvlm) == record.feature_count
    assert all(not math.isnan(table.values[row, i]) for row in range(2) for i in qct)
    assert all(math.isnan(table.values[row, i]) for row in range(2) for i in fvlm)
    with record.table_path.open() as handle:
        assert next(csv.reader(handle))[0] == "study_id"


def test_extract_feature_table_refuses_a_pack_without_a_runnable_member_before_reading_any_study(
    lungless_series: Path, tmp_path: Path,
) -> None:
    pack = write_pack(tmp_path / "fvlm_only", {"model_version": "fvlm-only", "members": [{"kind": "fvlm"}]})
    sources = check_feature_studies([lungless_series], options=IngestOptions())
    with pytest.raises(ModelPackError, match="no member that can run on this machine") as caught:
        extract_feature_table(sources, pack_dir=pack, output_dir=tmp_path, options=IngestOptions())
    assert "- fvlm: " in str(caught.value) and not (tmp_path / "features.csv").exists()


def test_extract_feature_table_writes_no_table_when_a_study_is_refused(
    chest_series: Path, lungless_series: Path, qct_pack: Path, tmp_path: Path,
) -> None:
    sources = check_feature_studies([chest_series, lungless_series], options=IngestOptions())
    with pytest.raises(StudyRefusal) as caught:
        extract_feature_table(sources, pack_dir=qct_pack, output_dir=tmp_path, options=IngestOptions())
    assert caught.value.error_code == "lungs_not_found" and caught.value.study_uid == LUNGLESS_STUDY_UID
    assert list(tmp_path.iterdir()) == []
