"""Quantitative-CT records at the API boundary: units and sides are closed sets, a range cites its source,
a finding's score is bounded, and a report survives its own JSON."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from medskills.triage.measurements import (
    LungSide,
    Measurement,
    MeasurementName,
    MeasurementUnit,
    QCTFinding,
    QCTReport,
    ReferenceRange,
)


def _finding(**fields: object) -> QCTFinding:
    values: dict[str, object] = {"name": "Pulmonary emphysema", "measurement": MeasurementName.LAA_950,
                                 "side": LungSide.BOTH, "value": 7.5, "threshold": 6.0, "unit": MeasurementUnit.PERCENT,
                                 "score": 0.625, "is_present": True, "feature": "qct_emphysema_score",
                                 "citation": "Gevenois 1996"} | fields
    return QCTFinding.model_validate(values)


def test_a_report_round_trips_through_json_with_its_units() -> None:
    volume = Measurement(name=MeasurementName.LUNG_VOLUME, value=5400.0, unit=MeasurementUnit.MILLILITRE,
                         side=LungSide.LEFT, feature="qct_lung_volume_left", is_partial=True)
    report = QCTReport(measurements=(volume,), findings=(_finding(),), is_field_of_view_partial=True,
                       border_faces=("superior",))
    dumped = report.model_dump(mode="json")
    assert dumped["measurements"][0]["unit"] == "mL" and dumped["findings"][0]["unit"] == "%"
    assert QCTReport.model_validate_json(report.model_dump_json()) == report


@pytest.mark.parametrize("fields", [{"score": 1.2}, {"score": -0.1}, {"citation": ""}, {"unit": "ml"}])
def test_a_finding_out_of_its_contract_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _finding(**fields)


def test_a_reference_range_must_cite_its_source() -> None:
    assert ReferenceRange(high=-910.0, source="Mets 2012").low is None
    with pytest.raises(ValidationError, match="source"):
        ReferenceRange(low=0.0, high=5.0, source="")
