"""Find a study's series with QIDO-RS and retrieve them with WADO-RS into a folder, checking completeness.

A retrieval is complete only when every series yielded exactly the number of instances QIDO-RS
reported for it; otherwise :class:`DicomWebPartialRetrieval` is raised and the partial folder is
removed, so nothing downstream (a model, a STOW-RS store) ever sees a partial series.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from medskills.core.io import write_bytes_atomic
from medskills.dicom.archive import work_directory
from medskills.dicom.web.client import DicomWebServer
from medskills.dicom.web.errors import (
    DicomWebErrorCode,
    DicomWebNoMatchingSeries,
    DicomWebNotFound,
    DicomWebPartialRetrieval,
    DicomWebTimeout,
    DicomWebUnreachable,
)

__all__ = ["RemoteSeries", "RetrievedSeries", "RetrievedStudy", "find_series", "retrieve_series",
           "retrieved_series_set", "retrieved_study"]

logger = logging.getLogger(__name__)


class RemoteSeries(BaseModel):
    """One series as QIDO-RS describes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    study_instance_uid: str
    series_instance_uid: str
    modality: str
    series_description: str = ""
    reported_instance_count: int | None = None


class RetrievedSeries(BaseModel):
    """A series fully retrieved by WADO-RS: where it is and which instances it holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    series: RemoteSeries
    folder: Path
    sop_instance_uids: list[str]


class RetrievedStudy(BaseModel):
    """The series retrieved from one study, and where from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    server_url: str
    study_instance_uid: str
    folder: Path
    series: list[RetrievedSeries]

    @property
    def instance_count(self) -> int:
        return sum(len(item.sop_instance_uids) for item in self.series)


def find_series(server: DicomWebServer, *, study_uid: str, series_uid: str | None = None,
                modality: str | None = None) -> list[RemoteSeries]:
    """The study's series (QIDO-RS), narrowed to ``series_uid`` and/or DICOM ``modality`` (``CT``, ``MR``).

    Raises:
        DicomWebNotFound: the study (``study_not_found``) or the named series (``series_not_found``)
            is not on the server.
        DicomWebNoMatchingSeries: no series of ``modality`` (the message lists what the study holds).
    """
    listed = [_remote_series(item, study_uid) for item in server.search_series(study_uid)]
    if not listed:
        raise DicomWebNotFound(f"study {study_uid} is not on {server.url}; check the StudyInstanceUID "
                               "(search with `medskills triage batch --dicomweb URL --study-date ...`)",
                               error_code=DicomWebErrorCode.STUDY_NOT_FOUND)
    if series_uid is not None:
        listed_uids = [item.series_instance_uid for item in listed]
        listed = [item for item in listed if item.series_instance_uid == series_uid]
        if not listed:
            raise DicomWebNotFound(f"series {series_uid} is not in study {study_uid} on {server.url}; the study "
                                   f"holds {', '.join(listed_uids)}", error_code=DicomWebErrorCode.SERIES_NOT_FOUND)
    if modality is not None:
        matching = [item for item in listed if item.modality == modality]
        if not matching:
            held = ", ".join(sorted(f"{item.modality} {item.series_instance_uid}" for item in listed))
            raise DicomWebNoMatchingSeries(f"study {study_uid} has no {modality} series (it holds: {held})",
                                           error_code=DicomWebErrorCode.NO_SERIES_OF_MODALITY)
        listed = matching
    return listed


