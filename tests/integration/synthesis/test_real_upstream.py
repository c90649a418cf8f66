"""The real NV-Generate-CTMR entry points, run with exactly the argv, cwd, env and staged configs our wrapper builds.

A temporary copy of the snapshot gets fake weight and dataset files (the ones upstream's own
downloader lists). The wrapper runs its preflight and staging with a runner that only records the
command; then one driver process (``standin_upstream/upstream_driver.py``) runs every command against
the real code on this CPU machine and reports where each stopped. Each must get through argument
parsing, environment re-rooting, config merge, the download check and the input checks, and stop at
the first CUDA use, nowhere earlier.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from medskills.core.errors import UpstreamFailure
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import load_settings
from medskills.core.upstream import UpstreamCommand
from medskills.synthesis.ct_image.run import generate_ct_image
from medskills.synthesis.ct_image.request import CTImageRequest
from medskills.synthesis.paired_ct.request import CTRunRequest
from medskills.synthesis.paired_ct.run import run_ct_synthesis
from medskills.synthesis.mr_brain.run import generate_mr_brain
from medskills.synthesis.mr_brain.request import MRBrainRequest
from standin_upstream.fixtures import pretend_room_to_extract_masks
from standin_upstream.snapshot import copy_snapshot, nv_generate_snapshot, write_fake_assets  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

GPU = DeviceInfo(cuda_available=True, device_name="recorded only", total_memory_gb=80.0, torch_version="x")
DRIVER = Path(__file__).resolve().parents[2] / "standin_upstream" / "upstream_driver.py"
CUDA_MISSING = "Torch not compiled with CUDA enabled"


def _recording_runner(commands: list[UpstreamCommand]):
    def runner(command: UpstreamCommand):
        commands.append(command)
        raise UpstreamFailure("recorded, not run")  # the wrapper still writes its record
    return runner


def _wrapper_commands(tmp_path: Path, root: Path) -> dict[str, UpstreamCommand]:
    """Preflight and stage each scenario through the real wrapper entry points; keep the commands."""
    settings = load_settings()
    commands: list[UpstreamCommand] = []
    path_a = tmp_path / "path_a.json"
    path_a.write_text(json.dumps({"controllable_anatomy_size": [["lung tumor", 0.6], ["liver", 0.5]]}))
    for name, config in (("ct_path_b", None), ("ct_path_a", path_a)):
        request = CTRunRequest(config_path=config, output_dir=tmp_path / name, is_cost_confirmed=True)
        record = run_ct_synthesis(request, settings=settings, device=GPU, runner=_recording_runner(commands),
                                  expected_sha256={})
        assert record.preflight.request_valid and record.preflight.environment_ready, record.preflight.errors
    mr = MRBrainRequest(output_dir=tmp_path / "mr_brain", modality="mri_t1", random_seed=7, is_cost_confirmed=True)
    ct_image = CTImageRequest(config_path=None, output_dir=tmp_path / "ct_image", is_cost_confirmed=True)
    for run, request in ((generate_mr_brain, mr), (generate_ct_image, ct_image)):
        record = run(request, settings=settings, runner=_recording_runner(commands), device=GPU, expected_sha256={})
        assert record.exit_code == 1 and "recorded, not run" in record.failure_reasons[0]  # core.run records it
    assert len(commands) == 4
    return dict(zip(("ct_path_b", "ct_path_a", "mr_brain", "ct_image"), commands, strict=True))


def _scenario(name: str, kind: str, command: UpstreamCommand, **env: str) -> dict[str, object]:
    assert command.argv[0] == sys.executable and command.argv[1] == "-m"
    return {"name": name, "kind": kind, "argv": command.argv[1:], "cwd": str(command.cwd),
            "env": {**command.env, **env}}


@pytest.fixture(scope="module")
def upstream_stops(tmp_path_factory, nv_generate_snapshot) -> dict[str, dict]:
    tmp_path = tmp_path_factory.mktemp("real_upstream")
    root = copy_snapshot(tmp_path / "NV-Generate-CTMR", snapshot=nv_generate_snapshot)
    write_fake_assets(root)
    without_zip = tmp_path / "data_without_zip"
    shutil.copytree(root / "datasets", without_zip / "datasets")
    (without_zip / "datasets" / "all_masks_flexible_size_and_spacing_4000.zip").unlink()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NV_GENERATE_ROOT", str(root))
        patch.setenv("MONAI_DATA_DIRECTORY", str(root))
        patch.chdir(tmp_path)
        pretend_room_to_extract_masks(patch)  # these scenarios are about upstream, not this disk
        commands = _wrapper_commands(tmp_path, root)
    scenarios = [
        _scenario("ct_path_b", "inference_main", commands["ct_path_b"]),
        _scenario("ct_path_a", "inference_main", commands["ct_path_a"]),
        _scenario("ct_verbatim", "module", commands["ct_path_b"]),
        _scenario("ct_zip_missing", "inference_main", commands["ct_path_b"], MONAI_DATA_DIRECTORY=str(without_zip)),
        _scenario("mr_brain", "module", commands["mr_brain"]),
        _scenario("ct_image", "module", commands["ct_image"]),
        _scenario("mr_brain_checks", "diff_model_checks", commands["mr_brain"]),
        _scenario("ct_image_checks", "diff_model_checks", commands["ct_image"]),
    ]
    (tmp_path / "scenarios.json").write_text(json.dumps(scenarios))
    done = subprocess.run([sys.executable, str(DRIVER), str(tmp_path / "scenarios.json")], capture_output=True,
                          text=True, timeout=540, cwd=tmp_path, env=commands["ct_path_b"].env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = {r["name"]: r for r in map(json.loads, done.stdout.splitlines())}
    return {"root": root, "commands": commands, **results}


def _last_upstream_frame(result: dict) -> dict:
    assert result["error_type"] is not None, result["output"][-2000:]
    return result["upstream_frames"][-1]


@pytest.mark.parametrize("name, path_log", [("ct_path_b", "`controllable_anatomy_size` is empty."),
                                             ("ct_path_a", "`controllable_anatomy_size` is not empty.")])
def test_paired_ct_gets_through_every_check_and_stops_at_the_first_cuda_use(upstream_stops, name, path_log):
    result, root = upstream_stops[name], upstream_stops["root"]
    output = result["output"]
    assert f"Data directory: {root}" in output and "saved to: [" in output  # download check passed offline
    assert f"all_mask_files_base_dir: {root}/datasets/all_masks_flexible_size_and_spacing_4000" in output
    assert "Global config variables have been loaded." in output  # environment re-rooted and read
    assert "mask_generation_diffusion: $@mask_generation_diffusion_def" in output  # staged -i kept the references
    assert path_log in output and "The generate results will have voxel size" in output  # check_input_ct passed
    assert "Network definition and inference inputs have been loaded." in output
    frame = _last_upstream_frame(result)
    assert (frame["file"], frame["function"]) == ("scripts/inference.py", "main")
    assert frame["code"] == 'autoencoder = define_instance(args, "autoencoder_def").to(device)'
    assert result["error_type"] == "AssertionError" and CUDA_MISSING in result["error"]  # torch.cuda._lazy_init
    assert "All the trained model weights have been loaded." not in output


def test_verbatim_paired_command_first_touches_cuda_before_main(upstream_stops):
    """On CPU the unmodified ``python -m scripts.inference`` stops in its ``__main__`` block, before argparse."""
    result = upstream_stops["ct_verbatim"]
    frame = _last_upstream_frame(result)
    assert frame["file"] == "scripts/inference.py" and frame["code"] == "torch.cuda.reset_peak_memory_stats()"
    assert result["error_type"] == "AttributeError" and "_cuda_resetPeakMemoryStats" in result["error"]
    assert "Data directory" not in result["output"]


def test_missing_mask_zip_stops_upstream_in_its_download_check(upstream_stops):
    """The state our preflight now refuses (extracted folder or nothing, but no zip) fails upstream offline."""
    result = upstream_stops["ct_zip_missing"]
    functions = [frame["function"] for frame in result["upstream_frames"]]
    assert functions[:3] == ["main", "download_model_data", "fetch_to_hf_path_cmd"], result["upstream_frames"]
    assert "Global config variables have been loaded." not in result["output"]


@pytest.mark.parametrize("name, modality", [("mr_brain", 9), ("ct_image", 1)])
def test_image_only_gets_through_config_merge_and_stops_at_the_first_cuda_use(upstream_stops, name, modality):
    result = upstream_stops[name]
    frames = result["upstream_frames"]
    assert [f["function"] for f in frames[-2:]] == ["diff_model_infer", "initialize_distributed"]
    assert frames[-1]["file"] == "scripts/diff_model_setting.py" and frames[-1]["code"] == "torch.cuda.set_device(device)"
    assert frames[-2]["code"].startswith("local_rank, world_size, device = initialize_distributed(")
    assert result["error_type"] == "AttributeError" and "_cuda_setDevice" in result["error"]  # CPU-only torch
    checks = upstream_stops[f"{name}_checks"]
    assert checks["error_type"] is None, checks
    assert checks["checks"]["is_checkpoint_file"] and checks["checks"]["is_autoencoder_file"]
    assert checks["checks"]["modality"] == modality and checks["checks"]["has_network_def"]
    assert checks["checks"]["check_input_ct"] == ("passed" if modality <= 7 else None)
    assert checks["checks"]["random_seed"] == (7 if name == "mr_brain" else 0)
