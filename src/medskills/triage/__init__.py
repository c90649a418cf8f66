"""Chest-CT triage: ensemble members, model packs, LightGBM stacker, REST service, batch client."""

from medskills.triage.ensemble import EnsemblePredictor, load_predictor
from medskills.triage.pack import LoadedPack, load_pack
from medskills.triage.pack_manifest import ModelPackManifest
from medskills.triage.prediction import FindingScore, Predictor, TriagePrediction

__all__ = [
    "EnsemblePredictor",
    "FindingScore",
    "LoadedPack",
    "ModelPackManifest",
    "Predictor",
    "TriagePrediction",
    "load_pack",
    "load_predictor",
]
