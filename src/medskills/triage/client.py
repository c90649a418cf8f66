"""Batch client: send every study in a folder to the triage API and write one table.

Studies are ``*.zip`` files, ``*.nii``/``*.nii.gz`` files, or folders of DICOM files (zipped on the
fly, entry names kept relative so files never collide). 503 answers and connection errors are
retried with exponential backoff (a 503's ``Retry-After`` is honoured). The table is rewritten
atomically after every study, so ``--resume`` can skip the studies already in it.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import Field

from medskills.core.errors import UpstreamFailure, UsageError
from medskills.core.io import write_bytes_atomic, write_text_atomic
from medskills.core.models import FrozenModel

__all__ = [
    "COLUMNS", "BatchRequest", "BatchSummary", "check_health", "discover_studies", "post_with_retries",
    "read_existing_rows", "run_batch", "send_pending", "study_row", "summarise_rows", "write_table", "zipped_study",
]

logger = logging.getLogger(__name__)

COLUMNS = (
    "path_to_study", "study_uid", "series_uid", "probability_of_pathology", "pathology", "processing_status",
    "time_of_processing", "most_dangerous_pathology_type", "probability_of_pathology_thoracic", "pathology_thoracic",
    "error", "error_code", "http_status", "client_seconds",
)
_NIFTI_SUFFIXES = (".nii.gz", ".nii")
_RETRY_STATUSES = (502, 503, 504)


class BatchRequest(FrozenModel):
    """What ``medskills triage batch`` was asked to do."""

    input_dir: Path | None = Field(default=None, description="None with --dicomweb (studies come by UID).")
    output: Path
    api_url: str = "http://localhost:8000"
    concurrency: int = Field(default=1, ge=1, le=32)
    resume: bool = False
    api_key: str | None = None
    timeout_seconds: float = Field(default=900.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    backoff_seconds: float = Field(default=2.0, ge=0)


class BatchSummary(FrozenModel):
    """The batch outcome; ``exit_code`` is 1 when some study never got an answer from the service."""

    output: Path
    studies_found: int
    skipped_by_resume: int
    succeeded: int
    refused: int
    unanswered: int
    error_codes: dict[str, int]
    exit_code: int


def discover_studies(input_dir: Path | None) -> list[Path]:
    """ZIPs, NIfTIs and DICOM folders directly inside ``input_dir``, sorted by name."""
    if input_dir is None or not Path(input_dir).is_dir():
        raise UsageError(f"--input-dir {input_dir} is not a folder; pass the folder holding the studies.")
    studies = [p for p in sorted(Path(input_dir).iterdir())
               if p.is_dir() or p.name.lower().endswith((".zip", *_NIFTI_SUFFIXES))]
    return studies


def run_batch(request: BatchRequest, *, on_progress: Callable[[int, int], None] | None = None,
              transport: Any = None) -> BatchSummary:
    """Send every study not yet in the output; return the counts.

    Raises:
        UsageError: bad input folder or output extension.
        UpstreamFailure: the service's ``/health`` does not answer.
    """
    _check_output(request.output)
    by_key = {str(study.absolute()): study for study in discover_studies(request.input_dir)}
    return send_pending(request, list(by_key), lambda client, key: _send_study(client, by_key[key], request),
                        workers=request.concurrency, on_progress=on_progress, transport=transport)


def send_pending(batch: BatchRequest, keys: list[str], send: Callable[[Any, str], dict[str, Any]], *, workers: int,
                 on_progress: Callable[[int, int], None] | None = None, transport: Any = None) -> BatchSummary:
    """``send(client, key)`` each study whose key (``path_to_study``) is not yet in the table when resuming,
    ``workers`` at a time; the table is rewritten after every row. Returns the counts.

    Raises:
        UpstreamFailure: the service's ``/health`` does not answer.
    """
    import httpx

    rows = read_existing_rows(batch.output) if batch.resume else []
    done = {row["path_to_study"] for row in rows}
    pending = [key for key in keys if key not in done]
    headers = {"X-API-Key": batch.api_key} if batch.api_key else {}
    with httpx.Client(base_url=batch.api_url, headers=headers, timeout=batch.timeout_seconds,
                      transport=transport) as client:
        check_health(client, batch.api_url)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(send, client, key) for key in pending]
            for finished, future in enumerate(as_completed(futures), start=1):
                rows.append(future.result())
                write_table(batch.output, rows)
                if on_progress:
                    on_progress(finished, len(pending))
    if not pending:
        write_table(batch.output, rows)
    return summarise_rows(batch, len(keys), rows, skipped=len(keys) - len(pending))


def _check_output(output: Path) -> None:
    if Path(output).suffix.lower() not in (".xlsx", ".csv"):
        raise UsageError(f"--output {output}: use a .xlsx or .csv file name.")


def check_health(client: Any, api_url: str) -> None:
    import httpx

    try:
        response = client.get("/health", timeout=10.0)
    except httpx.TransportError as err:
        raise UpstreamFailure(f"the triage API at {api_url} does not answer ({err}); start it with "
                              "`medskills triage serve` or fix --api-url.") from err
    if response.status_code != 200:
        raise UpstreamFailure(f"{api_url}/health answered HTTP {response.status_code}; the service is not healthy.")


def _send_study(client: Any, study: Path, request: BatchRequest) -> dict[str, Any]:
    started = time.perf_counter()
    endpoint = "/predict_nifti" if study.name.lower().endswith(_NIFTI_SUFFIXES) else "/predict"
    with zipped_study(study) as (upload, name):
        status, body = post_with_retries(client, endpoint, upload, name, request)
    return study_row(study, status, body, time.perf_counter() - started)


@contextmanager
def zipped_study(study: Path) -> Iterator[tuple[Path, str]]:
    """The file to upload: the study itself, or a folder zipped into a temporary file."""
    if not study.is_dir():
        yield study, study.name
        return
    with tempfile.TemporaryDirectory(prefix="medskills-batch-") as folder:
        archive = Path(folder) / f"{study.name}.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as handle:
            for path in sorted(study.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    handle.write(path, path.relative_to(study).as_posix())
        yield archive, archive.name


def post_with_retries(client: Any, endpoint: str, upload: Path, name: str,
                       request: BatchRequest) -> tuple[int | None, dict[str, Any]]:
    import httpx

    last_error = ""
    for attempt in range(request.max_retries + 1):
        delay = request.backoff_seconds * (2**attempt)
        try:
            with open(upload, "rb") as handle:
                response = client.post(endpoint, files={"file": (name, handle, "application/octet-stream")})
        except httpx.TransportError as err:
            last_error = f"connection error: {type(err).__name__}: {err}"
        else:
            if response.status_code not in _RETRY_STATUSES:
                return response.status_code, _json_body(response)
            last_error = f"HTTP {response.status_code}"
            retry_after = response.headers.get("Retry-After", "")
            delay = min(float(retry_after), 60.0) if retry_after.isdigit() else delay
            if attempt == request.max_retries:
                return response.status_code, _json_body(response)
        if attempt < request.max_retries:
            logger.info("%s: %s, retry %d in %.1f s", name, last_error, attempt + 1, delay)
            time.sleep(delay)
    return None, {"error": last_error, "error_code": "connection_error"}


def _json_body(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"error": f"HTTP {response.status_code}: {response.text[:200]}"}
    return body if isinstance(body, dict) else {"error": f"HTTP {response.status_code}"}


def study_row(study: Path | str, status: int | None, body: dict[str, Any], seconds: float) -> dict[str, Any]:
    """One table row; ``study`` is the study's path (folder mode) or its DICOMweb URL."""
    row: dict[str, Any] = {column: body.get(column) for column in COLUMNS}
    top = body.get("top_pathologies") or []
    key = str(study.absolute()) if isinstance(study, Path) else study
    row.update(path_to_study=key, http_status=status, client_seconds=round(seconds, 3),
               most_dangerous_pathology_type=", ".join(top),
               processing_status=body.get("processing_status") or "Failure")
    return row


