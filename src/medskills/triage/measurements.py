"""Typed quantitative-CT measurements and rule-based findings, as they cross the API boundary.

Every value names its unit and the lung side it covers; a reference range is given only where a
publication gives one (``source`` cites it). Not for clinical use: these are engineering
measurements of an unvalidated pipeline.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from medskills.core.models import FrozenModel

__all__ = [
    "QCT_SCHEMA_VERSION",
    "LungSide",
    "Measurement",
    "MeasurementName",
    "MeasurementUnit",
    "QCTFinding",
    "QCTReport",
    "ReferenceRange",
]

QCT_SCHEMA_VERSION = "1.0"


class LungSide(StrEnum):
    """Which lung a measurement covers; ``body`` for measurements of the whole scanned body."""

    BOTH = "both"
    LEFT = "left"
    RIGHT = "right"
    BODY = "body"


class MeasurementUnit(StrEnum):
    """Units of the measurements."""

    MILLILITRE = "mL"
    HOUNSFIELD = "HU"
    PERCENT = "%"


class MeasurementName(StrEnum):
    """The closed set of quantitative-CT measurements (see ``docs/triage_qct.md``)."""

    LUNG_VOLUME = "lung_volume"
    MEAN_LUNG_DENSITY = "mean_lung_density"
    PERC15 = "perc15"
    LAA_950 = "laa_950"
    LAA_910 = "laa_910"
    HAA = "haa"
    METAL_VOLUME = "metal_volume"
    DENSE_CONTRAST_VOLUME = "dense_contrast_volume"


class ReferenceRange(FrozenModel):
    """A published normal range; ``None`` on one end means that end is open."""

    low: float | None = None
    high: float | None = None
    source: str = Field(min_length=1, description="The publication the range comes from.")


class Measurement(FrozenModel):
    """One quantitative-CT value.

    ``is_partial`` is True when the measured structure touches the edge of the field of view, so a
    volume is an underestimate and densities describe only the part that was imaged.
    """

    name: MeasurementName
    value: float | None = Field(description="None when the structure was not found (no lung voxels).")
    unit: MeasurementUnit
    side: LungSide
    feature: str = Field(description="The stacker feature carrying this value (qct_*).")
    reference_range: ReferenceRange | None = None
    is_partial: bool = False


class QCTFinding(FrozenModel):
    """A rule-based finding: a published threshold on one measurement, and a monotone score.

    ``score`` rises linearly from 0 at a measurement of 0 to 0.5 at ``threshold`` and 1 at twice the
    threshold (clipped): a documented function of the measurement, not a probability.
    """

    name: str = Field(description="Display name in the pathology vocabulary.")
    measurement: MeasurementName
    side: LungSide
    value: float | None
    threshold: float
    unit: MeasurementUnit
    score: float | None = Field(ge=0.0, le=1.0)
    is_present: bool
    feature: str = Field(description="The stacker feature carrying the score (qct_*).")
    citation: str = Field(min_length=1)


class QCTReport(FrozenModel):
    """Everything the qct member measured on one study, and what it could not see."""

    schema_version: str = QCT_SCHEMA_VERSION
    measurements: tuple[Measurement, ...]
    findings: tuple[QCTFinding, ...]
    is_field_of_view_partial: bool
    border_faces: tuple[str, ...] = Field(description="Faces of the volume the lungs touch (RAS+ names).")
    notes: tuple[str, ...] = ()
