"""The triage answer as a DICOM Structured Report (TID 1500 Measurement Report) built with highdicom.

One measurement group (TID 1501) holds every quantitative-CT measurement with its UCUM unit and its
lung as a finding site, each finding as a qualitative evaluation (present/absent), the probability
when a stacker gave one, the model version as the algorithm identification, and the disclaimer as a
comment. Standard codes (SNOMED CT, DCM, UCUM) are used where one fits; the rest use the private
scheme ``99MEDSKILLS`` with the measurement's own name, so a reader can always tell which is which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from medskills.dicom.derived_sources import with_type2_patient_study
from medskills.triage.measurements import LungSide, MeasurementName, MeasurementUnit

if TYPE_CHECKING:
    from highdicom.sr import (
        AlgorithmIdentification,
        CodedConcept,
        Comprehensive3DSR,
        FindingSite,
        Measurement,
        QualitativeEvaluation,
        TextContentItem,
    )
    from pydicom import Dataset

    from medskills.triage.api.schemas import InferenceResponse

__all__ = ["PRIVATE_SCHEME", "build_triage_report", "measurement_code"]

PRIVATE_SCHEME = "99MEDSKILLS"
ALGORITHM_NAME = "medskills chest-CT triage"
SR_SERIES_DESCRIPTION = "medskills triage report (not for clinical use)"

# MeasurementName -> (code value, scheme, meaning) of the concept name
_MEASUREMENT_CODES: dict[MeasurementName, tuple[str, str, str]] = {
    MeasurementName.LUNG_VOLUME: ("118565006", "SCT", "Volume"),
    MeasurementName.MEAN_LUNG_DENSITY: ("112031", "DCM", "Attenuation Coefficient"),
    MeasurementName.PERC15: ("perc15", PRIVATE_SCHEME, "15th percentile lung attenuation"),
    MeasurementName.LAA_950: ("laa_950", PRIVATE_SCHEME, "Lung fraction below -950 HU"),
    MeasurementName.LAA_910: ("laa_910", PRIVATE_SCHEME, "Lung fraction below -910 HU"),
    MeasurementName.HAA: ("haa", PRIVATE_SCHEME, "Lung fraction between -600 and -250 HU"),
    MeasurementName.METAL_VOLUME: ("metal_volume", PRIVATE_SCHEME, "Metal volume"),
    MeasurementName.DENSE_CONTRAST_VOLUME: ("dense_contrast_volume", PRIVATE_SCHEME, "Dense contrast volume"),
}
_UNIT_CODES: dict[MeasurementUnit, tuple[str, str]] = {
    MeasurementUnit.MILLILITRE: ("ml", "milliliter"),
    MeasurementUnit.HOUNSFIELD: ("[hnsf'U]", "Hounsfield unit"),
    MeasurementUnit.PERCENT: ("%", "percent"),
}
_SITE_CODES: dict[LungSide, tuple[str, str]] = {
    LungSide.BOTH: ("39607008", "Lung structure"),
    LungSide.LEFT: ("44029006", "Left lung structure"),
    LungSide.RIGHT: ("3341006", "Right lung structure"),
    LungSide.BODY: ("38266002", "Entire body as a whole"),
}


def build_triage_report(response: InferenceResponse, *, sources: Sequence[Dataset], series_instance_uid: str,
                        sop_instance_uid: str, series_number: int = 9901) -> Comprehensive3DSR:
    """The SR of one successful answer, in the sources' study, as a new series.

    ``sources`` are the headers of the analysed series (pixels not needed); they become the SR's
    evidence and fix its patient and study.

    Raises:
        ValueError: ``sources`` is empty or the answer is a failure (nothing to report).
    """
    import highdicom as hd
    from highdicom.sr import (
        AlgorithmIdentification,
        CodedConcept,
        Comprehensive3DSR,
        MeasurementReport,
        MeasurementsAndQualitativeEvaluations,
        ObservationContext,
        TrackingIdentifier,
    )

    if not sources:
        raise ValueError("build_triage_report needs the analysed series' headers as sources")
    if response.error_code is not None:
        raise ValueError(f"a failed answer ({response.error_code}) has nothing to report")
    algorithm = AlgorithmIdentification(name=ALGORITHM_NAME, version=response.model_version or "unknown")
    group = MeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="chest CT triage"),
        algorithm_id=algorithm,
        finding_sites=[_site(LungSide.BOTH)],
        measurements=_measurements(response, algorithm),
        qualitative_evaluations=_findings(response) or None,
    )
    report = MeasurementReport(
        observation_context=ObservationContext(),
        procedure_reported=CodedConcept("25045-6", "LN", "CT unspecified body region"),
        imaging_measurements=[group],
    )
    content = report[0]
    content.ContentSequence.append(_comment(response.disclaimer))
    return Comprehensive3DSR(
        evidence=with_type2_patient_study(sources), content=content, series_instance_uid=series_instance_uid,
        series_number=series_number, sop_instance_uid=sop_instance_uid, instance_number=1,
        manufacturer="medskills", series_description=SR_SERIES_DESCRIPTION, is_complete=True,
        is_final=False, is_verified=False)


def measurement_code(name: MeasurementName) -> CodedConcept:
    """The concept name used for ``name`` (tests and readers map back with it)."""
    from highdicom.sr import CodedConcept

    value, scheme, meaning = _MEASUREMENT_CODES[name]
    return CodedConcept(value, scheme, meaning)


def _measurements(response: InferenceResponse, algorithm: AlgorithmIdentification) -> list[Measurement]:
    from highdicom.sr import CodedConcept, Measurement

    items: list[Measurement] = []
    for measurement in response.measurements:
        if measurement.value is None:
            continue  # not found on this study; measurement_notes say why
        unit_value, unit_meaning = _UNIT_CODES[measurement.unit]
        items.append(Measurement(
            name=measurement_code(measurement.name), value=float(measurement.value),
            unit=CodedConcept(unit_value, "UCUM", unit_meaning), algorithm_id=algorithm,
            finding_sites=[_site(measurement.side)],
            qualifier=CodedConcept("partial", PRIVATE_SCHEME, "Partial: the lungs touch the field-of-view edge")
            if measurement.is_partial else None))
    if response.probability_of_pathology is not None:
        items.append(Measurement(
            name=CodedConcept("probability_of_pathology", PRIVATE_SCHEME, "Probability of pathology"),
            value=float(response.probability_of_pathology), unit=CodedConcept("1", "UCUM", "no units"),
            algorithm_id=algorithm))
    return items


def _findings(response: InferenceResponse) -> list[QualitativeEvaluation]:
    from highdicom.sr import CodedConcept, QualitativeEvaluation

    present, absent = CodedConcept("52101004", "SCT", "Present"), CodedConcept("2667000", "SCT", "Absent")
    listed = set(response.top_pathologies)
    names = [score.name for score in response.top_pathology_scores] or sorted(listed)
    return [QualitativeEvaluation(name=CodedConcept(_private_value(name), PRIVATE_SCHEME, name[:64]),
                                  value=present if name in listed else absent)
            for name in dict.fromkeys(names)]


def _site(side: LungSide) -> FindingSite:
    from highdicom.sr import CodedConcept, FindingSite

    value, meaning = _SITE_CODES[side]
    return FindingSite(anatomic_location=CodedConcept(value, "SCT", meaning))


def _comment(text: str) -> TextContentItem:
    from highdicom.sr import CodedConcept, RelationshipTypeValues, TextContentItem

    return TextContentItem(name=CodedConcept("121106", "DCM", "Comment"), value=text[:1024],
                           relationship_type=RelationshipTypeValues.CONTAINS)


def _private_value(name: str) -> str:
    """A code value (≤ 16 characters, no spaces) for a finding's display name."""
    return "".join(ch for ch in name.lower() if ch.isalnum())[:16] or "finding"