def summarise_rows(request: BatchRequest, studies_found: int, rows: list[dict[str, Any]], *,
                   skipped: int) -> BatchSummary:
    statuses = [row.get("http_status") for row in rows]
    answered = [s for s in statuses if s not in (None, "") and int(s) < 500]
    codes = Counter(str(row["error_code"]) for row in rows if row.get("error_code"))
    unanswered = len(rows) - len(answered)
    return BatchSummary(
        output=Path(request.output).absolute(), studies_found=studies_found, skipped_by_resume=skipped,
        succeeded=sum(1 for s in statuses if s not in (None, "") and int(s) == 200),
        refused=sum(1 for s in answered if int(s) != 200), unanswered=unanswered, error_codes=dict(codes),
        exit_code=1 if unanswered else 0,
    )


def write_table(output: Path, rows: list[dict[str, Any]]) -> None:
    ordered = sorted(rows, key=lambda row: str(row["path_to_study"]))
    if Path(output).suffix.lower() == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(ordered)
        write_text_atomic(Path(output), buffer.getvalue())
        return
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "results"
    sheet.append(list(COLUMNS))
    for row in ordered:
        sheet.append([row.get(column) for column in COLUMNS])
    buffer_bytes = io.BytesIO()
    workbook.save(buffer_bytes)
    write_bytes_atomic(Path(output), buffer_bytes.getvalue())


def read_existing_rows(output: Path) -> list[dict[str, Any]]:
    """Rows already written (for ``--resume``); a missing file means none."""
    if not Path(output).is_file():
        return []
    if Path(output).suffix.lower() == ".csv":
        with open(output, newline="") as handle:
            return [dict(row) for row in csv.DictReader(handle)]
    from openpyxl import load_workbook

    sheet = load_workbook(output, read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    if not values:
        return []
    header = [str(v) for v in values[0]]
    return [dict(zip(header, row, strict=False)) for row in values[1:]]
