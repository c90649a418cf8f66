"""The batch client against a mock transport: discovery, retries, resume, xlsx/csv, exit codes."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from medskills.core.errors import UpstreamFailure, UsageError
from medskills.triage.client import COLUMNS, BatchRequest, discover_studies, run_batch

SUCCESS = {"study_uid": "1.2", "series_uid": "1.2.3", "probability_of_pathology": 0.8, "pathology": 1,
           "top_pathologies": ["Pneumonia", "Atelectasis"], "probability_of_pathology_thoracic": 0.7,
           "pathology_thoracic": 1, "processing_status": "Success", "time_of_processing": 1.5, "error": None,
           "error_code": None}
REFUSED = {**SUCCESS, "probability_of_pathology": None, "pathology": None, "top_pathologies": [],
           "processing_status": "Failure", "error": "lungs not found", "error_code": "lungs_not_found"}


@pytest.fixture
def studies(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.zip").write_bytes(b"zip-a")
    (folder / "b.nii.gz").write_bytes(b"nifti")
    series = folder / "c_series"
    (series / "sub").mkdir(parents=True)
    (series / "1.dcm").write_bytes(b"one")
    (series / "sub" / "1.dcm").write_bytes(b"two")  # same base name: must not collide
    (folder / "notes.txt").write_text("ignored")
    return folder


class Service:
    """A scripted API: answers per upload name, records what it received."""

    def __init__(self, answers: dict[str, list[object]] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[tuple[str, str]] = []
        self.zip_members: dict[str, list[str]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "healthy"})
        content = request.read()
        name = content.split(b'filename="')[1].split(b'"')[0].decode()
        self.calls.append((request.url.path, name))
        if name.endswith(".zip") and b"PK" in content:
            start = content.index(b"PK\x03\x04")
            with zipfile.ZipFile(__import__("io").BytesIO(content[start:content.rindex(b"\r\n--")])) as archive:
                self.zip_members[name] = archive.namelist()
        script = self.answers.get(name, [])
        answer = script.pop(0) if script else (200, SUCCESS)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        headers = {"Retry-After": "0"} if status == 503 else {}
        return httpx.Response(status, json=body, headers=headers)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _request(studies: Path, output: Path, **fields: object) -> BatchRequest:
    return BatchRequest(input_dir=studies, output=output, api_url="http://api", backoff_seconds=0.0, **fields)


def test_discovery_takes_zips_niftis_and_folders(studies: Path) -> None:
    assert [p.name for p in discover_studies(studies)] == ["a.zip", "b.nii.gz", "c_series"]


def test_every_study_becomes_one_xlsx_row_with_pli_columns(studies: Path, tmp_path: Path) -> None:
    service = Service({"a.zip": [(422, REFUSED)]})
    output = tmp_path / "results.xlsx"
    summary = run_batch(_request(studies, output), transport=httpx.MockTransport(service))
    assert sorted(service.calls) == [("/predict", "a.zip"), ("/predict", "c_series.zip"),
                                     ("/predict_nifti", "b.nii.gz")]
    assert sorted(service.zip_members["c_series.zip"]) == ["1.dcm", "sub/1.dcm"]
    rows = list(load_workbook(output).active.iter_rows(values_only=True))
    assert rows[0] == COLUMNS and len(rows) == 4
    table = {Path(r[0]).name: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    assert table["a.zip"]["error_code"] == "lungs_not_found" and table["a.zip"]["http_status"] == 422
    assert table["b.nii.gz"]["most_dangerous_pathology_type"] == "Pneumonia, Atelectasis"
    assert table["b.nii.gz"]["probability_of_pathology_thoracic"] == 0.7
    assert (summary.succeeded, summary.refused, summary.unanswered, summary.exit_code) == (2, 1, 0, 0)
    assert summary.error_codes == {"lungs_not_found": 1}


def test_503_and_connection_errors_are_retried(studies: Path, tmp_path: Path) -> None:
    busy = (503, {**REFUSED, "error_code": "queue_full"})
    service = Service({"a.zip": [busy, httpx.ConnectError("refused"), (200, SUCCESS)]})
    summary = run_batch(_request(studies, tmp_path / "r.csv", concurrency=2), transport=httpx.MockTransport(service))
    assert [c for c in service.calls if c[1] == "a.zip"] == [("/predict", "a.zip")] * 3
    assert summary.succeeded == 3 and summary.exit_code == 0


def test_a_study_never_answered_makes_the_batch_exit_1(studies: Path, tmp_path: Path) -> None:
    service = Service({"a.zip": [httpx.ConnectError("down")] * 3})
    summary = run_batch(_request(studies, tmp_path / "r.csv", max_retries=2), transport=httpx.MockTransport(service))
    rows = {Path(r["path_to_study"]).name: r for r in _csv_rows(tmp_path / "r.csv")}
    assert rows["a.zip"]["error_code"] == "connection_error" and rows["a.zip"]["http_status"] == ""
    assert summary.unanswered == 1 and summary.exit_code == 1


def test_resume_skips_studies_already_in_the_output(studies: Path, tmp_path: Path) -> None:
    output = tmp_path / "r.csv"
    run_batch(_request(studies, output), transport=httpx.MockTransport(Service()))
    (studies / "d.zip").write_bytes(b"new")
    service = Service()
    summary = run_batch(_request(studies, output, resume=True), transport=httpx.MockTransport(service))
    assert service.calls == [("/predict", "d.zip")]
    assert summary.skipped_by_resume == 3 and len(_csv_rows(output)) == 4


def test_an_unhealthy_service_stops_the_batch(studies: Path, tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route")

    with pytest.raises(UpstreamFailure, match="does not answer"):
        run_batch(_request(studies, tmp_path / "r.xlsx"), transport=httpx.MockTransport(down))


def test_bad_output_suffix_and_missing_input_are_usage_errors(studies: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="xlsx or .csv"):
        run_batch(_request(studies, tmp_path / "r.json"))
    with pytest.raises(UsageError, match="not a folder"):
        run_batch(_request(tmp_path / "absent", tmp_path / "r.csv"))


@pytest.mark.parametrize("workers", [1, 2])
def test_sends_run_on_as_many_threads_as_workers_and_every_row_is_kept(tmp_path: Path, workers: int) -> None:
    """A barrier of two parties only opens when two sends run at once; with one thread it must break."""
    import threading

    from medskills.triage.client import send_pending

    barrier = threading.Barrier(2)
    opened: list[bool] = []

    def send(client: object, key: str) -> dict[str, object]:
        try:
            barrier.wait(timeout=2 if workers == 1 else 10)
            opened.append(True)
        except threading.BrokenBarrierError:
            opened.append(False)
        return {"path_to_study": key}

    request = BatchRequest(input_dir=tmp_path, output=tmp_path / "out.csv", api_url="http://x")
    summary = send_pending(request, ["a", "b"], send, workers=workers, transport=httpx.MockTransport(Service()))
    assert summary.studies_found == 2
    assert opened == ([True, True] if workers == 2 else [False, False])
    assert (tmp_path / "out.csv").read_text().count("\n") == 3