def retrieve_series(server: DicomWebServer, series: RemoteSeries, folder: Path) -> RetrievedSeries:
    """Stream one series into ``folder`` (created; one ``<SOPInstanceUID>.dcm`` per instance).

    Raises:
        DicomWebPartialRetrieval: fewer (or more) instances arrived than QIDO-RS reported, the stream
            broke after it had started, or an instance could not be read; ``folder`` is removed.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    folder.mkdir(parents=True)
    uids: list[str] = []
    where = f"series {series.series_instance_uid} of study {series.study_instance_uid}"
    try:
        for dataset in server.iter_series(series.study_instance_uid, series.series_instance_uid):
            uid = str(dataset.SOPInstanceUID)
            buffer = BytesIO()
            pydicom.dcmwrite(buffer, dataset, enforce_file_format=True)
            write_bytes_atomic(folder / f"{uid}.dcm", buffer.getvalue())
            uids.append(uid)
    except (DicomWebUnreachable, DicomWebTimeout) as err:
        shutil.rmtree(folder, ignore_errors=True)
        if not uids:
            raise
        raise DicomWebPartialRetrieval(
            f"{where}: the WADO-RS stream broke after {len(uids)} instance(s) ({err}); the partial copy was "
            "removed. Retry; if it breaks again, check the server's log") from err
    except (InvalidDicomError, EOFError, ValueError, TypeError, KeyError, AttributeError) as err:
        shutil.rmtree(folder, ignore_errors=True)
        raise DicomWebPartialRetrieval(
            f"{where}: instance {len(uids) + 1} sent by WADO-RS is not a readable DICOM instance "
            f"({type(err).__name__}: {err}); the partial copy was removed. Check the instance on the server") from err
    expected = series.reported_instance_count
    if not uids or (expected is not None and len(uids) != expected):
        shutil.rmtree(folder, ignore_errors=True)
        raise DicomWebPartialRetrieval(
            f"{where}: WADO-RS returned "
            f"{len(uids)} instance(s) but QIDO-RS reported {expected}; the partial copy was removed. The "
            "series may still be arriving on the server (retry later) or instances were deleted")
    logger.info("retrieved %d instance(s) of series %s", len(uids), series.series_instance_uid)
    return RetrievedSeries(series=series, folder=folder, sop_instance_uids=uids)


@contextmanager
def retrieved_study(server: DicomWebServer, *, study_uid: str, series_uid: str | None = None,
                    modality: str | None = None, keep_in: Path | None = None) -> Iterator[RetrievedStudy]:
    """Retrieve the matching series of a study; a private temporary folder is removed on exit.

    With ``keep_in`` (a new or empty folder the caller owns) the files stay there instead.
    """
    wanted = find_series(server, study_uid=study_uid, series_uid=series_uid, modality=modality)
    with retrieved_series_set(server, wanted, keep_in=keep_in) as study:
        yield study


@contextmanager
def retrieved_series_set(server: DicomWebServer, wanted: list[RemoteSeries], *, keep_in: Path | None = None,
                         work_root: Path | None = None) -> Iterator[RetrievedStudy]:
    """Retrieve series already found with :func:`find_series` (all of one study), each complete or not at all.

    Without ``keep_in`` the files go to a private folder under ``work_root`` (system temp if None),
    removed on exit.
    """
    study_uid = wanted[0].study_instance_uid
    if keep_in is not None:
        keep_in.mkdir(parents=True, exist_ok=True)
        yield _retrieve_all(server, study_uid, wanted, keep_in)
        return
    with work_directory(work_root) as folder:
        yield _retrieve_all(server, study_uid, wanted, folder)


def _retrieve_all(server: DicomWebServer, study_uid: str, wanted: list[RemoteSeries], folder: Path) -> RetrievedStudy:
    series = [retrieve_series(server, item, folder / item.series_instance_uid) for item in wanted]
    return RetrievedStudy(server_url=server.url, study_instance_uid=study_uid, folder=folder, series=series)


def _remote_series(item: object, study_uid: str) -> RemoteSeries:
    from pydicom import Dataset

    assert isinstance(item, Dataset)
    count = item.get("NumberOfSeriesRelatedInstances")
    return RemoteSeries(study_instance_uid=str(item.get("StudyInstanceUID", study_uid)),
                        series_instance_uid=str(item.SeriesInstanceUID), modality=str(item.get("Modality", "")),
                        series_description=str(item.get("SeriesDescription", "") or ""),
                        reported_instance_count=int(count) if count not in (None, "") else None)
