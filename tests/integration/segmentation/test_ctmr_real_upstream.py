"""The real NV-Segment-CTMR bundle, full size, through the seed command line (CPU, no GPU).

A temporary copy of ``../shared/upstreams/NV-Segment-CTMR/NV-Segment-CTMR`` with its configs and
scripts unmodified, and a randomly initialised full-size ``vista3d132(in_channels=1)`` written to
``models/model.pt`` (872 MB, once per module). The input is the real abdominal CT cropped to
90x90x30 voxels (270x270x90 mm), so the 1.5 mm volume fits one 192x192x128 sliding window: one run
takes about 70 s on 2 free cores. Random weights make the anatomy meaningless, so the tests check
the contract (argv, ids, geometry, evidence), never organ shapes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.models import Invocation, Status
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import load_settings
from medskills.core.upstream import UpstreamCommand, run_upstream
from medskills.segmentation import SegmentationRequest, segment_ctmr

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
SHIM = REPO / "skills" / "nv-segment-ctmr" / "scripts" / "run_ctmr.py"
CROP_VOXELS = (90, 90)
# A user flag, not a bundle override: the wrapper's own estimate (390 s for one CPU window) assumes
# free cores; a shared CI machine can be several times slower.
GENEROUS_TIMEOUT_SECONDS = "1800"


def _tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def full_bundle(tmp_path_factory: pytest.TempPathFactory, real_ctmr_bundle: Path) -> Path:
    """Real configs and scripts, copied unmodified, and a random full-size checkpoint (written once)."""
    import torch
    from monai.networks.nets import vista3d132

    root = tmp_path_factory.mktemp("ctmr") / "NV-Segment-CTMR"
    for folder in ("configs", "scripts"):
        shutil.copytree(real_ctmr_bundle / folder, root / folder)
    (root / "models").mkdir()
    torch.manual_seed(0)
    torch.save(vista3d132(in_channels=1).state_dict(), root / "models" / "model.pt")
    return root


@pytest.fixture(scope="module")
def one_window_ct(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The real 3 mm abdominal CT, cropped in-plane around its centre (affine shifted to match)."""
    source = nib.load(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    array = np.asanyarray(source.dataobj)
    start = [(n - c) // 2 for n, c in zip(array.shape[:2], CROP_VOXELS, strict=True)]
    crop = array[start[0]:start[0] + CROP_VOXELS[0], start[1]:start[1] + CROP_VOXELS[1], :]
    affine = source.affine.copy()
    affine[:3, 3] = source.affine[:3, :3] @ [start[0], start[1], 0] + source.affine[:3, 3]
    path = tmp_path_factory.mktemp("input") / "abdomen_crop.nii.gz"
    nib.save(nib.Nifti1Image(crop, affine, source.header), path)
    return path


def _bundle_env(bundle: Path) -> dict[str, str]:
    return {**os.environ, "NV_SEGMENT_CTMR_ROOT": str(bundle), "MEDSKILLS_ALLOW_NO_GPU": "1", "OMP_NUM_THREADS": "2"}


def test_seed_command_line_segments_a_nifti_ct_with_label_prompts_on_the_real_bundle(
    full_bundle: Path, real_ctmr_bundle: Path, one_window_ct: Path, tmp_path: Path
) -> None:
    output_dir = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(SHIM), str(one_window_ct), "--modality", "CT_BODY", "--output-dir", str(output_dir),
         "--label-prompts", "liver,spleen,kidney", "--timeout-seconds", GENEROUS_TIMEOUT_SECONDS],
        capture_output=True, text=True, env=_bundle_env(full_bundle), cwd=REPO, timeout=2400, check=False)
    record = json.loads(done.stdout)
    assert done.returncode == 0 and record["status"] == "passed", (record["failure_reasons"], done.stderr[-3000:])
    # exactly what a user's run passes: the bundle's own config, no overrides beyond input, modality, output,
    # device, and a logging file without the FileHandler that would write training.log into the clone
    invocation = record["invocation"]
    assert invocation["cwd"] == str(full_bundle) and invocation["exit_code"] == 0
    assert invocation["argv"][1:] == [
        "-m", "monai.bundle", "run", "--config_file", "configs/inference.json",
        "--logging_file", str(output_dir / "logs" / "bundle_logging.conf"), "--input_dict", repr({"image": str(one_window_ct), "label_prompt": [1, 3, 5, 14]}),
        "--modality", "CT_BODY", "--output_dir", str(output_dir / "bundle_output"),
        "--device", "$torch.device('cpu')"]
    for folder in ("configs", "scripts"):
        assert _tree_digest(full_bundle / folder) == _tree_digest(real_ctmr_bundle / folder), folder
    assert sorted(p.name for p in full_bundle.iterdir()) == ["configs", "models", "scripts"]  # no training.log
    logs = Path(invocation["logs"]["stdout_path"]).read_text() + Path(invocation["logs"]["stderr_path"]).read_text()
    assert "Restored all variables from .//models/model.pt" in logs  # the bundle's own load_path, cwd = bundle root
    # prompts: names resolved by the bundle's own channel_def, kidney (2) expanded to its sides
    prompts = record["plan"]["prompts"]
    assert prompts["requested_ids"] == [1, 3, 2] and prompts["expanded_ids"] == [1, 3, 5, 14]
    assert record["plan"]["memory"]["windows_estimated"] == 1 == record["output"]["windows_after_crop"]
    # the label map: on the input grid, integer ids, only prompted ids, counts as recorded
    labels = nib.load(record["output"]["mask_path"])
    source = nib.load(one_window_ct)
    assert labels.shape == source.shape and np.allclose(labels.affine, source.affine, atol=1e-4)
    data = np.asanyarray(labels.dataobj)
    assert labels.get_data_dtype() == np.int32 and set(np.unique(data)) <= {0, 1, 3, 5, 14}
    counts = np.bincount(data.ravel())
    assert {c["label_id"]: c["voxel_count"] for c in record["output"]["classes"]} == {
        int(i): int(counts[i]) for i in np.flatnonzero(counts) if i}
    weight = record["provenance"]["weights"][0]
    assert weight["is_present"] and weight["bytes"] == (full_bundle / "models" / "model.pt").stat().st_size
    assert record["plan"]["bundle"]["version"] == json.loads(
        (real_ctmr_bundle / "configs" / "metadata.json").read_text())["version"]
    reference = json.loads((output_dir / "output.json").read_text())
    assert reference["output"]["label_prompts_requested"] == [1, 3, 5, 14]


