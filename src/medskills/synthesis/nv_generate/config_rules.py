"""Request rules for the paired CT config: every key and value checked, every problem collected.

Upstream checks only part of this (spec §0.6, §0.7, §B.1, §H.3) and only after loading several GB of
weights; here all of it runs before anything is staged. Each rule reports through the collector
with the offending field and a fix; the typed settings are built only when no rule failed.
"""

from __future__ import annotations

from pydantic import JsonValue

from medskills.core.preflight import PreflightCollector, suggestion_text
from medskills.synthesis.nv_generate.anatomy import (
    CONTROLLABLE_SLOTS,
    CONTROLLABLE_TUMORS,
    REQUEST_BODY_REGIONS,
    AnatomyTable,
    BodyRegion,
)
from medskills.synthesis.nv_generate.ct_inference import CTVersion, InferenceSettings
from medskills.synthesis.nv_generate.checks import (
    MAX_STEPS,
    check_guidance,
    check_steps,
    is_finite_number,
    is_integer_value,
)

__all__ = ["check_inference_config", "OUTPUT_XY_SIZES", "OUTPUT_Z_SIZES"]

OUTPUT_XY_SIZES = (256, 384, 512)
OUTPUT_Z_SIZES = (128, 256, 384, 512, 640, 768)
SPACING_XY_RANGE_MM = (0.5, 3.0)
SPACING_Z_RANGE_MM = (0.5, 5.0)
MIN_FOV_MM = 256.0
RECOMMENDED_BODY_FOV_MM = 384.0
MAX_CONTROLLABLE = 10
SMALL_TUMOR_SIZE = 0.5
OUTPUT_EXTENSIONS = (".nii", ".nii.gz")
TP_SPLITS = (1, 2, 4, 8, 16)
CT_MODALITIES = range(1, 8)
MAX_CFG_SCALE = 5.0


def _int_in(c: PreflightCollector, key: str, value: JsonValue, low: int, high: int | None = None) -> int | None:
    if not is_integer_value(value) or value < low or (high is not None and value > high):  # type: ignore[operator]
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        c.error("bad_value", f"{key} must be an integer {bound}, got {value!r}.", field=key,
                fix=f"set {key} to an integer {bound}")
        return None
    return int(value)  # type: ignore[arg-type]


def _names(c: PreflightCollector, key: str, value: JsonValue) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        c.error("bad_type", f"{key} must be a list of names, got {value!r}.", field=key,
                fix=f'write {key} as a JSON list of strings, e.g. ["liver"]')
        return None
    return [str(item) for item in value]


def _check_body_region(c: PreflightCollector, value: JsonValue) -> list[str] | None:
    regions = _names(c, "body_region", value)
    for index, region in enumerate(regions or []):
        if region not in REQUEST_BODY_REGIONS:
            c.error("unknown_body_region", f"body_region {region!r} is not a region upstream knows."
                    f"{suggestion_text(region, REQUEST_BODY_REGIONS)}", field=f"body_region[{index}]",
                    fix=f"use one of: {', '.join(REQUEST_BODY_REGIONS)}")
    return regions


def _check_anatomy_list(c: PreflightCollector, value: JsonValue, table: AnatomyTable) -> list[str] | None:
    names = _names(c, "anatomy_list", value)
    if names is None:
        return None
    known = table.by_name()
    requestable = table.requestable_names()
    for index, name in enumerate(names):
        where = f"anatomy_list[{index}]"
        if name in known and known[name].is_placeholder:
            c.error("placeholder_anatomy", f"{name!r} is an unused placeholder id in the MAISI table, not an anatomy.",
                    field=where, fix="remove it; run `medskills anatomy list` for real names")
        elif name not in known:
            c.error("unknown_anatomy", f"unknown anatomy {name!r}.{suggestion_text(name, requestable)}", field=where,
                    fix="use a name from `medskills anatomy list` (exact spelling, lower case)")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        c.error("duplicate_anatomy", f"anatomy_list repeats {duplicates}; upstream would leave a gap in the "
                "output label ordinals.", field="anatomy_list", fix="list each anatomy once")
    return names


