"""Judge the candidate series of one study and choose one, recording why each was kept or refused.

The DICOM layer owns the mechanics every volume needs (single-frame slices of one size, one
orientation, regular spacing, no tilt). What a capability accepts and prefers (modality, plane,
image type, kernel, thickness) is a :class:`SeriesPolicy` passed in; :class:`AnySeriesPolicy`
accepts any modality and plane and prefers the series with the most slices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from medskills.core.models import FrozenModel
from medskills.dicom.errors import DicomErrorCode, SeriesSelectionError
from medskills.dicom.geometry import AcquisitionPlane, GeometryRefusal, plane_of, stack_slices
from medskills.dicom.headers import DicomInstance, SeriesGroup

__all__ = [
    "MIN_SLICES",
    "AnySeriesPolicy",
    "PolicyVerdict",
    "SelectedSeries",
    "SeriesCandidate",
    "SeriesFacts",
    "SeriesPolicy",
    "SeriesSelection",
    "facts_of",
    "select_series",
]

MIN_SLICES = 2
"""Fewest slices that still define a slice spacing (and so a volume)."""


@dataclass(frozen=True)
class SeriesFacts:
    """What a policy may judge a series by, read from its headers (no pixels decoded).

    ``plane`` is None when ImageOrientationPatient is missing; the mechanics then refuse the series.
    """

    series_uid: str
    slice_count: int
    modalities: frozenset[str]
    image_types: frozenset[str]
    plane: AcquisitionPlane | None
    kernel: str
    slice_thickness_mm: float | None


@dataclass(frozen=True)
class PolicyVerdict:
    """A policy's answer: a refusal code (None = acceptable), the reasons, and a rank (higher wins)."""

    rejection_code: str | None
    reasons: tuple[str, ...]
    rank: tuple[float, ...] = ()


class SeriesPolicy(Protocol):
    """Which series a capability accepts and which it prefers. Codes are the capability's own."""

    @property
    def min_slices(self) -> int:
        """Fewest slices a usable series has (at least :data:`MIN_SLICES` is always required)."""
        ...

    def judge(self, facts: SeriesFacts) -> PolicyVerdict:
        """Refuse ``facts`` with a code and a reason, or accept them with a rank."""
        ...


@dataclass(frozen=True)
class AnySeriesPolicy:
    """Accept any modality and plane; prefer the series with the most slices."""

    min_slices: int = MIN_SLICES

    def judge(self, facts: SeriesFacts) -> PolicyVerdict:
        """Accept every series; rank by slice count."""
        modality = "/".join(sorted(facts.modalities)) or "<none>"
        plane = facts.plane.value if facts.plane else "unknown"
        return PolicyVerdict(rejection_code=None, reasons=(f"modality {modality}, {plane} plane",),
                             rank=(float(facts.slice_count),))


class SeriesCandidate(FrozenModel):
    """One series as judged by selection; ``rejection_code`` is set when it cannot be used."""

    series_uid: str
    slice_count: int
    modality: str
    plane: AcquisitionPlane | None = None
    kernel: str
    slice_thickness_mm: float | None
    slice_spacing_mm: float | None
    reasons: list[str]
    rejection_code: str | None = None


class SeriesSelection(FrozenModel):
    """The chosen series (if any) and every candidate with its reasons."""

    chosen_series_uid: str | None
    candidates: list[SeriesCandidate]


@dataclass(frozen=True)
class SelectedSeries:
    """The chosen group, its instances sorted along the slice normal, and the report."""

    group: SeriesGroup
    instances: tuple[DicomInstance, ...]
    slice_spacing_mm: float
    selection: SeriesSelection


@dataclass(frozen=True)
class _Judged:
    candidate: SeriesCandidate
    group: SeriesGroup
    ordered: tuple[DicomInstance, ...]
    rank: tuple[float, ...]


def select_series(groups: list[SeriesGroup], *, policy: SeriesPolicy | None = None) -> SelectedSeries:
    """Judge every series under ``policy`` (default :class:`AnySeriesPolicy`) and return the best usable one.

    Raises:
        SeriesSelectionError: no series is usable; the code is the refusal of the largest series,
            and ``selection`` carries every candidate's reasons.
    """
    policy = policy or AnySeriesPolicy()
    judged = [_judge(group, policy) for group in groups]
    usable = [j for j in judged if j.candidate.rejection_code is None]
    best = max(usable, key=lambda j: j.rank) if usable else None
    candidates = [j.candidate for j in judged]
    selection = SeriesSelection(chosen_series_uid=best.group.series_uid if best else None, candidates=candidates)
    if best is None or best.candidate.slice_spacing_mm is None:
        largest = max(judged, key=lambda j: j.candidate.slice_count)
        code = largest.candidate.rejection_code or DicomErrorCode.NO_USABLE_SERIES
        summary = "; ".join(f"series {c.series_uid or '<blank>'} ({c.slice_count} slices): {c.reasons[-1]}"
                            for c in candidates)
        raise SeriesSelectionError(f"no usable series in the study: {summary}", error_code=code, selection=selection)
    return SelectedSeries(group=best.group, instances=best.ordered, slice_spacing_mm=best.candidate.slice_spacing_mm,
                          selection=selection)


def facts_of(group: SeriesGroup) -> SeriesFacts:
    """The header facts of ``group`` a policy judges (first instance for per-series tags)."""
    first = group.instances[0]
    return SeriesFacts(
        series_uid=group.series_uid, slice_count=len(group.instances),
        modalities=frozenset(i.modality for i in group.instances),
        image_types=frozenset(t for i in group.instances for t in i.image_type),
        plane=plane_of(first.orientation), kernel=first.kernel, slice_thickness_mm=first.slice_thickness_mm,
    )


def _judge(group: SeriesGroup, policy: SeriesPolicy) -> _Judged:
    facts = facts_of(group)
    verdict = policy.judge(facts)
    reasons = list(verdict.reasons)
    code: str | None = verdict.rejection_code
    ordered, spacing = group.instances, None
    if code is None:
        try:
            _check_frames(group.instances, min_slices=max(policy.min_slices, MIN_SLICES), reasons=reasons)
            stack = stack_slices(group.instances)
            ordered, spacing = stack.instances, stack.slice_spacing_mm
            reasons.extend(stack.reasons)
        except GeometryRefusal as refusal:
            code = refusal.code
            reasons.append(f"refused: {refusal.reason}")
    first = group.instances[0]
    candidate = SeriesCandidate(
        series_uid=group.series_uid, slice_count=facts.slice_count, modality="/".join(sorted(facts.modalities)),
        plane=facts.plane, kernel=first.kernel, slice_thickness_mm=first.slice_thickness_mm, slice_spacing_mm=spacing,
        reasons=reasons, rejection_code=code,
    )
    return _Judged(candidate=candidate, group=group, ordered=ordered, rank=verdict.rank)


def _check_frames(instances: tuple[DicomInstance, ...], *, min_slices: int, reasons: list[str]) -> None:
    if any(i.number_of_frames > 1 for i in instances):
        raise GeometryRefusal(DicomErrorCode.MULTIFRAME_UNSUPPORTED, "multi-frame instances are not supported; "
                              "export the series as one file per slice")
    if len(instances) < min_slices:
        raise GeometryRefusal(DicomErrorCode.NOT_ENOUGH_SLICES, f"{len(instances)} slices, at least {min_slices} "
                              "needed")
    reasons.append(f"{len(instances)} slices (>= {min_slices})")
