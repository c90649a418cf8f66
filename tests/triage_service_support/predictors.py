"""Predictors written for the tests: fixed answers, optional delay, optional failure."""

from __future__ import annotations

import threading
import time

from medskills.dicom.volume import HUVolume
from medskills.triage.prediction import TriagePrediction


class FixedPredictor:
    """Answers a fixed probability after ``delay_seconds``; records the volumes it saw."""

    def __init__(self, *, probability: float = 0.87, delay_seconds: float = 0.0, error: Exception | None = None,
                 thoracic: float | None = 0.92) -> None:
        self.probability = probability
        self.delay_seconds = delay_seconds
        self.error = error
        self.thoracic = thoracic
        self.seen: list[tuple[str, tuple[int, int, int]]] = []
        self.threads: set[str] = set()

    @property
    def model_version(self) -> str:
        return "test-pack-1"

    @property
    def members_available(self) -> list[str]:
        return ["astra_head", "tiny_mednext"]

    def predict(self, volume: HUVolume) -> TriagePrediction:
        self.threads.add(threading.current_thread().name)
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.error is not None:
            raise self.error
        self.seen.append((volume.series_uid, volume.shape))
        pathology = int(self.probability >= 0.59)
        return TriagePrediction(
            probability_of_pathology=self.probability, pathology=pathology, threshold=0.59,
            top_pathologies=["Pneumonia", "Consolidation"] if pathology else [],
            probability_of_pathology_thoracic=self.thoracic,
            pathology_thoracic=None if self.thoracic is None else int(self.thoracic >= 0.5),
            threshold_thoracic=None if self.thoracic is None else 0.5, model_version=self.model_version,
            members_available=self.members_available,
        )
