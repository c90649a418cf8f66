"""The model half's answer: no probability without members, bounds on every probability, and the
no-model refusal that exits 1 (the study may be fine, the models are not)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from medskills.core.errors import ExitCode, StudyError
from medskills.triage.pack_manifest import StackerProvenance
from medskills.triage.prediction import ModelErrorCode, NoModelsAvailable, TriagePrediction


def test_no_models_available_is_a_refusal_with_exit_code_1_and_the_uids() -> None:
    error = NoModelsAvailable("every member failed: ctclip (weights missing)", study_uid="1.2", series_uid="1.2.3")
    assert isinstance(error, StudyError) and error.exit_code is ExitCode.FAILED
    assert error.error_code is ModelErrorCode.NO_MODELS_AVAILABLE
    assert (error.study_uid, error.series_uid, error.selection) == ("1.2", "1.2.3", None)


def test_a_prediction_without_a_stacker_has_no_probability() -> None:
    prediction = TriagePrediction(model_version="builtin", stacker_provenance=StackerProvenance.NONE,
                                  members_available=["qct"])
    assert prediction.probability_of_pathology is None and prediction.pathology is None
    assert prediction.top_pathologies == [] and prediction.members_unavailable == []


@pytest.mark.parametrize("fields", [
    {"members_available": []},
    {"probability_of_pathology": 1.5},
    {"pathology": 2},
    {"probability_of_pathology_thoracic": -0.1},
])
def test_an_answer_without_members_or_out_of_bounds_is_refused(fields: dict[str, object]) -> None:
    values: dict[str, object] = {"model_version": "v1", "stacker_provenance": StackerProvenance.FITTED,
                                 "members_available": ["ctclip"]} | fields
    with pytest.raises(ValidationError):
        TriagePrediction.model_validate(values)
