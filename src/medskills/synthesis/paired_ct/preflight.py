"""Preflight of a paired CT run: request rules plus machine readiness, collected in one pass.

Readiness problems (no upstream clone, missing weights or datasets, no GPU, numpy/monai traps) are
recorded with ``blocks_request=False``: they make the environment not ready but leave the request
valid, so ``--preflight-only`` can validate a request on a machine with nothing installed.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from pydantic import JsonValue

from medskills.core.assets import AssetKind, assets_for
from medskills.core.skills import SkillId
from medskills.core.errors import InputError
from medskills.core.models import PreflightReport, WeightFile
from medskills.core.preflight import PreflightCollector, check_gpu, check_unknown_keys
from medskills.core.provenance import DeviceInfo, package_versions
from medskills.core.settings import Settings
from medskills.synthesis.nv_generate.anatomy import AnatomyTable, load_anatomy_table
from medskills.synthesis.nv_generate.cost import estimate_ct_cost
from medskills.synthesis.nv_generate.config_rules import check_inference_config
from medskills.synthesis.nv_generate.ct_inference import ALLOWED_OVERRIDE_KEYS, InferenceSettings, MaskPath
from medskills.synthesis.paired_ct.request import CTRunRequest
from medskills.synthesis.nv_generate.checks import (
    check_upstream_commit,
    check_upstream_requirements,
    check_weights,
    read_config_infer,
    resolve_generate_root,
)

__all__ = ["REFERENCE_KEYS", "CTPreflight", "run_ct_preflight"]

REFERENCE_KEYS = ("controlnet", "diffusion_unet", "autoencoder", "mask_generation_autoencoder",
                  "mask_generation_diffusion")
# Upstream's config_infer.json (and every config_infer_*g_*.json preset) names the networks it builds
# with these '$@<key>_def' references; an override file may repeat them, never change them.
REFERENCE_VALUES = {key: f"$@{key}_def" for key in REFERENCE_KEYS}
VRAM_WARNING_FRACTION = 0.85
_SETUP_FIX = "run `medskills setup synth-ct` (downloads weights and datasets at the pinned revision)"


@dataclass(frozen=True)
class CTPreflight:
    """Everything preflight learned; the run reuses it instead of looking again."""

    report: PreflightReport
    settings: InferenceSettings | None
    table: AnatomyTable
    upstream_root: Path | None
    data_root: Path | None
    base_config: dict[str, JsonValue]
    weights: list[WeightFile]
    is_inventory_complete: bool


def _read_json_object(c: PreflightCollector, path: Path, *, code: str) -> dict[str, JsonValue] | None:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        c.error(code, f"{path} is missing or not valid JSON: {err}.", field=str(path),
                fix="restore the file from the upstream clone (`git -C <root> checkout -- configs`)", blocks_request=False)
        return None
    if not isinstance(loaded, dict):
        c.error(code, f"{path} must hold a JSON object.", field=str(path), blocks_request=False)
        return None
    return loaded


def _base_config(c: PreflightCollector, root: Path | None) -> dict[str, JsonValue]:
    """Upstream's config_infer.json over the shipped values; its ``$@`` reference keys must be intact."""
    base: dict[str, JsonValue] = read_config_infer(c, root)
    lost = [key for key in REFERENCE_KEYS if not str(base.get(key, "")).startswith("$@")]
    if root is not None and lost:
        c.error("upstream_reference_keys_missing", f"upstream configs/config_infer.json lacks the '$@' reference "
                f"keys {lost}; upstream would fail with a KeyError.", field="configs/config_infer.json",
                fix="restore the file: `git -C <root> checkout -- configs/config_infer.json`", blocks_request=False)
    return base


def _check_reference_overrides(c: PreflightCollector, overrides: dict[str, JsonValue], base: dict[str, JsonValue],
                               *, where: str) -> None:
    """Network-definition keys may appear in the override file only with upstream's own reference value."""
    for key in REFERENCE_KEYS:
        if key not in overrides:
            continue
        expected = base.get(key) if str(base.get(key, "")).startswith("$@") else REFERENCE_VALUES[key]
        if overrides[key] != expected:
            c.error("reference_key_changed", f"{key!r} in {where} is {overrides[key]!r}; upstream builds this network "
                    f"from the reference {expected!r}, and the wrapper cannot run a different network definition.",
                    field=key, fix=f'remove {key!r} from the override file or set it to "{expected}"')


