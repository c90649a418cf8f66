"""Setup and doctor: clone upstreams and fetch weights once, then diagnose a machine in one command.

A capability package: it imports only ``medskills.core`` (and never another capability).
"""

from medskills.setup.clone import CloneInspection, ensure_clone, inspect_clone, verify_clone
from medskills.setup.doctor import NO_CUDA_FIX, run_doctor, runtime_root_of
from medskills.setup.download import HubAccess, download_asset, free_bytes_at, licence_steps
from medskills.setup.install import run_setup
from medskills.setup.layout import SetupLayout, extract_archive
from medskills.setup.models import (
    CloneAction,
    CloneOutcome,
    DoctorReport,
    DoctorRow,
    FileAction,
    FileOutcome,
    RowStatus,
    SetupReport,
    SetupRequest,
)

__all__ = [
    "NO_CUDA_FIX",
    "CloneAction",
    "CloneInspection",
    "CloneOutcome",
    "DoctorReport",
    "DoctorRow",
    "FileAction",
    "FileOutcome",
    "HubAccess",
    "RowStatus",
    "SetupLayout",
    "SetupReport",
    "SetupRequest",
    "download_asset",
    "ensure_clone",
    "extract_archive",
    "free_bytes_at",
    "inspect_clone",
    "licence_steps",
    "run_doctor",
    "run_setup",
    "runtime_root_of",
    "verify_clone",
]
