"""One DICOMweb server seen through ``dicomweb-client``: QIDO-RS, WADO-RS and STOW-RS with typed failures.

Timeouts and bounded retries with exponential backoff live in the HTTP session (urllib3 ``Retry``):
connection failures are retried for every method, read timeouts and 429/502/503/504 answers only for
GET (a STOW-RS body is never sent twice). Every ``requests`` failure leaves this module as one of the
:mod:`medskills.dicom.web.errors` types; credentials never appear in a message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from medskills.dicom.web.errors import (
    DicomWebAuthFailed,
    DicomWebError,
    DicomWebErrorCode,
    DicomWebNotFound,
    DicomWebServerError,
    DicomWebStoreFailed,
    DicomWebTimeout,
    DicomWebUnreachable,
)
from medskills.dicom.web.settings import DicomWebSettings

if TYPE_CHECKING:
    import requests
    from dicomweb_client import DICOMwebClient
    from pydicom import Dataset

__all__ = ["DicomWebServer"]

logger = logging.getLogger(__name__)

_RETRIED_STATUSES = (429, 502, 503, 504)
_ORIGINAL_TRANSFER_SYNTAX = (("application/dicom", "*"),)


class DicomWebServer:
    """A configured connection to one DICOMweb root. Build it once per run and pass it down."""

    def __init__(self, settings: DicomWebSettings) -> None:
        if not settings.is_configured:
            raise DicomWebUnreachable("no DICOMweb server is configured; pass --dicomweb URL or set "
                                      "MEDSKILLS_DICOMWEB_URL", error_code=DicomWebErrorCode.SERVER_UNREACHABLE)
        self.settings = settings
        self._client = _build_client(settings)

    @property
    def url(self) -> str:
        return self.settings.url

    def search_studies(self, filters: dict[str, str], *, limit: int | None = None) -> list[Dataset]:
        """QIDO-RS at study level; ``filters`` are DICOM keyword -> value (e.g. ``StudyDate: 20240101-``)."""
        with self._translated("searching studies"):
            found = self._client.search_for_studies(search_filters=filters, limit=limit,
                                                    fields=["ModalitiesInStudy", "NumberOfStudyRelatedInstances"])
        return [_dataset(item) for item in found]

    def search_series(self, study_uid: str) -> list[Dataset]:
        """QIDO-RS at series level for one study, with the instance count of each series."""
        with self._translated(f"searching the series of study {study_uid}"):
            found = self._client.search_for_series(
                study_instance_uid=study_uid,
                fields=["NumberOfSeriesRelatedInstances", "SeriesDescription", "SeriesNumber"])
        return [_dataset(item) for item in found]

    def iter_series(self, study_uid: str, series_uid: str) -> Iterator[Dataset]:
        """WADO-RS, streamed one instance at a time, in the transfer syntax the server holds."""
        where = f"retrieving series {series_uid} of study {study_uid}"
        with self._translated(where, not_found_code=DicomWebErrorCode.SERIES_NOT_FOUND):
            instances = self._client.iter_series(study_instance_uid=study_uid, series_instance_uid=series_uid,
                                                 media_types=_ORIGINAL_TRANSFER_SYNTAX)
            yield from instances

    def store(self, datasets: Sequence[Dataset]) -> list[str]:
        """STOW-RS all ``datasets`` in one request, then confirm with QIDO-RS; returns the stored SOPInstanceUIDs.

        The confirmation is needed because an acknowledgment is not proof: a server whose own
        filter drops an instance may still list it as stored (Orthanc 1.10's DICOMweb plugin does).

        Raises:
            DicomWebStoreFailed: the server refused, did not acknowledge, or does not hold an instance.
        """
        with self._translated(f"storing {len(datasets)} instance(s)"):
            answer = self._client.store_instances(datasets=list(datasets))
        failed = [f"{item.get('ReferencedSOPInstanceUID', '?')} (reason {item.get('FailureReason', '?')})"
                  for item in answer.get("FailedSOPSequence", [])]
        stored = [str(item.ReferencedSOPInstanceUID) for item in answer.get("ReferencedSOPSequence", [])]
        sent = {str(ds.SOPInstanceUID) for ds in datasets}
        if failed or set(stored) != sent:
            missing = sorted(sent - set(stored))
            raise DicomWebStoreFailed(f"STOW-RS to {self.url} did not store every instance: failed {failed}, "
                                      f"not acknowledged {missing}; check the server log")
        absent = sorted(sent - self._held_instances(datasets))
        if absent:
            raise DicomWebStoreFailed(f"STOW-RS to {self.url} acknowledged {len(sent)} instance(s) but the server "
                                      f"does not hold {absent}: it discarded them (a receive filter or storage "
                                      "rule); check the server log")
        return stored

    def _held_instances(self, datasets: Sequence[Dataset]) -> set[str]:
        """SOPInstanceUIDs QIDO-RS finds in the series of ``datasets`` (one query per series)."""
        held: set[str] = set()
        series = {(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)) for ds in datasets}
        for study_uid, series_uid in sorted(series):
            with self._translated(f"confirming the instances stored in series {series_uid}"):
                found = self._client.search_for_instances(study_instance_uid=study_uid,
                                                          series_instance_uid=series_uid)
            held.update(str(_dataset(item).SOPInstanceUID) for item in found)
        return held

    @contextmanager
    def _translated(self, action: str, *,
                    not_found_code: DicomWebErrorCode = DicomWebErrorCode.STUDY_NOT_FOUND) -> Iterator[None]:
        """Turn every ``requests`` failure inside the block into one typed, credential-free error."""
        import requests

        try:
            yield
        except DicomWebError:
            raise
        except requests.HTTPError as err:
            raise _http_error(err, action=action, url=self.url, not_found_code=not_found_code) from err
        except requests.RequestException as err:
            attempts = self.settings.max_attempts
            if _is_timeout(err):
                raise DicomWebTimeout(
                    f"{self.url} did not answer within {self.settings.timeout_seconds:g} s while {action} "
                    f"({attempts} attempt(s)); raise MEDSKILLS_DICOMWEB_TIMEOUT_SECONDS or check the server load"
                ) from err
            raise DicomWebUnreachable(
                f"cannot connect to {self.url} while {action} ({attempts} attempt(s)): {type(err).__name__}; "
                "check that the server runs and MEDSKILLS_DICOMWEB_URL / --dicomweb is right") from err


def _build_client(settings: DicomWebSettings) -> DICOMwebClient:
    import requests
    from dicomweb_client import DICOMwebClient
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retries = settings.max_attempts - 1
    retry = Retry(total=None, connect=retries, read=retries, status=retries, other=0,
                  backoff_factor=settings.backoff_seconds, backoff_max=30.0, status_forcelist=_RETRIED_STATUSES,
                  allowed_methods=frozenset({"GET", "HEAD"}), raise_on_status=False)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if settings.username is not None:
        password = settings.password.get_secret_value() if settings.password else ""
        session.auth = (settings.username, password)
    client = DICOMwebClient(url=settings.url, session=session, timeout=settings.timeout_seconds)
    client.set_http_retry_params(retry=False)  # the session's Retry already bounds every request
    return client


def _http_error(err: requests.HTTPError, *, action: str, url: str,
                not_found_code: DicomWebErrorCode) -> DicomWebError:
    status = err.response.status_code if err.response is not None else 0
    if status in (401, 403):
        return DicomWebAuthFailed(f"{url} refused the credentials (HTTP {status}) while {action}; set "
                                  "MEDSKILLS_DICOMWEB_USERNAME and MEDSKILLS_DICOMWEB_PASSWORD to an account "
                                  "allowed to read and store")
    if status == 404:
        return DicomWebNotFound(f"{url} has no such object (HTTP 404) while {action}; check the UID "
                                "(medskills lists the study's series in the error when it can)",
                                error_code=not_found_code)
    return DicomWebServerError(f"{url} answered HTTP {status} while {action}; see the server's log")


def _is_timeout(err: Exception) -> bool:
    """A read/connect timeout, also when urllib3's retries wrapped it in a ``MaxRetryError``."""
    import requests
    from urllib3.exceptions import MaxRetryError, NewConnectionError
    from urllib3.exceptions import TimeoutError as Urllib3Timeout

    if isinstance(err, requests.Timeout):
        return True
    for cause in err.args:
        reason = cause.reason if isinstance(cause, MaxRetryError) else cause
        # urllib3 2 makes a refused connection (NewConnectionError) a ConnectTimeoutError subclass
        if isinstance(reason, Urllib3Timeout) and not isinstance(reason, NewConnectionError):
            return True
    return False


def _dataset(item: dict[str, Any]) -> Dataset:
    """A QIDO-RS answer entry (DICOM JSON) as a pydicom ``Dataset``."""
    from pydicom import Dataset

    return Dataset.from_json(item)
