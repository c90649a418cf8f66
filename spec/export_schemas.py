"""Write the JSON Schema of each run record to ``spec/<name>.schema.json``.

Usage: python spec/export_schemas.py [--check]

``--check`` writes nothing and exits 1 when a committed schema differs from the models (the contract
test runs the same comparison). Add a record by adding one line to ``RECORDS``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from pydantic import BaseModel

SPEC_DIR = Path(__file__).resolve().parent
RECORDS = {
    "run_record": "medskills.core.models:RunRecord",
    "ct_synthesis_record": "medskills.synthesis.paired_ct.record:CTSynthesisRecord",
    "mr_brain_record": "medskills.synthesis.mr_brain.record:MRBrainRecord",
    "ct_from_mask_record": "medskills.synthesis.ct_from_mask.record:CTFromMaskRecord",
    "ct_image_record": "medskills.synthesis.ct_image.record:CTImageRecord",
    "ct_mask_record": "medskills.synthesis.ct_mask.record:CTMaskRecord",
}


def load_model(target: str) -> type[BaseModel]:
    """Import ``module:Class``."""
    module_name, class_name = target.split(":")
    model = getattr(importlib.import_module(module_name), class_name)
    assert issubclass(model, BaseModel), f"{target} is not a pydantic model"
    return model


def render_schema(target: str) -> str:
    """The schema text exactly as committed (sorted keys, 2-space indent, trailing newline)."""
    schema = load_model(target).model_json_schema(mode="serialization")
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def schema_path(name: str) -> Path:
    """Where the schema of ``name`` is committed."""
    return SPEC_DIR / f"{name}.schema.json"


def stale_schemas() -> list[str]:
    """Names whose committed schema is missing or out of date."""
    return [name for name, target in RECORDS.items()
            if not schema_path(name).is_file() or schema_path(name).read_text(encoding="utf-8") != render_schema(target)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when a schema is stale")
    options = parser.parse_args()
    if options.check:
        stale = stale_schemas()
        for name in stale:
            print(f"stale: {schema_path(name)} (run python spec/export_schemas.py)", file=sys.stderr)
        return 1 if stale else 0
    for name, target in RECORDS.items():
        schema_path(name).write_text(render_schema(target), encoding="utf-8")
        print(f"wrote {schema_path(name)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
