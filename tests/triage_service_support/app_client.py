"""An in-process client of the real triage app, for the API unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from triage_service_support.predictors import FixedPredictor

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def service_client(work_dir: Path, predictor: FixedPredictor | None = None, **settings: object) -> TestClient:
    """An in-process client of the real app. The built-in pack is off (tests of it load it on purpose), so no
    predictor means none at all. A real bug is re-raised by Starlette after the 500 is sent (so servers log
    it); ``raise_server_exceptions=False`` lets the test check the response."""
    from fastapi.testclient import TestClient

    from medskills.triage.api import ServiceSettings, create_app

    settings = {"builtin_pack": False} | settings
    return TestClient(create_app(ServiceSettings(work_dir=work_dir, **settings), predictor=predictor),
                      raise_server_exceptions=False)
