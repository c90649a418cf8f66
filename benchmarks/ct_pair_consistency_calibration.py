"""Calibrate ``ct_pair_consistency_v1`` on real CT + TotalSegmentator pairs, correct and deliberately broken.

Usage::

    python benchmarks/ct_pair_consistency_calibration.py [--output benchmarks/results/ct_pair_consistency_calibration.json]

Correct pairs: ``ct_abdomen_3mm`` and ``ct_dicom_series`` with their TotalSegmentator references. Broken
pairs (the same image): the label map shifted 30 mm toward each of the patient's right, left, front and
back; flipped left-right; and two organs' labels swapped (liver<->spleen, right<->left kidney,
stomach<->gallbladder, aorta<->inferior vena cava). For every organ and variant it records the pooled
Dice over the organ's largest slices and the side offset, then proposes a Dice threshold per organ
halfway between the lowest correct Dice and the highest Dice of the shifted/flipped pairs, where the
two groups separate. Swaps leave the prompted regions unchanged, so only the side check can see them.
Each slice is encoded once per scan and reused by every variant (the image never changes). Anchor:
LiteMedSAM's Dice with per-slice boxes in ``../shared/research/offline_models.md`` (liver 0.935 ...).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

from medskills.core.label_spaces import LabelSpace
from medskills.dicom import read_dicom_series
from medskills.pretrained.litemedsam import load_litemedsam
from medskills.verification.ct_pair_consistency_calibration import load_consistency_calibration
from medskills.verification.ct_pair_consistency_measure import (
    RasPair,
    SliceSegmenter,
    measure_organs,
    measure_side,
    to_ras_pair,
)
from medskills.verification.ct_pair_consistency_v1 import organs_in_labels

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SHIFT_MM = 30.0
SWAPS = (("liver", "spleen"), ("right kidney", "left kidney"), ("stomach", "gallbladder"),
         ("aorta", "inferior vena cava"))


def _scans() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    abdomen = nib.as_closest_canonical(nib.load(DATA / "ct_abdomen_3mm" / "image.nii.gz"))
    abdomen_labels = nib.as_closest_canonical(nib.load(DATA / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz"))
    series = read_dicom_series(DATA / "ct_dicom_series").volume
    series_labels = nib.as_closest_canonical(nib.load(DATA / "ct_dicom_series_reference_totalsegmentator.nii.gz"))
    if not np.allclose(series.affine, series_labels.affine, atol=1e-3):
        raise SystemExit("ct_dicom_series and its reference are not on one grid")
    return {
        "ct_abdomen_3mm": (np.asarray(abdomen.dataobj, np.float32), np.asarray(abdomen_labels.dataobj), abdomen.affine),
        "ct_dicom_series": (series.array, np.asarray(series_labels.dataobj), series.affine),
    }


def _variants(pair: RasPair, ids: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    spacing = np.sqrt((pair.affine[:3, :3] ** 2).sum(axis=0))
    variants = {"correct": pair.labels, "flip_left_right": pair.labels[::-1, :, :]}
    for name, axis, sign in (("right", 0, 1), ("left", 0, -1), ("front", 1, 1), ("back", 1, -1)):
        offset = [0.0, 0.0, 0.0]
        offset[axis] = sign * SHIFT_MM / spacing[axis]
        variants[f"shift_{name}_{SHIFT_MM:.0f}mm"] = ndimage.shift(pair.labels, offset, order=0, cval=0)
    for first, second in SWAPS:
        if first in ids and second in ids:
            lookup = np.arange(pair.labels.max() + 1)
            for a, b in zip(ids[first], ids[second]):
                lookup[a], lookup[b] = b, a
            variants[f"swap_{first}_{second}".replace(" ", "_")] = lookup[pair.labels]
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path,
                        default=REPO / "benchmarks" / "results" / "ct_pair_consistency_calibration.json")
    args = parser.parse_args()
    import torch

    calibration = load_consistency_calibration()
    names = {int(k): v for k, v in json.loads((DATA / "totalsegmentator_total_labels.json").read_text()).items()}
    started, load_before = time.perf_counter(), os.getloadavg()
    model = load_litemedsam()
    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    timing = {}
    for scan, (image, labels, affine) in _scans().items():
        correct = to_ras_pair(image, labels.astype(np.int32), affine)
        organs, _ = organs_in_labels(correct.labels, names, LabelSpace.TOTALSEGMENTATOR, calibration)
        ids = {organ.anatomy: organ.label_ids for organ in organs}
        segmenter = SliceSegmenter(model, correct.image)
        scan_start = time.perf_counter()
        results[scan] = {}
        for variant, variant_labels in _variants(correct, ids).items():
            pair = RasPair(correct.image, np.ascontiguousarray(variant_labels), correct.affine,
                           correct.file_slice_index, correct.voxel_volume_ml)
            present = [o for o in organs if np.isin(pair.labels, o.label_ids).any()]
            measured = measure_organs(pair, present, segmenter, slices_per_organ=calibration.slices_per_organ)
            row = {m.anatomy: {"dice": m.dice, "worst_slice_dice": m.worst_slice_dice,
                               "slices": [s.slice_index for s in m.slices]} for m in measured}
            for organ in present:
                side = calibration.organ(organ.anatomy)
                if side is not None and side.side is not None:
                    row[organ.anatomy]["side_offset_mm"] = measure_side(pair, organ, side.side).offset_mm
            results[scan][variant] = row
            print(scan, variant, {k: v["dice"] for k, v in row.items()}, flush=True)
        timing[scan] = {"slices_encoded": len(segmenter.encoded_slices),
                        "seconds": round(time.perf_counter() - scan_start, 1)}
    document = {
        "what": __doc__.splitlines()[0],
        "slices_per_organ": calibration.slices_per_organ, "shift_mm": SHIFT_MM,
        "results": results, "summary": _summary(results), "timing": timing,
        "total_seconds": round(time.perf_counter() - started, 1), "torch_threads": torch.get_num_threads(),
        "load_average_before_after": [load_before, os.getloadavg()],
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
    }
    args.output.write_text(json.dumps(document, indent=1) + "\n")
    print(json.dumps(document["summary"], indent=1))


def _summary(results: dict[str, dict[str, dict[str, dict[str, float]]]]) -> dict[str, dict[str, object]]:
    """Per organ: lowest correct Dice, highest broken Dice per kind, proposed threshold, sides."""
    summary: dict[str, dict[str, object]] = {}
    organs = sorted({organ for scan in results.values() for organ in scan["correct"]})
    for organ in organs:
        def values(kind: str, key: str = "dice", organ: str = organ) -> list[float]:
            return [row[organ][key] for scan in results.values() for variant, row in scan.items()
                    if variant.startswith(kind) and organ in row and key in row[organ]]

        correct, shifted, flipped = values("correct"), values("shift"), values("flip")
        broken = shifted + flipped
        item: dict[str, object] = {
            "correct_min": min(correct), "shift_max": max(shifted, default=None),
            "flip_max": max(flipped, default=None), "swap_dice": values("swap"),
            "separated_by_dice": bool(broken) and max(broken) < min(correct),
            "correct_side_min_mm": min(values("correct", "side_offset_mm"), default=None),
            "flip_side_max_mm": max(values("flip", "side_offset_mm"), default=None),
            "swap_side_mm": values("swap", "side_offset_mm"),
        }
        if item["separated_by_dice"]:
            item["proposed_threshold"] = round((min(correct) + max(broken)) / 2, 2)
        summary[organ] = item
    return summary


if __name__ == "__main__":
    main()
