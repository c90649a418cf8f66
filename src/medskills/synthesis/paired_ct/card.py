"""The HTML summary card of a paired CT run: a triptych per sample with label overlay, and tables."""

from __future__ import annotations

from pathlib import Path

from medskills.core.card import CardPanel, CardTable, write_card
from medskills.synthesis.paired_ct.evidence import MeasuredPair
from medskills.synthesis.paired_ct.record import CTSynthesisRecord

__all__ = ["CARD_FILE_NAME", "write_ct_card"]

CARD_FILE_NAME = "summary.html"
CARD_WINDOW_HU = (-200.0, 250.0)
MAX_PANELS = 3


def _request_table(record: CTSynthesisRecord) -> CardTable:
    request = record.request
    rows = [["version", request.version.value], ["random_seed", str(request.random_seed)],
            ["config", str(request.config_path or "default")]]
    if request.settings is not None:
        s = request.settings
        rows += [["mask path", s.mask_path.value], ["anatomy (ordinal order)", ", ".join(s.effective_anatomy)],
                 ["body_region", ", ".join(s.body_region)], ["output_size", str(list(s.output_size))],
                 ["spacing_mm", str(list(s.spacing_mm))], ["field of view (mm)", str(list(s.field_of_view_mm))],
                 ["num_inference_steps", str(s.num_inference_steps)], ["samples", str(s.num_output_samples)]]
    if record.invocation is not None:
        rows += [["exit code", str(record.invocation.exit_code)],
                 ["runtime (s)", f"{record.invocation.runtime_seconds:.1f}"]]
    return CardTable(title="Request and run", rows=rows)


def _volume_table(record: CTSynthesisRecord) -> CardTable:
    rows = []
    for index, sample in enumerate(record.output.samples if record.output else [], start=1):
        rows += [[str(index), str(v.output_label_id), str(v.maisi_label_id), v.anatomy or "?", str(v.voxel_count),
                  f"{v.volume_ml:.2f}"] for v in sample.class_volumes]
    return CardTable(title="Label volumes", header=["sample", "output id", "MAISI id", "anatomy", "voxels", "mL"],
                     rows=rows)


def _gate_table(record: CTSynthesisRecord) -> CardTable:
    return CardTable(title="Gates", header=["gate", "status", "message"],
                     rows=[[g.gate, g.status.value, g.message] for g in record.gates])


def write_ct_card(
    record: CTSynthesisRecord, output_dir: Path, pairs: list[MeasuredPair]
) -> tuple[Path | None, str | None]:
    """Write ``OUT/summary.html`` from arrays already read; returns ``(path, None)`` or ``(None, error)``."""
    names = {entry.output_label_id: entry.anatomy for entry in record.output.output_label_mapping} \
        if record.output else {}
    panels = [
        CardPanel(title=f"sample {index}", image=pair.image.array, affine=pair.image.affine, label=pair.labels,
                  window=CARD_WINDOW_HU, label_names=names,
                  caption=f"{pair.evidence.image_path.name}; labels present {pair.evidence.label_ids_present}")
        for index, pair in enumerate(pairs[:MAX_PANELS], start=1)
        if pair.image is not None and pair.labels is not None
    ]
    subtitle = f"{record.request.version.value}, seed {record.request.random_seed}, {record.started_at:%Y-%m-%d %H:%M} UTC"
    config = record.request.settings.model_dump_json(indent=2) if record.request.settings else None
    return write_card(output_dir / CARD_FILE_NAME, title="Synthetic CT (NV-Generate-CTMR paired image + label)",
                      subtitle=subtitle, status=record.status.value, panels=panels,
                      tables=[_request_table(record), _volume_table(record), _gate_table(record)], config_json=config)