def _check_controllable_entry(c: PreflightCollector, index: int, entry: JsonValue,
                              table: AnatomyTable) -> tuple[str, float] | None:
    where = f"controllable_anatomy_size[{index}]"
    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) and is_finite_number(entry[1])):
        c.error("bad_type", f"{where} must be a [name, size] pair, got {entry!r}.", field=where,
                fix='write it as ["liver", 0.5]')
        return None
    name, size = str(entry[0]), float(entry[1])  # type: ignore[arg-type]
    if name not in CONTROLLABLE_SLOTS:
        hint = " It is an anatomy, but its size cannot be controlled." if name in table.by_name() else ""
        c.error("not_controllable", f"{name!r} is not one of the 10 controllable anatomies.{hint}"
                f"{suggestion_text(name, CONTROLLABLE_SLOTS)}", field=where,
                fix=f"use one of: {', '.join(CONTROLLABLE_SLOTS)}")
    if size != -1 and not 0.0 <= size <= 1.0:
        c.error("bad_size", f"size {size:g} of {name!r} is outside [0, 1] and not -1.", field=where,
                fix="use a size in [0, 1], or -1 for no size constraint")
    elif name in CONTROLLABLE_TUMORS and 0.0 <= size < SMALL_TUMOR_SIZE:
        c.warning("small_tumor", f"tumor size {size:g} for {name!r} often yields a tiny or absent tumor label.",
                  field=where, fix=f"use a size >= {SMALL_TUMOR_SIZE}")
    return name, size


def _check_controllable(c: PreflightCollector, value: JsonValue, table: AnatomyTable) -> list[tuple[str, float]] | None:
    key = "controllable_anatomy_size"
    if not isinstance(value, list):
        c.error("bad_type", f"{key} must be a list of [name, size] pairs, got {value!r}.", field=key,
                fix='write it as [["liver", 0.5]] or []')
        return None
    if len(value) > MAX_CONTROLLABLE:
        c.error("too_many_controllable", f"{key} has {len(value)} entries; at most {MAX_CONTROLLABLE}.", field=key,
                fix="keep at most one entry per controllable anatomy")
    entries = [_check_controllable_entry(c, i, entry, table) for i, entry in enumerate(value)]
    pairs = [entry for entry in entries if entry is not None]
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        c.error("duplicate_controllable", f"{key} repeats {repeated}.", field=key, fix="list each anatomy once")
    tumors = [name for name in names if name in CONTROLLABLE_TUMORS]
    if len(tumors) > 1:
        c.error("too_many_tumors", f"{key} lists {len(tumors)} tumors {tumors}; at most one (a -1 size counts).",
                field=key, fix="keep one tumor entry")
    if pairs and not tumors:
        c.warning("unrequested_tumor_risk", "organ-only size control: upstream picks the nearest stored size "
                  "condition, which usually contains a tumor; the image may show a tumor the saved label omits.",
                  field=key, fix="add the tumor you want (or accept the risk; the chosen condition is recorded)")
    return pairs if len(pairs) == len(value) else None


def _check_triple(c: PreflightCollector, key: str, value: JsonValue, *, is_integer: bool) -> tuple[float, ...] | None:
    is_element = is_integer_value if is_integer else is_finite_number
    if not (isinstance(value, list) and len(value) == 3 and all(is_element(v) for v in value)):
        kind = "integers" if is_integer else "numbers"
        c.error("bad_type", f"{key} must be a list of 3 {kind}, got {value!r}.", field=key,
                fix=f"write {key} as [x, y, z]")
        return None
    return tuple(value)  # type: ignore[arg-type]


