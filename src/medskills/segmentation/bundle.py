"""The NV-Segment-CTMR bundle: its layout, the settings we read from its config, the exact command line.

The bundle is run as ``python -m monai.bundle run`` with the bundle root as working directory,
because ``models/model.pt``, ``configs/label_mappings.json`` and ``import scripts`` are all resolved
relative to it. The output lands at ``<output_dir>/<stem>/<stem>_trans.nii.gz``.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from medskills.core.assets import AssetKind, assets_for
from medskills.core.skills import SkillId
from medskills.core.io import write_text_atomic
from medskills.core.settings import Settings

__all__ = [
    "BUNDLE_LAYOUT",
    "CONFIG_FILE",
    "BundleConfig",
    "build_bundle_argv",
    "estimate_timeout_seconds",
    "expected_output_path",
    "missing_layout_files",
    "read_bundle_config",
    "read_bundle_version",
    "resolve_bundle_root",
    "window_count",
    "write_logging_file",
]

CONFIG_FILE = "configs/inference.json"
# What a bundle run reads; configs/label_dict.json is not among them (names come from metadata.json).
BUNDLE_LAYOUT = (
    CONFIG_FILE,
    "configs/metadata.json",
    "configs/label_mappings.json",
    "scripts/evaluator.py",
    "scripts/inferer.py",
)
DEFAULT_RESAMPLE_SPACING_MM = (1.5, 1.5, 1.5)
DEFAULT_PATCH_SIZE = (192, 192, 128)
SLIDING_WINDOW_OVERLAP = 0.25  # the inferer does not forward its configured 0.3; MONAI's default applies
OUTPUT_POSTFIX = "trans"
# Seconds per 192x192x128 window: measured 64-90 s on 2 CPU cores (segment.md §E.3); a GPU is ~10x faster.
SECONDS_PER_WINDOW = {"cpu": 90.0, "cuda": 10.0}
MODEL_LOAD_SECONDS = 120.0
TIMEOUT_SAFETY_FACTOR = 3.0
MINIMUM_TIMEOUT_SECONDS = 300.0
ALLOC_CONF = "max_split_size_mb:128,expandable_segments:True"
LOGGING_FILE_NAME = "bundle_logging.conf"
# The bundle's configs/logging.conf also has a FileHandler writing training.log into the working
# directory, which is the user's upstream clone. This is the same console handler, level and format
# without that file (the runner captures stdout into OUT/logs).
_CONSOLE_ONLY_LOGGING = """[loggers]
keys=root

[handlers]
keys=consoleHandler

[formatters]
keys=fullFormatter

[logger_root]
level=INFO
handlers=consoleHandler

[handler_consoleHandler]
class=StreamHandler
level=INFO
formatter=fullFormatter
args=(sys.stdout,)

[formatter_fullFormatter]
format=%(asctime)s - %(name)s - %(levelname)s - %(message)s
"""


@dataclass(frozen=True)
class BundleConfig:
    """The numbers of ``configs/inference.json`` the cost model needs (defaults when absent)."""

    resample_spacing_mm: tuple[float, float, float]
    patch_size: tuple[int, int, int]


def resolve_bundle_root(settings: Settings) -> Path:
    """``NV_SEGMENT_CTMR_ROOT``, else ``.workbench_data/upstreams/NV-Segment-CTMR/NV-Segment-CTMR``."""
    root = settings.nv_segment_ctmr_root or settings.default_nv_segment_ctmr_root
    return Path(root).absolute()


def missing_layout_files(root: Path) -> list[str]:
    """Bundle files (relative to ``root``) that are missing."""
    return [name for name in BUNDLE_LAYOUT if not (root / name).is_file()]


def model_weight_path(root: Path) -> Path:
    """Where the bundle loads its weights from (``models/model.pt``), per the asset manifest."""
    weights = assets_for(SkillId.SEGMENT_CTMR, kind=AssetKind.WEIGHT)
    return root / weights[0].target


def read_bundle_config(root: Path) -> BundleConfig:
    """Read ``resample_spacing`` and ``patch_size`` when they are plain numbers; else the bundle defaults."""
    try:
        document = json.loads((root / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        document = {}
    spacing = _numbers(document.get("resample_spacing"), DEFAULT_RESAMPLE_SPACING_MM)
    patch = _numbers(document.get("patch_size"), DEFAULT_PATCH_SIZE)
    return BundleConfig(
        resample_spacing_mm=(float(spacing[0]), float(spacing[1]), float(spacing[2])),
        patch_size=(int(patch[0]), int(patch[1]), int(patch[2])),
    )


def _numbers(value: object, default: tuple[float, ...]) -> tuple[float, ...]:
    if isinstance(value, list) and len(value) == 3 and all(isinstance(v, (int, float)) for v in value):
        return tuple(float(v) for v in value)
    return default


def read_bundle_version(root: Path) -> str | None:
    """``version`` of ``configs/metadata.json``, or None when unreadable."""
    try:
        version = json.loads((root / "configs" / "metadata.json").read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return str(version) if version is not None else None


def window_count(shape: tuple[int, int, int], patch_size: tuple[int, int, int]) -> int:
    """Sliding windows over ``shape`` (voxels at model spacing) at MONAI's default overlap of 0.25."""
    total = 1
    for size, roi in zip(shape, patch_size, strict=True):
        stride = max(1, int(roi * (1 - SLIDING_WINDOW_OVERLAP)))
        total *= 1 if size <= roi else math.ceil((size - roi) / stride) + 1
    return total


def estimate_timeout_seconds(windows: int, *, device_kind: str) -> float:
    """Timeout from the window count: load time plus windows x seconds per window, with a safety factor."""
    per_window = SECONDS_PER_WINDOW["cuda" if device_kind.startswith("cuda") else "cpu"]
    return max(MINIMUM_TIMEOUT_SECONDS, MODEL_LOAD_SECONDS + TIMEOUT_SAFETY_FACTOR * windows * per_window)


def nifti_stem(path: Path) -> str:
    """File name without ``.nii.gz`` / ``.nii``, as MONAI's SaveImaged derives it."""
    name = path.name
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def expected_output_path(bundle_output_dir: Path, image_path: Path) -> Path:
    """The one file the bundle writes for ``image_path``: ``<dir>/<stem>/<stem>_trans.nii.gz``."""
    stem = nifti_stem(image_path)
    return bundle_output_dir / stem / f"{stem}_{OUTPUT_POSTFIX}.nii.gz"


def write_logging_file(log_dir: Path) -> Path:
    """Write the console-only logging config the run uses, so the bundle writes nothing into its root."""
    return write_text_atomic(Path(log_dir) / LOGGING_FILE_NAME, _CONSOLE_ONLY_LOGGING)


def build_bundle_argv(
    *, image_path: Path, label_prompt: list[int] | None, modality: str, bundle_output_dir: Path, device: str,
    logging_file: Path,
) -> list[str]:
    """The exact ``monai.bundle run`` argv; absolute paths, ids as ints, ``--modality`` always passed."""
    input_dict: dict[str, object] = {"image": str(Path(image_path).absolute())}
    if label_prompt is not None:
        input_dict["label_prompt"] = [int(i) for i in label_prompt]
    return [
        sys.executable, "-m", "monai.bundle", "run",
        "--config_file", CONFIG_FILE,
        "--logging_file", str(Path(logging_file).absolute()),
        "--input_dict", repr(input_dict),
        "--modality", modality,
        "--output_dir", str(Path(bundle_output_dir).absolute()),
        "--device", f"$torch.device('{device}')",
    ]
