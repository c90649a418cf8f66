"""The predictor interface the triage service calls, its typed result, and the no-model refusal."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import Field

from medskills.core.errors import ExitCode
from medskills.dicom.errors import StudyRefusal
from medskills.core.models import FrozenModel
from medskills.dicom.volume import HUVolume
from medskills.triage.measurements import Measurement
from medskills.triage.pack_manifest import FittedOn, StackerProvenance
from medskills.triage.preprocessing import StudyInputs

__all__ = [
    "FindingScore",
    "MemberUnavailable",
    "ModelErrorCode",
    "NoModelsAvailable",
    "Predictor",
    "TriagePrediction",
]


class ModelErrorCode(StrEnum):
    """Refusals that come from the model half, not from the study (exit 1, not 2)."""

    NO_MODELS_AVAILABLE = "no_models_available"


class NoModelsAvailable(StudyRefusal):
    """Every member of the pack failed or was unavailable on a study: there is no answer to give.

    A refusal so the service and the CLI report it like any other (with its ``error_code`` and the
    study's UIDs), but with exit code 1: the study may be fine, the models are not.
    """

    exit_code = ExitCode.FAILED

    def __init__(self, message: str, *, study_uid: str = "", series_uid: str = "") -> None:
        super().__init__(message, error_code=ModelErrorCode.NO_MODELS_AVAILABLE, selection=None,
                         study_uid=study_uid, series_uid=series_uid)


class FindingScore(FrozenModel):
    """One ranked finding behind ``top_pathologies``: its score and the threshold it passed."""

    name: str
    group: str
    score: float
    threshold: float


class MemberUnavailable(FrozenModel):
    """A configured member that gave no features for this study, and why."""

    name: str
    reason: str


class TriagePrediction(FrozenModel):
    """What the model half returns for one study.

    ``probability_of_pathology`` is the main stacker's P(pathology) and ``pathology`` is
    ``probability >= threshold``; all three are ``None`` when the pack has no stacker
    (``stacker_provenance == "none"``). A ``synthetic`` stacker's probability is a pipeline check,
    not a model output. Thoracic fields are ``None`` without a thoracic stacker.
    ``top_pathologies`` is empty when ``pathology == 0``; without a stacker it lists the findings
    whose own scores pass their thresholds.
    """

    probability_of_pathology: float | None = Field(default=None, ge=0.0, le=1.0)
    pathology: int | None = Field(default=None, ge=0, le=1)
    threshold: float | None = None
    top_pathologies: list[str] = Field(default_factory=list)
    probability_of_pathology_thoracic: float | None = Field(default=None, ge=0.0, le=1.0)
    pathology_thoracic: int | None = Field(default=None, ge=0, le=1)
    threshold_thoracic: float | None = None
    model_version: str
    stacker_provenance: StackerProvenance
    fitted_on: FittedOn | None = None
    members_available: list[str] = Field(min_length=1)
    members_unavailable: list[MemberUnavailable] = Field(default_factory=list)
    feature_list_sha256: str | None = None
    measurements: list[Measurement] = Field(default_factory=list)
    measurement_notes: list[str] = Field(default_factory=list)
    top_pathology_scores: list[FindingScore] = Field(default_factory=list)


@runtime_checkable
class Predictor(Protocol):
    """Anything that turns one canonical HU volume into a :class:`TriagePrediction`.

    Implementations load their models once, at construction, and must be safe to call from a
    worker thread. ``predict`` raises :class:`NoModelsAvailable` rather than answer without a model.
    ``inputs`` carries what the pipeline already derived from ``volume`` (its lung segmentation),
    so members reuse it instead of computing it again.
    """

    @property
    def model_version(self) -> str: ...

    @property
    def members_available(self) -> list[str]: ...

    @property
    def members_unavailable(self) -> list[MemberUnavailable]: ...

    def predict(self, volume: HUVolume, *, inputs: StudyInputs | None = None) -> TriagePrediction: ...
