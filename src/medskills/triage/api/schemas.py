"""Response models of the triage API. The predict body is :class:`medskills.triage.response.InferenceResponse`."""

from __future__ import annotations

from pydantic import Field

from medskills.core.models import FrozenModel
from medskills.triage.prediction import MemberUnavailable
from medskills.triage.response import InferenceResponse, ProcessingStatus

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
