"""The packages a bundle run imports are read from the real bundle's config and scripts."""

from __future__ import annotations

from pathlib import Path

from medskills.segmentation._bundle_imports import bundle_imports


def test_real_bundle_imports_include_ignite_and_einops_from_the_evaluator(real_ctmr_bundle: Path) -> None:
    found = {item.requirement.import_name: item for item in bundle_imports(real_ctmr_bundle)}
    assert set(found) == {"monai", "torch", "numpy", "fire", "nibabel", "einops", "ignite"}
    assert found["ignite"].requirement.pip_requirement == "pytorch-ignite"
    assert found["ignite"].imported_by == "scripts/evaluator.py"


def test_a_new_import_in_a_reached_script_is_found(bundle_layout: Path) -> None:
    inferer = bundle_layout / "scripts" / "inferer.py"
    inferer.write_text("import timm\n" + inferer.read_text())
    (bundle_layout / "scripts" / "trainer.py").write_text("import mlflow\n")  # not reached by inference.json
    found = {item.requirement.import_name: item.imported_by for item in bundle_imports(bundle_layout)}
    assert found["timm"] == "scripts/inferer.py" and "mlflow" not in found


def test_a_config_import_statement_and_dotted_target_are_found(bundle_layout: Path) -> None:
    config = bundle_layout / "configs" / "inference.json"
    text = config.read_text().replace('"$import glob",', '"$import glob", "$from skimage import morphology",')
    config.write_text(text.replace('"ToDeviced"', '"cupy.ToDeviced"'))
    found = {item.requirement.import_name: item for item in bundle_imports(bundle_layout)}
    assert found["skimage"].requirement.pip_requirement == "scikit-image"
    assert found["cupy"].imported_by == "configs/inference.json"
