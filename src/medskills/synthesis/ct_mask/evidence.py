"""Evidence about generated masks (raw MAISI ids): ids present against ids expected, and the mask gates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from medskills.core.errors import InputError
from medskills.core.io import sha256_file
from medskills.core.models import FrozenModel
from medskills.core.volumes import LabelStatistics, as_label_map, label_statistics, read_volume
from medskills.synthesis.nv_generate.generated_file import GeneratedFile

__all__ = ["BODY_LABEL", "MAX_MAISI_ID", "MaskOutputSummary", "MaskSample", "inspect_masks"]

BODY_LABEL = 200
MAX_MAISI_ID = 132


class MaskSample(GeneratedFile):
    """One generated mask read back: geometry, ids present, expected ids missing, per-class volumes."""

    label_ids_present: list[int] = []
    foreground_label_ids_present: list[int] = []
    expected_maisi_label_ids: list[int] = []
    missing_expected_maisi_label_ids: list[int] = []
    is_all_expected_present: bool = False
    label_statistics: LabelStatistics | None = None


class MaskOutputSummary(FrozenModel):
    """All masks of a run and the aggregates."""

    directory: Path
    samples: list[MaskSample]
    num_samples: int
    all_masks_readable: bool
    union_label_ids_present: list[int]
    missing_expected_maisi_label_ids: list[int]
    all_expected_maisi_labels_present: bool
    foreign_label_ids: list[int]


def _inspect(path: Path, expected_ids: Sequence[int]) -> MaskSample:
    base = {"path": path, "bytes": path.stat().st_size, "sha256": sha256_file(path),
            "expected_maisi_label_ids": list(expected_ids)}
    try:
        volume = read_volume(path)
        stats = label_statistics(as_label_map(volume.array, where=str(path)), volume.geometry.spacing_mm)
    except InputError as err:
        return MaskSample(is_readable=False, error=str(err), missing_expected_maisi_label_ids=list(expected_ids),
                          **base)  # type: ignore[arg-type]
    present = stats.label_ids_present
    missing = [label_id for label_id in expected_ids if label_id not in present]
    return MaskSample(
        is_readable=True, shape=volume.geometry.shape, spacing_mm=volume.geometry.spacing_mm, label_ids_present=present,
        foreground_label_ids_present=[i for i in present if i != BODY_LABEL], missing_expected_maisi_label_ids=missing,
        is_all_expected_present=not missing, label_statistics=stats, **base,  # type: ignore[arg-type]
    )


def inspect_masks(directory: Path, paths: Sequence[Path], *, expected_ids: Sequence[int]) -> MaskOutputSummary:
    """Read every mask once and aggregate; ``all_*`` flags are False when there are no masks."""
    samples = [_inspect(path, expected_ids) for path in paths]
    union = sorted({i for sample in samples for i in sample.label_ids_present})
    missing = sorted({i for sample in samples for i in sample.missing_expected_maisi_label_ids})
    return MaskOutputSummary(
        directory=directory, samples=samples, num_samples=len(samples),
        all_masks_readable=bool(samples) and all(sample.is_readable for sample in samples),
        union_label_ids_present=union, missing_expected_maisi_label_ids=missing,
        all_expected_maisi_labels_present=bool(samples) and all(sample.is_all_expected_present for sample in samples),
        foreign_label_ids=[i for i in union if i > MAX_MAISI_ID and i != BODY_LABEL],
    )
