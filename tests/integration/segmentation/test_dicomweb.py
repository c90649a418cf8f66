"""`medskills segment ctmr --dicomweb`: retrieve by UID from a real Orthanc, segment, store the SEG back.

The bundle is the tiny real one of the segmentation tests (MONAI's vista3d132, embed 8, random
weights), so the labels are meaningless but every file, UID and reference is real.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medskills.cli import app
from medskills.dicom.web import DicomWebServer, find_series, retrieved_study

from dicomweb_support.fixtures import ct_series_dir, dicomweb_environment, orthanc, stored_ct  # noqa: F401  (pytest fixtures, used by name)
from dicomweb_support.orthanc import REFUSED_SEG_PATIENT_ID, OrthancServer
from dicomweb_support.studies import read_series_for_pacs, settings_for, store_folder
from integration.segmentation.conftest import write_tiny_bundle

pytestmark = [pytest.mark.network_local, pytest.mark.slow]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, real_ctmr_bundle: Path) -> Path:
    return write_tiny_bundle(tmp_path_factory.mktemp("bundle") / "NV-Segment-CTMR", real_bundle=real_ctmr_bundle)


@pytest.fixture()
def segment_env(monkeypatch: pytest.MonkeyPatch, dicomweb_environment: OrthancServer, bundle: Path) -> OrthancServer:
    monkeypatch.setenv("NV_SEGMENT_CTMR_ROOT", str(bundle))
    monkeypatch.setenv("MEDSKILLS_ALLOW_NO_GPU", "1")
    return dicomweb_environment


def _segment(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["segment", "ctmr", "--modality", "CT_BODY", "--device", "cpu", *args])
    return result.exit_code, json.loads(result.stdout)


def test_segment_by_uid_stores_a_seg_that_references_the_source_series(
        segment_env: OrthancServer, stored_ct: tuple[str, str, int], ct_series_dir: Path, tmp_path: Path) -> None:
    import highdicom as hd

    study_uid, series_uid, _ = stored_ct
    code, record = _segment("--dicomweb", segment_env.dicomweb_url, "--study", study_uid,
                            "--label-prompts", "spleen,aorta", "--output-dir", str(tmp_path / "out"), "--store")
    assert code == 0, record.get("failure_reasons") or record
    exchange = record["dicomweb"]
    source_uids = {str(ds.SOPInstanceUID) for ds in read_series_for_pacs(ct_series_dir)}
    assert exchange["retrieved_series_instance_uid"] == series_uid
    assert set(exchange["retrieved_sop_instance_uids"]) == source_uids
    assert exchange["stored_sop_instance_uids"] == [record["output"]["dicom_seg"]["sop_instance_uid"]]
    assert exchange["retrieved_kept_in"] is None and not Path(record["request"]["image_path"]).exists()

    server = DicomWebServer(settings_for(segment_env))
    [seg_series] = find_series(server, study_uid=study_uid, modality="SEG")
    assert seg_series.series_instance_uid == exchange["stored_series_instance_uid"] != series_uid
    with retrieved_study(server, study_uid=study_uid, series_uid=seg_series.series_instance_uid) as retrieved:
        seg = hd.seg.segread(next(retrieved.series[0].folder.glob("*.dcm")))
    assert seg.StudyInstanceUID == study_uid
    [referenced_series] = seg.ReferencedSeriesSequence
    assert referenced_series.SeriesInstanceUID == series_uid
    assert {str(i.ReferencedSOPInstanceUID) for i in referenced_series.ReferencedInstanceSequence} == source_uids
    labels = {s.SegmentLabel: s.SegmentedPropertyTypeCodeSequence[0] for s in seg.SegmentSequence}
    assert set(labels) <= {"spleen", "aorta"} and labels
    assert all(code.CodeValue and code.CodingSchemeDesignator for code in labels.values())


def test_without_store_nothing_goes_back_and_kept_instances_stay_in_out(
        segment_env: OrthancServer, stored_ct: tuple[str, str, int], tmp_path: Path) -> None:
    study_uid, series_uid, count = stored_ct
    before = segment_env.rest("GET", "/instances").json()
    code, record = _segment("--dicomweb", segment_env.dicomweb_url, "--study", study_uid, "--series", series_uid,
                            "--label-prompts", "spleen", "--output-dir", str(tmp_path / "out"), "--keep-retrieved")
    assert code == 0, record.get("failure_reasons")
    assert record["dicomweb"]["stored_sop_instance_uids"] == []
    assert record["dicomweb"]["store_skipped_reason"] == "--store was not given"
    assert len(list((tmp_path / "out" / "retrieved" / series_uid).glob("*.dcm"))) == count
    assert sorted(segment_env.rest("GET", "/instances").json()) == sorted(before)
    assert json.loads((tmp_path / "out" / "result.json").read_text())["dicomweb"] == record["dicomweb"]


def test_a_failed_run_stores_nothing(segment_env: OrthancServer, stored_ct: tuple[str, str, int],
                                     tmp_path: Path) -> None:
    """A 1-second timeout kills the bundle: exit 124, and the server holds exactly what it held before."""
    study_uid, _, _ = stored_ct
    before = segment_env.rest("GET", "/instances").json()
    code, record = _segment("--dicomweb", segment_env.dicomweb_url, "--study", study_uid, "--label-prompts",
                            "spleen", "--output-dir", str(tmp_path / "out"), "--store", "--timeout-seconds", "1")
    assert code == 124 and record["status"] == "failed"
    assert record["dicomweb"]["stored_sop_instance_uids"] == []
    assert "nothing is stored back" in record["dicomweb"]["store_skipped_reason"]
    assert sorted(segment_env.rest("GET", "/instances").json()) == sorted(before)


def test_a_stow_refusal_after_a_passed_run_fails_the_run_and_keeps_the_seg_in_out(
        segment_env: OrthancServer, ct_series_dir: Path, tmp_path: Path) -> None:
    """The server's receive filter refuses this patient's SEG: exit 1, the reason recorded, the SEG kept locally."""
    import shutil

    import pydicom

    folder = tmp_path / "refused_seg_patient"
    shutil.copytree(ct_series_dir, folder)
    for path in folder.iterdir():
        dataset = pydicom.dcmread(path)
        dataset.PatientID = REFUSED_SEG_PATIENT_ID
        dataset.save_as(path)
    study_uid, _, _ = store_folder(segment_env, folder)
    code, record = _segment("--dicomweb", segment_env.dicomweb_url, "--study", study_uid,
                            "--label-prompts", "spleen,aorta", "--output-dir", str(tmp_path / "out"), "--store")
    assert code == 1 and record["status"] == "failed"
    assert record["gates"] and not [gate for gate in record["gates"] if gate["status"] == "failed"]
    assert record["dicomweb"]["store_skipped_reason"].startswith("STOW-RS failed")
    assert any("dicomweb_store_failed" in reason for reason in record["failure_reasons"])
    assert record["dicomweb"]["stored_sop_instance_uids"] == []
    assert Path(record["output"]["dicom_seg"]["path"]).is_file()
    series = DicomWebServer(settings_for(segment_env)).search_series(study_uid)
    assert [str(item.Modality) for item in series] == ["CT"]


@pytest.mark.parametrize(("args", "needle"), [
    (["--study", "1.2.3"], "not IMAGE"),
    ([], "--study UID"),
])
def test_dicomweb_usage_errors_exit_2(segment_env: OrthancServer, tmp_path: Path, args: list[str],
                                      needle: str) -> None:
    extra = ["image.nii.gz"] if args else []
    code, record = _segment(*extra, "--dicomweb", segment_env.dicomweb_url, *args, "--output-dir",
                            str(tmp_path / "o"))
    assert code == 2 and needle in record["error"]


def test_unknown_study_exits_2_with_its_code_and_runs_nothing(segment_env: OrthancServer, tmp_path: Path) -> None:
    code, record = _segment("--dicomweb", segment_env.dicomweb_url, "--study", "1.2.3.4.5",
                            "--output-dir", str(tmp_path / "out"))
    assert code == 2 and record["error_code"] == "dicomweb_study_not_found"
    written = json.loads((tmp_path / "out" / "result.json").read_text())
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["result.json"]
    assert (written["status"], written["exit_code"], written["error_code"]) == ("failed", 2, "dicomweb_study_not_found")
    assert written["source"]["study_instance_uid"] == "1.2.3.4.5"


def test_wrong_password_exits_2_with_its_code(segment_env: OrthancServer, stored_ct: tuple[str, str, int],
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_PASSWORD", "wrong")
    code, record = _segment("--dicomweb", segment_env.dicomweb_url, "--study", stored_ct[0],
                            "--output-dir", str(tmp_path / "out"))
    assert code == 2 and record["error_code"] == "dicomweb_authentication_failed"
    assert "wrong" not in record["error"]
