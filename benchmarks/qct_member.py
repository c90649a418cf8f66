"""The qct member on a 512x512x300 study, side by side with the bare threshold-and-label pass.

    /work/venv/bin/python benchmarks/qct_member.py [--repeats 3] [--threads 2]

The study is the real ``ct_chest_crop_1p5mm`` resampled (nearest neighbour) to 512x512x300 and
declared at 0.7 x 0.7 x 1.0 mm, so it has the voxel count and spacing of a routine chest CT (the
anatomy is enlarged; its metal, contrast and cut-off lungs are real). The floor is what any
lung finder must do at least once: threshold the volume at -400 HU and label it in 3-D
(``scipy.ndimage.label``). The member runs everything: lungs, airways, lung field, left/right
densitometry, metal and contrast. Both sides run alternately in the same process; medians and
the ratio member / floor (wall clock, and CPU seconds of all threads, which a busy machine
disturbs less) come from that one run and are written to ``benchmarks/results/qct_member.json``
together with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "qct_member.json"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHAPE = (512, 512, 300)
SPACING_MM = (0.7, 0.7, 1.0)


def build_study(source: Path) -> object:
    """The chest crop resampled to :data:`SHAPE` as an ``HUVolume`` at :data:`SPACING_MM`."""
    from scipy import ndimage

    from medskills.dicom import HUVolume, read_nifti_volume

    crop = read_nifti_volume(source)
    zoom = [target / size for target, size in zip(SHAPE, crop.shape, strict=True)]
    array = np.ascontiguousarray(ndimage.zoom(crop.array, zoom, order=0), dtype=np.float32)
    return HUVolume(array=array, affine=np.diag([*SPACING_MM, 1.0]), spacing_mm=SPACING_MM,
                    study_uid="benchmark", series_uid="benchmark.1")


def threshold_and_label(volume: object) -> int:
    from scipy import ndimage

    _, count = ndimage.label(volume.array < -400.0)  # type: ignore[attr-defined]
    return int(count)


def qct_member(volume: object) -> int:
    from medskills.triage.models.qct import QCTMember
    from medskills.triage.preprocessing import StudyInputs

    return int(QCTMember().compute(StudyInputs(volume)).size)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SHARED / "ct_chest_crop_1p5mm" / "image.nii.gz")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    volume = build_study(args.source)
    sides: dict[str, Callable[[object], int]] = {"threshold_and_label_floor": threshold_and_label,
                                                  "qct_member": qct_member}
    times: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.repeats):
        for name, run in sides.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            run(volume)
            times[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    medians = {name: round(statistics.median(values), 3) for name, values in times.items()}
    cpu_medians = {name: round(statistics.median(values), 3) for name, values in cpu.items()}
    result = {
        "study": f"{args.source.name} resampled to {SHAPE} at {SPACING_MM} mm",
        "repeats": args.repeats,
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "median_seconds": medians,
        "ratio_member_over_floor": round(medians["qct_member"] / medians["threshold_and_label_floor"], 2),
        "median_cpu_seconds_all_threads": cpu_medians,
        "cpu_ratio_member_over_floor": round(cpu_medians["qct_member"] / cpu_medians["threshold_and_label_floor"], 2),
        "all_seconds": {name: [round(v, 3) for v in values] for name, values in times.items()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
