"""What the app holds for its lifetime: settings, the predictor (loaded once) and the job queue."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from medskills.core.errors import MedskillsError
from medskills.triage.api.jobs import JobQueue
from medskills.triage.api.pipeline import unconfigured_loader
from medskills.triage.api.settings import ServiceSettings
from medskills.triage.prediction import Predictor

if TYPE_CHECKING:
    from fastapi import Request

__all__ = ["ServiceRuntime", "load_runtime", "runtime_of"]

logger = logging.getLogger(__name__)


@dataclass
class ServiceRuntime:
    """Shared state; ``not_ready_reason`` says why ``predictor`` is None."""

    settings: ServiceSettings
    predictor: Predictor | None
    queue: JobQueue
    not_ready_reason: str | None = None

    def predictor_or_refusal(self) -> Predictor | Callable[[], Predictor]:
        """What a route hands the study pipeline: the predictor, or a loader that refuses a usable study with
        503 ``predictor_not_configured`` saying why no pack loaded."""
        return self.predictor or unconfigured_loader(self.not_ready_reason)


def load_runtime(settings: ServiceSettings, predictor: Predictor | None) -> ServiceRuntime:
    """Use the given predictor, or load the configured pack (the built-in default without one) once.

    A pack that fails to load, or has no member that can run here, leaves the service not ready.
    """
    reason = None
    if predictor is None and settings.pack_dir is None and not settings.builtin_pack:
        reason = "no model pack configured (MEDSKILLS_PACK_DIR is unset and MEDSKILLS_BUILTIN_PACK is false)"
    elif predictor is None:
        from medskills.triage.default_pack import load_default_predictor
        from medskills.triage.ensemble import load_predictor

        try:
            predictor = load_predictor(settings.pack_dir) if settings.pack_dir else load_default_predictor()
        except MedskillsError as err:
            which = f"model pack {settings.pack_dir}" if settings.pack_dir else "the built-in default pack"
            reason = f"{which} failed to load: {err}"
            logger.error("%s", reason)
    return ServiceRuntime(settings=settings, predictor=predictor, queue=JobQueue(settings.queue_size),
                          not_ready_reason=reason)


def runtime_of(request: Request) -> ServiceRuntime:
    """The runtime stored on the app by :func:`medskills.triage.api.create_app`."""
    runtime = request.app.state.runtime
    assert isinstance(runtime, ServiceRuntime)
    return runtime
