"""Run the triage app with a test predictor under uvicorn: ``python serve_app.py PORT QUEUE DELAY WORKDIR``."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from medskills.triage.api import ServiceSettings, create_app
from triage_service_support.predictors import FixedPredictor

if __name__ == "__main__":
    port, queue_size, delay, work_dir = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])
    settings = ServiceSettings(queue_size=queue_size, work_dir=work_dir, retry_after_seconds=1)
    app = create_app(settings, predictor=FixedPredictor(delay_seconds=delay))
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