def _load_table(c: PreflightCollector, root: Path | None) -> AnatomyTable:
    upstream_dict = root / "configs" / "label_dict.json" if root is not None else None
    try:
        table = load_anatomy_table(upstream_label_dict=upstream_dict)
    except InputError as err:
        c.error("upstream_label_dict_unreadable", str(err), field="configs/label_dict.json", blocks_request=False)
        return load_anatomy_table()
    if table.differences:
        shown = "; ".join(table.differences[:5]) + (" ..." if len(table.differences) > 5 else "")
        c.warning("label_dict_differs", f"upstream label_dict.json differs from the packaged MAISI table "
                  f"({len(table.differences)} difference(s): {shown}); the upstream table is used.",
                  field="configs/label_dict.json")
    return table


def _check_upstream_files(c: PreflightCollector, root: Path, request: CTRunRequest) -> None:
    network = root / "configs" / f"config_network_{request.version.network}.json"
    if not network.is_file():
        c.error("upstream_file_missing", f"{network} is missing.", field=str(network),
                fix="use a complete clone of NV-Generate-CTMR", blocks_request=False)
    environment = _read_json_object(c, root / "configs" / f"environment_{request.version.value}.json",
                                    code="upstream_file_missing")
    nulls = [key for key, value in (environment or {}).items() if value is None]
    if nulls:
        c.error("upstream_env_null", f"environment_{request.version.value}.json has null values for {nulls}; "
                "upstream crashes on them.", field=f"configs/environment_{request.version.value}.json",
                blocks_request=False)


def _check_datasets(c: PreflightCollector, data_root: Path, request: CTRunRequest, mask_path: MaskPath) -> bool:
    """Every dataset file upstream's downloader checks under ``data_root``; True when all are present.

    ``scripts.inference`` always calls ``download_model_data(version, root_dir)`` with ``model_only=False``,
    which requires the size-condition JSON, the candidate JSON and the mask **zip** on every run, whatever
    the mask path (an extracted folder without its zip is fetched again, or fails offline). The list is
    the packaged one, which ``tests/unit/core/test_assets.py`` proves equal to upstream's own lists.
    Path B also reads the extracted folder; upstream extracts the zip on first use.
    """
    is_complete = True
    for asset in assets_for(SkillId.SYNTH_CT, request.version.value, kind=AssetKind.DATASET):
        archive = data_root / asset.target
        if not archive.is_file():
            is_complete = False
            c.error("dataset_missing", f"{archive} is missing; upstream's download_model_data({request.version.value!r}) "
                    f"requires it on every run (Path {mask_path.value} included) under the data root {data_root} "
                    "(MONAI_DATA_DIRECTORY), and would otherwise download it or fail offline.", field=str(archive),
                    fix=f"{_SETUP_FIX}, or set MONAI_DATA_DIRECTORY to the folder holding datasets/",
                    blocks_request=False)
        elif asset.is_archive and mask_path is MaskPath.B and not (data_root / asset.runtime_target).exists():
            _check_extraction_space(c, data_root, asset.runtime_target, archive,
                                    asset.unpacked_size_mb_approx or asset.size_mb_approx)
    return is_complete


def _check_extraction_space(c: PreflightCollector, data_root: Path, runtime_target: str, archive: Path,
                            need_mb: float) -> None:
    free_mb = shutil.disk_usage(data_root).free / 1e6
    runtime = data_root / runtime_target
    if free_mb < need_mb:
        c.error("no_space_to_extract", f"{archive} is not extracted and only {free_mb:.0f} MB are free; "
                f"upstream extracts about {need_mb:.0f} MB on first use.", field=str(runtime),
                fix=f"free disk space or extract it yourself into {runtime}", blocks_request=False)
    else:
        c.warning("masks_not_extracted", f"{archive} will be extracted by upstream on first use "
                  f"(about {need_mb:.0f} MB).", field=str(runtime))


