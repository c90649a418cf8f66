"""What every ensemble member provides, and the stand-in for a member that cannot run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from medskills.triage.pack_manifest import feature_slug
from medskills.triage.preprocessing import StudyInputs

__all__ = [
    "EnsembleMember",
    "UnavailableMember",
    "class_sources",
    "nan_features",
    "probability_feature_names",
    "probability_features",
]

_AGGREGATES = ("mean_probability", "max_probability", "top3_mean")


@runtime_checkable
class EnsembleMember(Protocol):
    """One loaded model. ``feature_names`` are fixed at load; ``compute`` returns them in order."""

    @property
    def name(self) -> str: ...

    @property
    def feature_names(self) -> tuple[str, ...]: ...

    @property
    def finding_sources(self) -> Mapping[str, str]:
        """Feature name -> the class/prompt display name it scores (for ``top_pathologies``)."""
        ...

    def compute(self, inputs: StudyInputs) -> npt.NDArray[np.float64]: ...


def nan_features(count: int) -> npt.NDArray[np.float64]:
    """A row of NaN: the value of every feature of a member that did not run (never 0)."""
    return np.full(count, np.nan, dtype=np.float64)


@dataclass(frozen=True)
class UnavailableMember:
    """A member that is configured but cannot run; its features are NaN and ``reason`` says why."""

    name: str
    feature_names: tuple[str, ...]
    reason: str
    finding_sources: Mapping[str, str]

    def compute(self, inputs: StudyInputs) -> npt.NDArray[np.float64]:
        """Always NaN."""
        return nan_features(len(self.feature_names))


def probability_feature_names(prefix: str, classes: Sequence[str]) -> tuple[str, ...]:
    """``<prefix>_<slug>`` per class, then ``<prefix>_mean_probability``, ``_max_probability``, ``_top3_mean``.

    Aggregates skip classes whose name contains "normal" (as the reference stacker did).
    """
    return tuple(f"{prefix}_{feature_slug(c)}" for c in classes) + tuple(f"{prefix}_{a}" for a in _AGGREGATES)


def probability_features(classes: Sequence[str], probabilities: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Per-class probabilities followed by the three aggregates of :func:`probability_feature_names`."""
    values = np.asarray(probabilities, dtype=np.float64)
    abnormal = values[[i for i, c in enumerate(classes) if "normal" not in c.lower()]]
    if abnormal.size == 0:
        aggregates = [np.nan, np.nan, np.nan]
    else:
        top = np.sort(abnormal)[::-1][:3]
        aggregates = [float(abnormal.mean()), float(abnormal.max()), float(top.mean())]
    return np.concatenate([values, np.asarray(aggregates, dtype=np.float64)])


def class_sources(prefix: str, classes: Sequence[str]) -> dict[str, str]:
    """Feature name -> display name for per-class features."""
    return {f"{prefix}_{feature_slug(c)}": c for c in classes}
