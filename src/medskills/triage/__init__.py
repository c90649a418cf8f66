"""Chest-CT triage: ensemble members, model packs, LightGBM stacker, REST service, batch client."""

from medskills.triage.prediction import Predictor, TriagePrediction

__all__ = ["Predictor", "TriagePrediction"]