def test_real_bundle_exits_0_without_output_on_an_unreadable_input_and_the_run_fails(
    full_bundle: Path, one_window_ct: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The input becomes unreadable after preflight; the bundle's loader thread swallows the error."""
    image = tmp_path / "abdomen.nii.gz"
    shutil.copy(one_window_ct, image)

    def corrupt_then_run(command: UpstreamCommand) -> Invocation:
        image.write_bytes(b"not a NIfTI file")
        return run_upstream(command)

    for name, value in _bundle_env(full_bundle).items():
        monkeypatch.setenv(name, value)
    request = SegmentationRequest(image_path=image, output_dir=tmp_path / "out", modality="CT_BODY",
                                  prompts="spleen", device="cpu", timeout_seconds=float(GENEROUS_TIMEOUT_SECONDS))
    record = segment_ctmr(request, settings=load_settings(), runner=corrupt_then_run,
                          device_info=DeviceInfo(cuda_available=False))
    assert record.invocation is not None and record.invocation.exit_code == 0  # upstream says all is well
    gates = {gate.gate: gate.status for gate in record.gates}
    assert gates["upstream_exit_code"] == Status.PASSED and gates["output_exists"] == Status.FAILED
    assert record.status == Status.FAILED and record.exit_code == 1
    assert any("was not written" in reason for reason in record.failure_reasons)
    assert json.loads((tmp_path / "out" / "result.json").read_text())["exit_code"] == 1