def _version_tuple(text: str | None) -> tuple[int, ...]:
    parts = []
    for piece in (text or "").split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _check_packages(c: PreflightCollector, request: CTRunRequest, root: Path | None) -> None:
    """Upstream's requirements.txt (when a clone is present), then the version traps pip does not catch."""
    check_upstream_requirements(c, root)
    versions = package_versions(("numpy", "monai", "torch"))
    numpy_version = _version_tuple(versions["numpy"])
    if (1, 24) <= numpy_version < (2, 0):
        c.error("numpy_np_long", f"numpy {versions['numpy']} lacks np.long, which upstream's mask post-processing "
                "uses (Path A and the Path-B resample fail).", field="numpy",
                fix="pip install 'numpy>=2.0'", blocks_request=False)
    for name in ("monai", "torch"):
        if versions[name] is None and root is None:  # with a clone, requirements.txt names them
            c.error("package_missing", f"{name} is not installed in this Python; upstream imports it.", field=name,
                    fix=f"pip install {name}", blocks_request=False)
    if versions["monai"] is not None and request.version.network == "rflow" and _version_tuple(versions["monai"]) < (1, 5):
        c.error("monai_too_old", f"monai {versions['monai']} has no RFlowScheduler (added in 1.5.0).", field="monai",
                fix="pip install 'monai>=1.5'", blocks_request=False)


def run_ct_preflight(
    request: CTRunRequest, overrides: dict[str, JsonValue], *, settings: Settings, device: DeviceInfo,
    expected_sha256: dict[str, str] | None = None,
) -> CTPreflight:
    """Check the request and the machine; never raises for a finding (they are all in the report).

    ``expected_sha256`` replaces the weight pins of ``core.assets`` (keyed by file name).
    """
    c = PreflightCollector()
    root = resolve_generate_root(c, settings)
    table = _load_table(c, root)
    base = _base_config(c, root)
    where = f"config file {request.config_path}" if request.config_path else "the default config"
    check_unknown_keys(c, overrides, {*ALLOWED_OVERRIDE_KEYS, *REFERENCE_KEYS}, where=where)
    _check_reference_overrides(c, overrides, base, where=where)
    merged = {**base, **{k: v for k, v in overrides.items() if k in ALLOWED_OVERRIDE_KEYS}}
    inference = check_inference_config(c, merged, table=table, version=request.version)
    data_root = Path(settings.monai_data_directory).absolute() if settings.monai_data_directory else root
    weights: list[WeightFile] = []
    is_complete = False
    if root is not None:
        _check_upstream_files(c, root, request)
        check_upstream_commit(c, root, skill=SkillId.SYNTH_CT, version=request.version.value)
        weights = check_weights(c, settings, SkillId.SYNTH_CT, request.version.value, root,
                                expected_sha256=expected_sha256)
        raw_controllable = merged.get("controllable_anatomy_size")
        mask_path = inference.mask_path if inference else (MaskPath.A if raw_controllable else MaskPath.B)
        is_datasets_complete = _check_datasets(c, data_root or root, request, mask_path)
        is_complete = is_datasets_complete and all(w.is_present for w in weights)
    check_gpu(c, settings, device, needed_for="paired CT generation")
    _check_packages(c, request, root)
    cost = estimate_ct_cost(inference, request.version) if inference else None
    if cost and device.total_memory_gb and cost.peak_vram_gb > VRAM_WARNING_FRACTION * device.total_memory_gb:
        c.warning("vram_tight", f"estimated peak {cost.peak_vram_gb} GB is above {VRAM_WARNING_FRACTION:.0%} of the "
                  f"GPU's {device.total_memory_gb} GB.", field="output_size",
                  fix="raise autoencoder_tp_num_splits or lower the sliding-window size")
    return CTPreflight(report=c.report(cost=cost), settings=inference, table=table, upstream_root=root,
                       data_root=data_root, base_config=base, weights=weights, is_inventory_complete=is_complete)
