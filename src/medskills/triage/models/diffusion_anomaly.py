"""Diffusion anomaly detector member (report §C.3): defined, NOT implemented in this release.

Place in the ensemble: after MedNeXt, before the stacker. Contract when implemented: a guided-
diffusion ``EncoderUNetModel`` noise-aware classifier (image 256, 1 input channel, 2 outputs) read
with ``weights_only=True`` from ``classifier``; it scores every axial slice between 5 % and 95 % of
the body's superior-inferior extent (computed on the canonical volume, not on padded slices) at
timestep 0, and reports the mean, maximum and standard deviation of P(abnormal) over slices.
Until then the member is always unavailable and its three features are NaN (never 0).
"""

from __future__ import annotations

from medskills.triage.models._member import UnavailableMember
from medskills.triage.pack import LoadedPack
from medskills.triage.pack_manifest import DiffusionAnomalyMemberSpec

__all__ = ["NOT_IMPLEMENTED_REASON", "diffusion_feature_names", "load_diffusion_anomaly_member"]

NOT_IMPLEMENTED_REASON = (
    "the diffusion anomaly detector (guided-diffusion EncoderUNetModel) is not implemented in this release; "
    "its features are NaN"
)


def diffusion_feature_names(spec: DiffusionAnomalyMemberSpec) -> tuple[str, ...]:
    """``<name>_classifier_{mean,max,std}_probability``."""
    return tuple(f"{spec.name}_classifier_{stat}_probability" for stat in ("mean", "max", "std"))


def load_diffusion_anomaly_member(pack: LoadedPack, spec: DiffusionAnomalyMemberSpec) -> UnavailableMember:
    """Always an unavailable member with NaN features (see the module docstring)."""
    return UnavailableMember(spec.name, diffusion_feature_names(spec), NOT_IMPLEMENTED_REASON, {})
