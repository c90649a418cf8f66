"""Triage service commands (registered on the `medskills triage` sub-app): serve and batch."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from medskills.cli._common import configure_logging, emit, exit_with, run_guarded
from medskills.cli._progress import with_progress

if TYPE_CHECKING:
    from medskills.triage.client import BatchRequest


def serve_command(
    host: Annotated[str | None, typer.Option("--host", help="Bind address [MEDSKILLS_HOST, 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port [MEDSKILLS_PORT, 8000].")] = None,
    pack_dir: Annotated[Path | None, typer.Option(
        "--pack-dir", help="Model pack [MEDSKILLS_PACK_DIR]; default: the built-in pack (measurements, no probability)."
    )] = None,
) -> None:
    """Run the triage REST API (uvicorn, one process). Other settings come from MEDSKILLS_* variables."""
    import uvicorn

    from medskills.triage.api import ServiceSettings, create_app

    configure_logging()
    overrides = {k: v for k, v in {"host": host, "port": port, "pack_dir": pack_dir}.items() if v is not None}
    settings = run_guarded(lambda: ServiceSettings(**overrides))
    # no access log: request lines can carry study UIDs in the query string
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False, log_config=None,
                timeout_graceful_shutdown=30)


def batch_command(
    output: Annotated[Path, typer.Option("--output", help="results.xlsx (openpyxl) or results.csv.")],
    input_dir: Annotated[Path | None, typer.Option(
        "--input-dir", help="Folder of study ZIPs, NIfTIs or DICOM folders (or use --dicomweb).")] = None,
    api_url: Annotated[str, typer.Option("--api-url", help="Base URL of the triage API.")] = "http://localhost:8000",
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=32)] = 1,
    resume: Annotated[bool, typer.Option("--resume", help="Skip studies already in --output.")] = False,
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="MEDSKILLS_API_KEY")] = None,
    dicomweb: Annotated[str | None, typer.Option("--dicomweb", help="Take the studies from this DICOMweb server "
                                                 "(credentials: MEDSKILLS_DICOMWEB_USERNAME/_PASSWORD).")] = None,
    study_uids: Annotated[Path | None, typer.Option("--study-uids", help="With --dicomweb: a file of "
                                                    "StudyInstanceUIDs, one a line.")] = None,
    study_date: Annotated[str | None, typer.Option("--study-date", help="With --dicomweb and no --study-uids: "
                                                   "QIDO StudyDate, e.g. 20240101-20241231.")] = None,
    modality: Annotated[str, typer.Option("--modality", help="With --dicomweb: QIDO ModalitiesInStudy.")] = "CT",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="With --dicomweb: at most N studies.")] = None,
) -> None:
    """Send every study to the API, with retries, and write one row per study."""
    from medskills.core.errors import UsageError
    from medskills.triage.client import BatchRequest, run_batch

    configure_logging()
    if (input_dir is None) == (dicomweb is None):
        exit_with(UsageError("pass exactly one of --input-dir FOLDER and --dicomweb URL"))
    request = BatchRequest(input_dir=input_dir, output=output, api_url=api_url, concurrency=concurrency,
                           resume=resume, api_key=api_key)
    if dicomweb is not None:
        _remote_batch(request, url=dicomweb, study_uids=study_uids, study_date=study_date, modality=modality,
                      limit=limit)
    summary = run_guarded(lambda: with_progress(lambda progress: run_batch(request, on_progress=progress)))
    emit(summary, exit_code=summary.exit_code)


def _remote_batch(request: BatchRequest, *, url: str, study_uids: Path | None, study_date: str | None,
                  modality: str, limit: int | None) -> None:
    """Studies by UID from the DICOMweb server, retrieved and sent one by one; emits the summary."""
    from medskills.dicom.web import DicomWebServer, load_dicomweb_settings
    from medskills.triage.remote_batch import RemoteBatchRequest, run_remote_batch

    remote = RemoteBatchRequest(study_uids_file=study_uids, study_date=study_date, modality=modality, limit=limit,
                                batch=request)
    summary = run_guarded(lambda: with_progress(lambda progress: run_remote_batch(
        remote, server=DicomWebServer(load_dicomweb_settings(url)), on_progress=progress)))
    emit(summary, exit_code=summary.exit_code)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("serve")(serve_command)
    app.command("batch")(batch_command)
