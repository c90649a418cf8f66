"""The predictor interface the triage service calls, and its typed result."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import Field

from medskills.core.models import FrozenModel
from medskills.dicom.volume import HUVolume

__all__ = ["FindingScore", "Predictor", "TriagePrediction"]


class FindingScore(FrozenModel):
    """One ranked finding behind ``top_pathologies``: its score and the threshold it passed."""

    name: str
    group: str
    score: float
    threshold: float


class TriagePrediction(FrozenModel):
    """What the model half returns for one study.

    ``probability_of_pathology`` is the main stacker's P(pathology); ``pathology`` is
    ``probability >= threshold``. Thoracic fields are ``None`` when the pack has no thoracic stacker.
    ``top_pathologies`` is empty when ``pathology == 0``.
    """

    probability_of_pathology: float = Field(ge=0.0, le=1.0)
    pathology: int = Field(ge=0, le=1)
    threshold: float
    top_pathologies: list[str] = Field(default_factory=list)
    probability_of_pathology_thoracic: float | None = Field(default=None, ge=0.0, le=1.0)
    pathology_thoracic: int | None = Field(default=None, ge=0, le=1)
    threshold_thoracic: float | None = None
    model_version: str
    members_available: list[str] = Field(default_factory=list)
    members_unavailable: list[str] = Field(default_factory=list)
    member_unavailable_reasons: dict[str, str] = Field(default_factory=dict)
    feature_list_sha256: str | None = None
    top_pathology_scores: list[FindingScore] = Field(default_factory=list)


@runtime_checkable
class Predictor(Protocol):
    """Anything that turns one canonical HU volume into a :class:`TriagePrediction`.

    Implementations load their models once, at construction, and must be safe to call from a
    worker thread.
    """

    @property
    def model_version(self) -> str: ...

    @property
    def members_available(self) -> list[str]: ...

    def predict(self, volume: HUVolume) -> TriagePrediction: ...
