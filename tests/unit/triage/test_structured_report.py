"""The SR builder refuses a failed answer and empty sources; absent values are left out, not zeroed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.triage.api.schemas import InferenceResponse, ProcessingStatus
from medskills.triage.measurements import Measurement, MeasurementName
from medskills.triage.structured_report import build_triage_report, measurement_code

from dicom_support.builders import write_volume_series


@pytest.fixture()
def sources(tmp_path: Path) -> list:
    import pydicom

    from medskills.dicom.volume import HUVolume

    volume = HUVolume(array=np.zeros((8, 8, 3), np.float32), affine=np.eye(4), spacing_mm=(1.0, 1.0, 1.0))
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in write_volume_series(tmp_path, volume)]


def _answer(**fields: object) -> InferenceResponse:
    values = {"study_uid": "1.2", "series_uid": "1.2.1", "processing_status": ProcessingStatus.SUCCESS,
              "time_of_processing": 1.0, "model_version": "m-1", **fields}
    return InferenceResponse(**values)  # type: ignore[arg-type]


def test_absent_values_are_left_out_and_present_ones_kept(sources: list) -> None:
    import highdicom as hd

    measurements = [Measurement(name=MeasurementName.LUNG_VOLUME, value=4100.5, unit="mL", side="both",
                                feature="qct_lung_volume_ml"),
                    Measurement(name=MeasurementName.LAA_950, value=None, unit="%", side="both", feature="qct_laa")]
    report = build_triage_report(_answer(measurements=measurements), sources=sources,
                                 series_instance_uid=hd.UID(), sop_instance_uid=hd.UID())
    [group] = hd.sr.MeasurementReport.from_sequence([report]).get_image_measurement_groups()
    [only] = group.get_measurements()
    assert only.name == measurement_code(MeasurementName.LUNG_VOLUME) and only.value == 4100.5
    assert "PatientBirthDate" not in sources[0]  # the caller's headers were not modified


def test_failed_answer_and_empty_sources_are_refused(sources: list) -> None:
    with pytest.raises(ValueError, match="nothing to report"):
        build_triage_report(_answer(processing_status=ProcessingStatus.FAILURE, error_code="lungs_not_found"),
                            sources=sources, series_instance_uid="1.2.3", sop_instance_uid="1.2.4")
    with pytest.raises(ValueError, match="sources"):
        build_triage_report(_answer(), sources=[], series_instance_uid="1.2.3", sop_instance_uid="1.2.4")
