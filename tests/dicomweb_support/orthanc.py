"""Start and stop a private Orthanc: free loopback port, temporary storage, its own JSON configuration.

The server is Debian's real ``Orthanc`` binary with its real DICOMweb plugin; nothing is mocked at the
protocol level. Remote access is off (loopback only), HTTP basic authentication is on with one test
user, the DICOM (DIMSE) port is off, and jobs are not persisted. ``.ci/run`` installs both packages.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ORTHANC_BINARY = Path("/usr/sbin/Orthanc")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
TEST_USERNAME = "medskills-test"
TEST_PASSWORD = "orthanc-test-password"
_READY_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class OrthancServer:
    """A running private Orthanc: its REST root, DICOMweb root and the test credentials."""

    port: int
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    @property
    def auth(self) -> tuple[str, str]:
        return (TEST_USERNAME, TEST_PASSWORD)

    def rest(self, method: str, path: str, *, data: str | None = None) -> requests.Response:
        """Call Orthanc's own REST API (not DICOMweb) as the test user; raises on an HTTP error."""
        response = requests.request(method, f"{self.url}{path}", auth=self.auth, timeout=30, data=data)
        response.raise_for_status()
        return response

    def delete_everything(self) -> None:
        """Empty the server between tests that need a clean slate."""
        for study_id in self.rest("GET", "/studies").json():
            self.rest("DELETE", f"/studies/{study_id}")

    def log_tail(self, lines: int = 40) -> str:
        log = self.root / "orthanc.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def orthanc_missing_reason() -> str | None:
    """Why the server cannot start here, or ``None`` when Orthanc and its DICOMweb plugin are installed."""
    missing = [str(path) for path in (ORTHANC_BINARY, DICOMWEB_PLUGIN) if not path.exists()]
    if missing:
        return (f"Orthanc is not installed ({', '.join(missing)} missing); "
                "run `apt-get install orthanc orthanc-dicomweb` (.ci/run does)")
    return None


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# A PACS that refuses some instances: Orthanc's receive filter turns away SEG objects of this patient,
# so a test can see a real STOW-RS refusal after a passed run. Every other instance is accepted.
REFUSED_SEG_PATIENT_ID = "MEDSKILLS-REFUSE-SEG"


def _write_receive_filter(root: Path) -> Path:
    path = root / "receive_filter.lua"
    path.write_text(
        "function ReceivedInstanceFilter(dicom, origin, info)\n"
        f"  if dicom.Modality == 'SEG' and dicom.PatientID == '{REFUSED_SEG_PATIENT_ID}' then\n"
        "    return false\n"
        "  end\n"
        "  return true\n"
        "end\n")
    return path


def write_configuration(root: Path, port: int) -> Path:
    """Write the server's own configuration file under ``root`` and return its path."""
    config = {
        "Name": "medskills-test",
        "StorageDirectory": str(root / "storage"),
        "IndexDirectory": str(root / "index"),
        "HttpPort": port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {TEST_USERNAME: TEST_PASSWORD},
        "DicomServerEnabled": False,
        "DicomPort": free_loopback_port(),
        "SaveJobs": False,
        "HttpThreadsCount": 8,
        "ConcurrentJobs": 1,
        "StableAge": 1,
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False,
                     "Host": f"127.0.0.1:{port}", "Ssl": False},
        "LuaScripts": [str(_write_receive_filter(root))],
    }
    path = root / "orthanc.json"
    path.write_text(json.dumps(config, indent=2))
    return path


@contextmanager
def running_orthanc(root: Path) -> Iterator[OrthancServer]:
    """Start a private Orthanc under ``root``, wait until its DICOMweb API answers, stop it on exit."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_loopback_port()
    config = write_configuration(root, port)
    with (root / "orthanc.log").open("wb") as log:
        process = subprocess.Popen([str(ORTHANC_BINARY), str(config)], stdout=log, stderr=subprocess.STDOUT,
                                   cwd=root)
    server = OrthancServer(port=port, root=root, process=process)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        stop_orthanc(server)


def stop_orthanc(server: OrthancServer) -> None:
    """Stop the server process (idempotent)."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


def _wait_until_ready(server: OrthancServer) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"Orthanc exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            answer = requests.get(f"{server.dicomweb_url}/studies", auth=server.auth, timeout=2)
            if answer.status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"Orthanc did not answer within {_READY_TIMEOUT_SECONDS} s:\n{server.log_tail()}")