def _check_geometry(c: PreflightCollector, size_value: JsonValue, spacing_value: JsonValue,
                    regions: set[BodyRegion]) -> tuple[tuple[int, int, int] | None, tuple[float, float, float] | None]:
    size = _check_triple(c, "output_size", size_value, is_integer=True)
    spacing = _check_triple(c, "spacing", spacing_value, is_integer=False)
    is_size_ok = size is not None
    if size is not None and (size[0] != size[1] or size[0] not in OUTPUT_XY_SIZES or size[2] not in OUTPUT_Z_SIZES):
        is_size_ok = False
        c.error("bad_output_size", f"output_size {list(size)} is not supported: x must equal y and be one of "
                f"{list(OUTPUT_XY_SIZES)}; z one of {list(OUTPUT_Z_SIZES)}.", field="output_size",
                fix="for example [256, 256, 256] or [512, 512, 128]")
    is_spacing_ok = spacing is not None
    if spacing is not None and (spacing[0] != spacing[1] or not SPACING_XY_RANGE_MM[0] <= spacing[0] <= SPACING_XY_RANGE_MM[1]
                                or not SPACING_Z_RANGE_MM[0] <= spacing[2] <= SPACING_Z_RANGE_MM[1]):
        is_spacing_ok = False
        c.error("bad_spacing", f"spacing {list(spacing)} mm is not supported: x must equal y, within "
                f"{list(SPACING_XY_RANGE_MM)} mm; z within {list(SPACING_Z_RANGE_MM)} mm.", field="spacing",
                fix="for example [1.5, 1.5, 2.0]")
    if not (is_size_ok and is_spacing_ok):
        return None, None
    assert size is not None and spacing is not None
    fov = size[0] * spacing[0]
    if fov < MIN_FOV_MM:
        c.error("fov_too_small", f"field of view {fov:g} mm (output_size[0] x spacing[0]) is below {MIN_FOV_MM:g} mm.",
                field="output_size", fix="raise output_size[0] or spacing[0] so their product is >= 256 mm")
    elif fov < RECOMMENDED_BODY_FOV_MM and regions - {BodyRegion.HEAD}:
        c.warning("fov_small_for_body", f"field of view {fov:g} mm is below the {RECOMMENDED_BODY_FOV_MM:g} mm "
                  "recommended for body regions; output may be out of distribution.", field="output_size",
                  fix="use output_size[0] x spacing[0] >= 384 mm unless the request is head only")
    return (int(size[0]), int(size[1]), int(size[2])), (float(spacing[0]), float(spacing[1]), float(spacing[2]))


def _check_sliding_window(c: PreflightCollector, size_value: JsonValue, overlap_value: JsonValue,
                          tp_value: JsonValue) -> tuple[tuple[int, int, int] | None, float | None, int | None, bool]:
    key = "autoencoder_sliding_window_infer_size"
    size = _check_triple(c, key, size_value, is_integer=True)
    is_ok = size is not None
    if size is not None and any(v <= 0 or v % 16 for v in size):
        is_ok = False
        c.error("bad_sliding_window", f"{key} {list(size)} must hold positive multiples of 16 (latent voxels).",
                field=key, fix="for example [48, 48, 48] or [64, 64, 64]")
    overlap = None
    if not is_finite_number(overlap_value) or not 0.0 <= float(overlap_value) < 1.0:  # type: ignore[arg-type]
        is_ok = False
        c.error("bad_overlap", f"autoencoder_sliding_window_infer_overlap must be in [0, 1), got {overlap_value!r}.",
                field="autoencoder_sliding_window_infer_overlap", fix="for example 0.25 or 0.6666")
    else:
        overlap = float(overlap_value)  # type: ignore[arg-type]
    tp = None
    if tp_value is not None:
        if not is_integer_value(tp_value) or tp_value not in TP_SPLITS:
            is_ok = False
            c.error("bad_tp_splits", f"autoencoder_tp_num_splits must be one of {list(TP_SPLITS)}, got {tp_value!r}.",
                    field="autoencoder_tp_num_splits", fix="use 1, 2, 4, 8 or 16 (higher uses less memory)")
        else:
            tp = int(tp_value)
    triple = (int(size[0]), int(size[1]), int(size[2])) if size is not None else None
    return triple, overlap, tp, is_ok


