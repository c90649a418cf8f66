"""Predictors written for the tests: fixed answers, optional delay, optional failure."""

from __future__ import annotations

import threading
import time

from medskills.dicom.volume import HUVolume
from medskills.triage.pack_manifest import FittedOn, StackerProvenance
from medskills.triage.prediction import MemberUnavailable, TriagePrediction
from medskills.triage.preprocessing import StudyInputs


class FixedPredictor:
    """Answers a fixed probability after ``delay_seconds``; records the volumes it saw."""

    def __init__(self, *, probability: float = 0.87, delay_seconds: float = 0.0, error: Exception | None = None,
                 thoracic: float | None = 0.92, members: list[str] | None = None) -> None:
        self.probability = probability
        self.delay_seconds = delay_seconds
        self.error = error
        self.thoracic = thoracic
        self.members = ["astra_head", "tiny_mednext"] if members is None else members
        self.seen: list[tuple[str, tuple[int, int, int]]] = []
        self.threads: set[str] = set()

    @property
    def model_version(self) -> str:
        return "test-pack-1"

    @property
    def members_available(self) -> list[str]:
        return list(self.members)

    @property
    def members_unavailable(self) -> list[MemberUnavailable]:
        return [MemberUnavailable(name="fvlm", reason="not implemented")]

    def predict(self, volume: HUVolume, *, inputs: StudyInputs | None = None) -> TriagePrediction:
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
            stacker_provenance=StackerProvenance.SYNTHETIC,
            fitted_on=FittedOn(description="a fixed test answer, generated", study_count=1),
            members_available=self.members_available, members_unavailable=self.members_unavailable,
            feature_list_sha256="0" * 64,
        )


class GatedPredictor(FixedPredictor):
    """A :class:`FixedPredictor` that holds each study until ``release`` is set; ``started`` says one is held
    (so a test can queue a second request behind it without timing anything)."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.started = threading.Event()
        self.release = threading.Event()

    def predict(self, volume: HUVolume, *, inputs: StudyInputs | None = None) -> TriagePrediction:
        self.started.set()
        self.release.wait(timeout=120)
        return super().predict(volume, inputs=inputs)
