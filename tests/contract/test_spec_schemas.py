"""The committed JSON Schemas in spec/ match the record models."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parents[2] / "spec"


def _exporter():
    spec = importlib.util.spec_from_file_location("export_schemas", SPEC_DIR / "export_schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schemas_are_up_to_date():
    stale = _exporter().stale_schemas()
    assert stale == [], f"regenerate with `python spec/export_schemas.py`: {stale}"


def test_ct_schema_describes_the_typed_sections():
    schema = json.loads((SPEC_DIR / "ct_synthesis_record.schema.json").read_text())
    assert {"request", "output", "preflight", "gates", "provenance"} <= set(schema["properties"])
    assert "SampleEvidence" in schema["$defs"] and "ClassVolume" in schema["$defs"]
