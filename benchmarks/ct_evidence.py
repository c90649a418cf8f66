"""CT evidence (+ card) for a 512^3 float32 image + label pair with 30 labels, against two anchors.

Run: python benchmarks/ct_evidence.py [--size 512] [--repeats 3] [--with-files]

Compared in one process, on the same arrays:

- **ours**: what ``synthesis.ct_evidence.describe_sample`` computes after reading the files: intensity
  summary, integral check + cast of the float32 label (``core.volumes.as_label_map``), per-label counts
  and mL in one ``np.bincount`` pass (``core.volumes.label_statistics``);
- **per-label loops** (the reference wrapper/verifier style): int64 cast, ``np.unique`` for the ids
  present, then one ``labels == id`` mask and sum per label;
- **bincount floor**: a bare ``np.bincount`` of the already-integer label map.

The card (``core.card`` triptych with overlay + HTML) is timed separately because it does not scale
with the number of labels. ``--with-files`` also writes the pair as uncompressed NIfTI and times the
whole ``describe_sample`` (reads included). Best of ``--repeats`` runs is reported.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from medskills.core.card import CardPanel, render_card_html
from medskills.core.volumes import as_label_map, label_statistics, summarize_intensity, write_nifti
from medskills.synthesis.paired_ct.evidence import describe_sample
from medskills.synthesis.paired_ct.record import LabelMappingEntry

NUM_LABELS = 30
SPACING_MM = (0.75, 0.75, 1.0)


def make_pair(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A float32 HU-like image and a float32 label map with 30 blocky labels (upstream's on-disk dtypes)."""
    rng = np.random.default_rng(seed)
    cells = size // 32
    coarse = rng.integers(0, NUM_LABELS + 1, size=(cells, cells, cells)).astype(np.float32)
    label = coarse.repeat(32, axis=0).repeat(32, axis=1).repeat(32, axis=2)
    image = (label * 40.0 - 1000.0).astype(np.float32)
    image += rng.normal(0.0, 20.0, size=image.shape[2]).astype(np.float32)  # cheap variation along z
    return image, label


def ours(image: np.ndarray, label: np.ndarray) -> dict[int, int]:
    summarize_intensity(image)
    labels = as_label_map(label, where="benchmark label")
    statistics = label_statistics(labels, SPACING_MM)
    return {entry.label_id: entry.voxel_count for entry in statistics.labels}


def ours_labels_only(label: np.ndarray) -> dict[int, int]:
    statistics = label_statistics(as_label_map(label, where="benchmark label"), SPACING_MM)
    return {entry.label_id: entry.voxel_count for entry in statistics.labels}


def per_label_loops(label: np.ndarray) -> dict[int, int]:
    labels = np.rint(label).astype(np.int64)
    present = [int(i) for i in np.unique(labels) if i != 0]
    return {i: int((labels == i).sum()) for i in present}


def best_of(repeats: int, action: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--with-files", action="store_true")
    options = parser.parse_args()
    image, label = make_pair(options.size)
    integer_labels = label.astype(np.int32)
    affine = np.diag([*SPACING_MM, 1.0])
    print(f"workload: {image.shape} float32 image + float32 label, {NUM_LABELS} labels, best of {options.repeats}")

    t_ours, counts_ours = best_of(options.repeats, lambda: ours(image, label))
    t_labels, counts_labels = best_of(options.repeats, lambda: ours_labels_only(label))
    t_loops, counts_loops = best_of(options.repeats, lambda: per_label_loops(label))
    t_floor, floor = best_of(options.repeats, lambda: np.bincount(integer_labels.ravel()))
    assert counts_ours == counts_loops == counts_labels
    assert counts_ours == {i: int(c) for i, c in enumerate(floor) if i and c}
    panel = CardPanel(title="sample", image=image, affine=affine, label=label, window=(-200.0, 250.0))
    t_card, _ = best_of(options.repeats, lambda: render_card_html(title="bench", subtitle="", status="passed",
                                                                   panels=[panel], tables=[]))
    rows = [
        ("ours: evidence (intensity + label stats)", t_ours),
        ("ours: label stats only (check + cast + bincount)", t_labels),
        ("anchor: per-label loops", t_loops),
        ("floor: bare np.bincount", t_floor),
        ("card (triptych + HTML)", t_card),
        ("ours: evidence + card", t_ours + t_card),
    ]
    if options.with_files:
        with tempfile.TemporaryDirectory() as folder:
            image_path = write_nifti(Path(folder) / "sample_x_image.nii", image, affine)
            label_path = write_nifti(Path(folder) / "sample_x_label.nii", label, affine)
            mapping = [LabelMappingEntry(output_label_id=i, maisi_label_id=i, anatomy=str(i))
                       for i in range(1, NUM_LABELS + 1)]
            t_files, _ = best_of(options.repeats, lambda: describe_sample(image_path, label_path, mapping))
        rows.append(("describe_sample from files (reads + sha256 included)", t_files))
    for name, seconds in rows:
        print(f"  {name:<58s} {seconds:8.3f} s")
    print(f"loops / ours (label stats):          {t_loops / t_labels:6.1f}x  (target >= 5)")
    print(f"loops / ours (evidence):             {t_loops / t_ours:6.1f}x")
    print(f"ours (label stats) / bincount floor: {t_labels / t_floor:6.2f}x  (target <= 3)")
    print(f"ours (evidence) / bincount floor:    {t_ours / t_floor:6.2f}x")
    print(f"loops / ours (evidence + card):      {t_loops / (t_ours + t_card):6.1f}x")
    print(f"ours (evidence + card) / floor:      {(t_ours + t_card) / t_floor:6.2f}x")


if __name__ == "__main__":
    main()
