"""`medskills triage batch --dicomweb URL`: studies by QIDO query or UID file, from a real Orthanc, to a real
uvicorn triage service (test predictor with a fixed answer; the study pipeline and its checks are real)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from medskills.cli import app

from dicomweb_support.fixtures import ct_series_dir, dicomweb_environment, orthanc  # noqa: F401  (pytest fixtures, used by name)
from dicomweb_support.orthanc import OrthancServer
from dicomweb_support.studies import store_folder
from triage_service_support.server import app_argv, free_port, running_server
from triage_service_support.studies import CHEST_CROP_STUDY_UID, chest_crop_series

pytestmark = [pytest.mark.network_local, pytest.mark.slow]


@pytest.fixture(scope="module")
def two_studies(orthanc: OrthancServer, shared_data: Path, ct_series_dir: Path,
                tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The real chest crop (passes the chest check) and the 20-slice abdomen series (refused)."""
    chest_uid, _, _ = store_folder(orthanc, chest_crop_series(tmp_path_factory.mktemp("chest"), shared_data))
    abdomen_uid, _, _ = store_folder(orthanc, ct_series_dir)
    return chest_uid, abdomen_uid


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("work")
    port = free_port()
    with running_server(app_argv(port, queue_size=4, delay_seconds=0.0, work_dir=work), port) as (url, _):
        yield url


def _batch(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["triage", "batch", *args])
    return result.exit_code, json.loads(result.stdout)


def test_qido_batch_writes_one_row_per_study_then_resume_skips_them(
        dicomweb_environment: OrthancServer, two_studies: tuple[str, str], service_url: str, tmp_path: Path) -> None:
    chest_uid, abdomen_uid = two_studies
    output = tmp_path / "results.xlsx"
    argv = ["--dicomweb", dicomweb_environment.dicomweb_url, "--modality", "CT", "--output", str(output),
            "--api-url", service_url]
    code, summary = _batch(*argv)
    assert code == 0, summary
    assert (summary["studies_found"], summary["succeeded"], summary["refused"]) == (2, 1, 1)
    rows = list(load_workbook(output).active.iter_rows(values_only=True))
    header, by_uid = rows[0], {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert header[0] == "path_to_study" and set(by_uid) == {chest_uid, abdomen_uid}
    assert by_uid[chest_uid]["processing_status"] == "Success" and by_uid[chest_uid]["http_status"] == 200
    assert by_uid[chest_uid]["path_to_study"] == f"{dicomweb_environment.dicomweb_url}/studies/{chest_uid}"
    assert by_uid[abdomen_uid]["http_status"] == 422 and by_uid[abdomen_uid]["error_code"]
    code, again = _batch(*argv, "--resume")
    assert code == 0 and again["skipped_by_resume"] == 2


def test_uid_file_batch_with_two_at_once_records_an_unknown_uid_and_exits_1(
        dicomweb_environment: OrthancServer, two_studies: tuple[str, str], service_url: str, tmp_path: Path) -> None:
    uids = tmp_path / "uids.txt"
    uids.write_text(f"# chest crop\n{CHEST_CROP_STUDY_UID}\n1.2.3.404\n")
    output = tmp_path / "results.csv"
    code, summary = _batch("--dicomweb", dicomweb_environment.dicomweb_url, "--study-uids", str(uids),
                           "--output", str(output), "--api-url", service_url, "--concurrency", "2")
    assert code == 1 and summary["unanswered"] == 1 and summary["succeeded"] == 1
    assert summary["error_codes"] == {"dicomweb_study_not_found": 1}
    text = output.read_text()
    assert "1.2.3.404" in text and "dicomweb_study_not_found" in text


def test_batch_needs_exactly_one_source(tmp_path: Path) -> None:
    code, record = _batch("--output", str(tmp_path / "r.csv"))
    assert code == 2 and "exactly one of --input-dir" in record["error"]
    code, record = _batch("--output", str(tmp_path / "r.csv"), "--input-dir", str(tmp_path), "--dicomweb", "http://x")
    assert code == 2
