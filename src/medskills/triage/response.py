"""The one answer for one study, given by the service's predict routes and by ``medskills triage predict``.

The seed's fields (``study_uid`` ... ``time_of_processing``) keep their names and meaning; the rest
say where the answer came from: which members ran, which could not and why, the stacker's
provenance, and the pack's version and feature list.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from medskills.core.models import DISCLAIMER, FrozenModel
from medskills.dicom.errors import TriageErrorCode
from medskills.dicom.selection import SeriesSelection
from medskills.triage.chest import ChestCoverage
from medskills.triage.measurements import Measurement
from medskills.triage.pack_manifest import FittedOn, StackerProvenance
from medskills.triage.prediction import FindingScore, MemberUnavailable, ModelErrorCode

__all__ = ["InferenceResponse", "ProcessingStatus"]


class ProcessingStatus(StrEnum):
    """Outcome of one predict request."""

    SUCCESS = "Success"
    FAILURE = "Failure"


class InferenceResponse(FrozenModel):
    """The body of every ``/predict`` and ``/predict_nifti`` answer, success or failure.

    Prediction fields are null on failure; ``error`` and ``error_code`` are null on success.
    ``probability_of_pathology`` and ``pathology`` are also null on success when the pack has no
    stacker (``stacker_provenance == "none"``); with ``"synthetic"`` the probability is a pipeline
    check from a stacker fitted to generated features, not a model output.
    ``time_of_processing`` is the server's wall time for the request in seconds.
    """

    study_uid: str = ""
    series_uid: str = ""
    probability_of_pathology: float | None = Field(default=None, ge=0.0, le=1.0)
    pathology: int | None = Field(default=None, ge=0, le=1)
    top_pathologies: list[str] = Field(default_factory=list)
    probability_of_pathology_thoracic: float | None = Field(default=None, ge=0.0, le=1.0)
    pathology_thoracic: int | None = Field(default=None, ge=0, le=1)
    processing_status: ProcessingStatus
    time_of_processing: float
    error: str | None = None
    error_code: TriageErrorCode | ModelErrorCode | None = None
    series_selection: SeriesSelection | None = None
    nested_archives_ignored: list[str] = Field(default_factory=list)
    chest_check: ChestCoverage | None = Field(default=None, description="Lung coverage and the rule that decided.")
    model_version: str | None = None
    stacker_provenance: StackerProvenance | None = None
    fitted_on: FittedOn | None = None
    threshold: float | None = None
    members_available: list[str] = Field(default_factory=list)
    members_unavailable: list[MemberUnavailable] = Field(default_factory=list)
    feature_list_sha256: str | None = None
    measurements: list[Measurement] = Field(
        default_factory=list, description="Quantitative-CT values (qct member): name, value, unit, side, reference "
        "range where one is published; is_partial when the lungs touch the edge of the field of view.")
    measurement_notes: list[str] = Field(default_factory=list, description="What the measurements could not see.")
    top_pathology_scores: list[FindingScore] = Field(default_factory=list)
    disclaimer: str = DISCLAIMER