def _check_scalars(c: PreflightCollector, config: dict[str, JsonValue], version: CTVersion) -> dict[str, object]:
    values: dict[str, object] = {
        "num_output_samples": _int_in(c, "num_output_samples", config["num_output_samples"], 1),
    }
    for key in ("num_inference_steps", "mask_generation_num_inference_steps"):
        is_valid = check_steps(c, config[key], key=key, fix=f"use an integer in 1..{MAX_STEPS} (30 for rflow-ct)")
        values[key] = config[key] if is_valid else None
    modality = config["modality"]
    if not is_integer_value(modality) or modality not in CT_MODALITIES:
        c.error("bad_modality", f"modality must be a CT modality code 1..7 (1 = CT), got {modality!r}.",
                field="modality", fix="use 1; this skill generates CT")
    values["modality"] = modality
    scale = config["cfg_guidance_scale"]
    is_scale_valid = check_guidance(c, scale, fix="use 0 (off) or 1..5 (stronger tumor guidance)")
    if is_scale_valid and float(scale) > MAX_CFG_SCALE:  # type: ignore[arg-type]
        c.warning("large_cfg_scale", f"cfg_guidance_scale {scale} > {MAX_CFG_SCALE:g} risks artifacts.",
                  field="cfg_guidance_scale")
    values["cfg_guidance_scale"] = scale
    for key in ("image_output_ext", "label_output_ext"):
        if config[key] not in OUTPUT_EXTENSIONS:
            c.error("bad_extension", f"{key} must be one of {list(OUTPUT_EXTENSIONS)}, got {config[key]!r}.",
                    field=key, fix='use ".nii.gz"')
        values[key] = config[key]
    steps = values["num_inference_steps"]
    if version is CTVersion.RFLOW_CT and isinstance(steps, int) and steps > 100:
        c.warning("many_rflow_steps", f"{steps} steps with rflow-ct costs about {steps / 30:.0f}x the usual 30.",
                  field="num_inference_steps", fix="use 30 for rflow-ct")
    return values


def check_inference_config(
    c: PreflightCollector, config: dict[str, JsonValue], *, table: AnatomyTable, version: CTVersion
) -> InferenceSettings | None:
    """Check the merged config (upstream defaults + overrides); return typed settings when all rules pass."""
    regions_requested = _check_body_region(c, config["body_region"])
    anatomy = _check_anatomy_list(c, config["anatomy_list"], table)
    controllable = _check_controllable(c, config["controllable_anatomy_size"], table)
    names = [name for name, _ in controllable or []] or anatomy or []
    regions = {table.region_of(name) or BodyRegion.OTHER for name in names}
    regions |= {BodyRegion("chest" if r == "thorax" else r) for r in regions_requested or [] if r in REQUEST_BODY_REGIONS}
    size, spacing = _check_geometry(c, config["output_size"], config["spacing"], regions)
    window, overlap, tp, is_window_ok = _check_sliding_window(
        c, config["autoencoder_sliding_window_infer_size"], config["autoencoder_sliding_window_infer_overlap"],
        config.get("autoencoder_tp_num_splits"))
    scalars = _check_scalars(c, config, version)
    if (c.has_request_errors or regions_requested is None or anatomy is None or controllable is None or size is None
            or spacing is None or window is None or overlap is None or not is_window_ok):
        return None
    return InferenceSettings.model_validate({
        "body_region": regions_requested, "anatomy_list": anatomy, "controllable_anatomy_size": controllable,
        "output_size": size, "spacing_mm": spacing, "autoencoder_sliding_window_infer_size": window,
        "autoencoder_sliding_window_infer_overlap": overlap, "autoencoder_tp_num_splits": tp, **scalars})
