"""Quantitative-CT member (``qct``): lung densitometry, metal volume and rule-based findings.

No learned weights: every feature is a measurement a radiologist can check (``docs/triage_qct.md``).
Findings apply published thresholds; each score is ``clip(value / (2 * threshold), 0, 1)``, a
monotone function of the measurement that equals 0.5 at the threshold (the vocabulary's default
cut-off), not a probability.

Citations:
- Emphysema: %LAA-950 >= 5 % of lung volume. The -950 HU threshold was validated against
  morphometry by Gevenois PA et al., Am J Respir Crit Care Med 1996;154:187-192; the 5 % cut-off
  is the COPDGene definition of quantitative emphysema, as stated by Amaza IP et al., Int J Chron
  Obstruct Pulmon Dis 2021;16:1231-1242 (doi:10.2147/COPD.S284477).
- Medical material: the finding name is the CT-RATE abnormality class (Hamamci IE et al.,
  arXiv:2403.17834, 2024); the 0.1 mL floor is ours (no published threshold exists): the smallest
  metal volume counted as a device rather than noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from medskills.triage.densitometry import LungDensity, hu_histogram, measure_density, split_sides
from medskills.triage.lungs import LungSegmentation, study_lungs
from medskills.triage.measurements import (
    LungSide,
    Measurement,
    MeasurementName,
    MeasurementUnit,
    QCTFinding,
    QCTReport,
    ReferenceRange,
)
from medskills.triage.metal import DenseRule, MetalSegmentation, segment_metal
from medskills.triage.preprocessing import StudyInputs

__all__ = [
    "EMPHYSEMA_LAA_950_PERCENT",
    "MEDICAL_MATERIAL_FLOOR_ML",
    "QCT_FINDING_SOURCES",
    "QCTMember",
    "finding_score",
    "load_qct_member",
    "qct_feature_names",
]

EMPHYSEMA_LAA_950_PERCENT = 5.0
MEDICAL_MATERIAL_FLOOR_ML = 0.1
EMPHYSEMA_CITATION = (
    "%LAA-950 >= 5 %: COPDGene definition (Amaza et al., Int J COPD 2021;16:1231); -950 HU validated by "
    "Gevenois et al., AJRCCM 1996;154:187"
)
MATERIAL_CITATION = "class name from CT-RATE (Hamamci et al., arXiv:2403.17834); 0.1 mL floor is ours"
LAA_950_REFERENCE = ReferenceRange(high=EMPHYSEMA_LAA_950_PERCENT, source=EMPHYSEMA_CITATION)

_DENSITY_FIELDS = (
    (MeasurementName.LUNG_VOLUME, MeasurementUnit.MILLILITRE, "volume_ml"),
    (MeasurementName.MEAN_LUNG_DENSITY, MeasurementUnit.HOUNSFIELD, "mean_hu"),
    (MeasurementName.PERC15, MeasurementUnit.HOUNSFIELD, "perc15_hu"),
    (MeasurementName.LAA_950, MeasurementUnit.PERCENT, "laa_950_percent"),
    (MeasurementName.LAA_910, MeasurementUnit.PERCENT, "laa_910_percent"),
    (MeasurementName.HAA, MeasurementUnit.PERCENT, "haa_percent"),
)
_SIDES = (LungSide.BOTH, LungSide.LEFT, LungSide.RIGHT)
_EMPHYSEMA = "Pulmonary emphysema"
_MATERIAL = "Medical material"
QCT_FINDING_SOURCES: Mapping[str, str] = {"qct_emphysema_score": _EMPHYSEMA, "qct_medical_material_score": _MATERIAL}


class _NamedSpec(Protocol):
    @property
    def name(self) -> str: ...


def finding_score(value: float | None, threshold: float) -> float | None:
    """``clip(value / (2 * threshold), 0, 1)``: 0 at 0, 0.5 at the threshold, 1 from twice it on."""
    if value is None or np.isnan(value):
        return None
    return float(np.clip(value / (2.0 * threshold), 0.0, 1.0))


def qct_feature_names(prefix: str = "qct") -> tuple[str, ...]:
    """Stacker features: each density measurement per side, metal volumes, the partial-view flag, scores."""
    names = [f"{prefix}_{name}_{side}" for name, _, _ in _DENSITY_FIELDS for side in _SIDES]
    names += [f"{prefix}_{MeasurementName.METAL_VOLUME}", f"{prefix}_{MeasurementName.DENSE_CONTRAST_VOLUME}",
              f"{prefix}_field_of_view_partial", f"{prefix}_emphysema_score", f"{prefix}_medical_material_score"]
    return tuple(names)


@dataclass(frozen=True)
class _StudyMeasures:
    lungs: LungSegmentation
    metal: MetalSegmentation
    densities: dict[LungSide, LungDensity]


class QCTMember:
    """The qct ensemble member; ``measure`` gives the typed report, ``compute`` the feature row."""

    def __init__(self, name: str = "qct") -> None:
        self.name = name
        self.feature_names = qct_feature_names(name)
        self.finding_sources: Mapping[str, str] = {f"{name}_{k.removeprefix('qct_')}": v
                                                   for k, v in QCT_FINDING_SOURCES.items()}

    def measure(self, inputs: StudyInputs) -> QCTReport:
        """Measure one study once (memoised in ``inputs``, shared with :meth:`compute`)."""
        return inputs.derive(("qct-report", self.name), lambda: self._report(_measure_study(inputs)))

    def compute(self, inputs: StudyInputs) -> npt.NDArray[np.float64]:
        """The :func:`qct_feature_names` values, in order (NaN where a lung side is empty)."""
        report = self.measure(inputs)
        by_feature = {m.feature: m.value for m in report.measurements}
        by_feature.update({f.feature: f.score for f in report.findings})
        by_feature[f"{self.name}_field_of_view_partial"] = float(report.is_field_of_view_partial)
        return np.asarray([np.nan if by_feature[n] is None else by_feature[n] for n in self.feature_names],
                          dtype=np.float64)

    def _report(self, measures: _StudyMeasures) -> QCTReport:
        partial = measures.lungs.detection.is_field_of_view_partial
        metal_ml = measures.metal.volume_ml(DenseRule.METAL)
        contrast_ml = measures.metal.volume_ml(DenseRule.DENSE_CONTRAST)
        measurements = [*self._lung_measurements(measures.densities, is_partial=partial),
                        self._body_measurement(MeasurementName.METAL_VOLUME, metal_ml, is_partial=partial),
                        self._body_measurement(MeasurementName.DENSE_CONTRAST_VOLUME, contrast_ml, is_partial=partial)]
        laa = _finite(measures.densities[LungSide.BOTH].laa_950_percent)
        findings = (
            _finding(_EMPHYSEMA, MeasurementName.LAA_950, LungSide.BOTH, laa, EMPHYSEMA_LAA_950_PERCENT,
                     MeasurementUnit.PERCENT, f"{self.name}_emphysema_score", EMPHYSEMA_CITATION),
            _finding(_MATERIAL, MeasurementName.METAL_VOLUME, LungSide.BODY, metal_ml, MEDICAL_MATERIAL_FLOOR_ML,
                     MeasurementUnit.MILLILITRE, f"{self.name}_medical_material_score", MATERIAL_CITATION),
        )
        faces = tuple(str(face) for face in measures.lungs.detection.border_faces)
        notes = ("the lungs touch the edge of the field of view: lung volumes are underestimated and densities "
                 "describe only the imaged part",) if partial else ()
        return QCTReport(measurements=tuple(measurements), findings=findings, is_field_of_view_partial=partial,
                         border_faces=faces, notes=notes)

    def _lung_measurements(self, densities: Mapping[LungSide, LungDensity], *, is_partial: bool) -> list[Measurement]:
        return [
            Measurement(name=name, value=_finite(getattr(densities[side], field)), unit=unit, side=side,
                        feature=f"{self.name}_{name}_{side}",
                        is_partial=is_partial and name == MeasurementName.LUNG_VOLUME,
                        reference_range=LAA_950_REFERENCE if name == MeasurementName.LAA_950 else None)
            for name, unit, field in _DENSITY_FIELDS for side in _SIDES
        ]

    def _body_measurement(self, name: MeasurementName, value_ml: float, *, is_partial: bool) -> Measurement:
        return Measurement(name=name, value=value_ml, unit=MeasurementUnit.MILLILITRE, side=LungSide.BODY,
                           feature=f"{self.name}_{name}", is_partial=is_partial)


def _finite(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _finding(name: str, measurement: MeasurementName, side: LungSide, value: float | None, threshold: float,
             unit: MeasurementUnit, feature: str, citation: str) -> QCTFinding:
    return QCTFinding(name=name, measurement=measurement, side=side, value=value, threshold=threshold, unit=unit,
                      score=finding_score(value, threshold), is_present=value is not None and value >= threshold,
                      feature=feature, citation=citation)


def _measure_study(inputs: StudyInputs) -> _StudyMeasures:
    """Lungs and metal on the two cores (scipy and numpy release the GIL), then the histograms."""
    from concurrent.futures import ThreadPoolExecutor

    volume = inputs.volume
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="qct") as pool:
        metal_job = pool.submit(segment_metal, volume)
        lungs = study_lungs(inputs)
        split = split_sides(lungs.field)
        left_job = pool.submit(_histogram_of, volume.array[:split], lungs.field[:split])
        right = _histogram_of(volume.array[split:], lungs.field[split:])
        left, metal = left_job.result(), metal_job.result()
    voxel_ml = float(np.prod(volume.spacing_mm)) / 1000.0
    densities = {LungSide.BOTH: measure_density(left + right, voxel_ml), LungSide.LEFT: measure_density(left, voxel_ml),
                 LungSide.RIGHT: measure_density(right, voxel_ml)}
    return _StudyMeasures(lungs, metal, densities)


def _histogram_of(array: npt.NDArray[np.float32], field: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    return hu_histogram(array[field])


def load_qct_member(pack: object, spec: _NamedSpec) -> QCTMember:
    """Build the member for a pack entry (no weights to load; only the member name is used)."""
    del pack  # no weight files: the member is the same in every pack
    return QCTMember(spec.name)
