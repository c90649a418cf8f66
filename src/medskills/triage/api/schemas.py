"""Response models of the triage API: one body for success and failure on both predict endpoints.

:class:`InferenceResponse` is also what ``medskills triage predict`` prints (under ``response``):
the seed's fields (``study_uid`` ... ``time_of_processing``) keep their names and meaning; the rest
say where the answer came from: which members ran, which could not and why, the stacker's
provenance, and the pack's version and feature list.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from medskills.core.models import DISCLAIMER, FrozenModel
from medskills.dicom.selection import SeriesSelection
from medskills.triage.api.errors import ErrorCode
from medskills.triage.chest import ChestCoverage
from medskills.triage.measurements import Measurement
from medskills.triage.pack_manifest import FittedOn, StackerProvenance
from medskills.triage.prediction import FindingScore, MemberUnavailable

__all__ = ["HealthResponse", "InferenceResponse", "ProcessingStatus", "ReadyResponse", "ServiceInfo"]

SERVICE_NAME = "medskills chest-CT triage API"
API_VERSION = "2.2.0"
API_DESCRIPTION = """Chest-CT triage: upload one study (a ZIP of DICOM files to `/predict`, a NIfTI file to
`/predict_nifti`) and get one answer that says which models produced it.

Every answer lists `members_available`, `members_unavailable` (with reasons), `model_version`,
`feature_list_sha256` and `stacker_provenance`. With no model pack configured (`MEDSKILLS_PACK_DIR`
unset) the service runs its built-in pack: the quantitative-CT member `qct` (and Astra when the
`astra` extra is installed) and no stacker, so `probability_of_pathology` and `pathology` are
`null`, `stacker_provenance` is `"none"`, and the answer carries the lung measurements and the
rule-based `top_pathologies`. A probability is given only by a pack with a stacker: `"fitted"`
(trained on the labelled studies named in `fitted_on`) or `"synthetic"` (trained on generated
features: a pipeline check, not a model). A study on which no member runs is refused with
`no_models_available`, never answered.

Engineering use only; not for clinical decisions."""


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
    error_code: ErrorCode | None = None
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


class ServiceInfo(FrozenModel):
    """``GET /``."""

    status: str = "running"
    service: str = SERVICE_NAME
    version: str = API_VERSION


class HealthResponse(FrozenModel):
    """``GET /health``: the process answers (liveness only)."""

    status: str = "healthy"


class ReadyResponse(FrozenModel):
    """``GET /ready``: models loaded, which ensemble members are available (and which not, why), or why not ready."""

    ready: bool
    model_version: str | None = None
    members_available: list[str] = Field(default_factory=list)
    members_unavailable: list[MemberUnavailable] = Field(default_factory=list)
    reason: str | None = None
    queue_size: int
    queue_in_use: int
