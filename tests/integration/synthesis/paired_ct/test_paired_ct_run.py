"""Paired CT synthesis end to end through the real subprocess runner against the stand-in upstream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.assets import sha256_pins
from medskills.core.skills import SkillId
from medskills.core.errors import ExitCode, UpstreamFailure, UsageError
from medskills.core.io import sha256_file
from medskills.core.models import Status
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings, load_settings
from medskills.synthesis.paired_ct.record import CTSynthesisRecord
from medskills.synthesis.nv_generate.ct_inference import CTVersion
from medskills.synthesis.paired_ct.request import CTRunRequest
from medskills.synthesis.paired_ct.run import run_ct_synthesis
from standin_upstream import Behaviour, StandinRoot, build_nv_generate_root
from standin_upstream.fixtures import nv_generate_standin as standin  # noqa: F401  (the healthy stand-in)
from standin_upstream.snapshot import nv_generate_snapshot  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[4]
SHIM = REPO_ROOT / "skills" / "nv-generate-ct-rflow" / "scripts" / "run_rflow_ct.py"
FIXTURES = REPO_ROOT / "skills" / "nv-generate-ct-rflow" / "fixtures"
GPU = DeviceInfo(cuda_available=True, device_name="stand-in GPU", total_memory_gb=80.0, torch_version="stand-in")
SMALL = {"output_size": [256, 256, 128], "spacing": [1.5, 1.5, 2.0], "image_output_ext": ".nii",
         "label_output_ext": ".nii"}


@pytest.fixture
def settings(standin: StandinRoot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.setenv("NV_GENERATE_ROOT", str(standin.root))
    monkeypatch.setenv("MEDSKILLS_WEIGHT_HASH_CACHE", str(tmp_path / "hash_cache.json"))
    return load_settings()


def _config(tmp_path: Path, **values: object) -> Path:
    path = tmp_path / "request.json"
    path.write_text(json.dumps({**SMALL, "anatomy_list": ["liver", "spleen", "lung tumor"], **values}))
    return path


def _stand_in_pins(root: Path) -> dict[str, str]:
    """sha256 of the stand-in weight files (the real pins cannot match fake weights)."""
    return {path.name: sha256_file(path) for path in (root / "models").iterdir()}


def _run(tmp_path: Path, settings: Settings, *, config: Path | None = None, **options: object) -> CTSynthesisRecord:
    request = CTRunRequest(config_path=config or _config(tmp_path), output_dir=tmp_path / "out", **options)
    root = settings.nv_generate_root
    return run_ct_synthesis(request, settings=settings, device=GPU, expected_sha256=_stand_in_pins(root))


def _seed_hash_cache(cache: Path, root: Path) -> None:
    """Record the pinned sha256 for the stand-in weights in the hash cache, which is trusted by design
    (keyed by path, size and mtime), so a subprocess run passes the real pins."""
    pins = sha256_pins(SkillId.SYNTH_CT, "rflow-ct")
    entries = {}
    for path in (root / "models").iterdir():
        stat = path.resolve().stat()
        entries[f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"] = pins.get(path.name, sha256_file(path))
    cache.write_text(json.dumps(entries))


def _tree(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*")}


def test_success_path_records_pairs_labels_volumes_and_provenance(tmp_path, standin, settings):
    before = _tree(standin.root)
    record = _run(tmp_path, settings, random_seed=7)
    assert record.exit_code == 0 and record.status == Status.PASSED, record.failure_reasons
    assert _tree(standin.root) == before  # the upstream clone is never written to
    output = record.output
    assert output is not None and output.num_samples == 1 and output.mask_path.value == "B"
    sample = output.samples[0]
    assert sample.image_dtype == "float32" and sample.label_dtype == "float32"
    assert sample.image_geometry.shape == (256, 256, 128)
    assert output.expected_output_label_ids == [1, 2, 3] and output.expected_maisi_label_ids == [1, 3, 23]
    assert output.is_all_expected_labels_present and output.peak_gpu_memory_gb == pytest.approx(12.34)
    by_ordinal = {v.output_label_id: v for v in sample.class_volumes}
    labels = np.rint(np.asarray(nib.load(sample.label_path).dataobj)).astype(int)
    assert by_ordinal[1].maisi_label_id == 1 and by_ordinal[1].anatomy == "liver"
    assert by_ordinal[1].voxel_count == int((labels == 1).sum())
    assert by_ordinal[1].volume_ml == pytest.approx(by_ordinal[1].voxel_count * 1.5 * 1.5 * 2.0 / 1000, rel=1e-3)
    assert [g.gate for g in record.gates] == ["upstream_exit_zero", "outputs_exist", "images_nonconstant",
                                              "images_hu_like", "expected_labels_present", "geometry_consistent"]
    assert record.card_path is not None and record.card_path.is_file()
    saved = CTSynthesisRecord.model_validate_json((tmp_path / "out" / "result.json").read_text())
    assert saved == record


def test_upstream_receives_staged_configs_and_allow_listed_environment(tmp_path, standin, settings, monkeypatch):
    monkeypatch.setenv("SECRET_THING", "do-not-pass")
    record = _run(tmp_path, settings)
    assert record.exit_code == 0
    (call,) = standin.calls()
    assert call["cwd"] == str(standin.root)
    assert call["environment"]["MONAI_DATA_DIRECTORY"] == str(standin.data_root)
    assert call["environment"]["HF_HUB_OFFLINE"] == "1"
    assert call["environment"]["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "SECRET_THING" not in call["environment_keys"]
    config = call["config"]
    assert config["output_dir"] == str(tmp_path / "out")
    assert config["mask_generation_autoencoder"] == "$@mask_generation_autoencoder_def"
    assert Path(config["trained_diffusion_path"]).is_absolute()
    assert config["all_mask_files_json"].startswith(str(standin.data_root))
    assert "--random-seed" in call["argv"]
    staged = tmp_path / "out" / "_staged_configs"
    assert (staged / "config_infer.json").is_file() and (staged / "environment_rflow-ct.json").is_file()


def test_separate_data_root_is_what_upstream_reads(tmp_path, shared_data, monkeypatch):
    standin = build_nv_generate_root(tmp_path, scan_dir=shared_data / "ct_abdomen_3mm", separate_data_root=True)
    monkeypatch.setenv("NV_GENERATE_ROOT", str(standin.root))
    monkeypatch.setenv("MONAI_DATA_DIRECTORY", str(standin.data_root))
    record = _run(tmp_path, load_settings())
    assert record.exit_code == 0, record.failure_reasons
    assert standin.calls()[0]["environment"]["MONAI_DATA_DIRECTORY"] == str(standin.data_root)


def test_path_a_records_condition_vector_and_uses_controllable_ordinals(tmp_path, standin, settings):
    config = _config(tmp_path, controllable_anatomy_size=[["liver", 0.6], ["lung tumor", 0.5]])
    record = _run(tmp_path, settings, config=config)
    assert record.exit_code == 0, record.failure_reasons
    output = record.output
    assert output.mask_path.value == "A"
    assert [(m.output_label_id, m.anatomy) for m in output.output_label_mapping] == [(1, "liver"), (2, "lung tumor")]
    condition = output.anatomy_size_condition
    assert condition is not None and condition.values[1] == 0.6 and condition.values[5] == 0.5
    assert condition.values[0] == 0.2  # the nearest stored vector ([0.2, 0.6, ...]) fills the other slots


def test_ddpm_version_stages_the_corrected_anatomy_size_path(tmp_path, standin, settings):
    config = _config(tmp_path, controllable_anatomy_size=[["liver", 0.6]], num_inference_steps=30)
    record = _run(tmp_path, settings, config=config, version=CTVersion.DDPM_CT, is_cost_confirmed=True)
    assert record.exit_code == 0, record.failure_reasons
    assert record.output.staging_corrections and "all_anatomy_size_conditions" in record.output.staging_corrections[0]


def test_upstream_nonzero_exit_fails_with_evidence(tmp_path, standin, settings):
    standin.set_behaviour(Behaviour(exit_code=3))
    record = _run(tmp_path, settings)
    assert record.exit_code == ExitCode.FAILED and record.status == Status.FAILED
    assert record.invocation.exit_code == 3 and "RuntimeError: boom" in record.invocation.logs.stderr_tail
    assert any(r.startswith("upstream_exit") for r in record.failure_reasons)
    assert json.loads((tmp_path / "out" / "result.json").read_text())["exit_code"] == 1


def test_timeout_exits_124_and_kills_upstream(tmp_path, standin, settings):
    standin.set_behaviour(Behaviour(sleep_seconds=30))
    record = _run(tmp_path, settings, timeout_seconds=1.5)
    assert record.exit_code == ExitCode.TIMEOUT and record.invocation.is_timed_out
    assert "timed out" in record.failure_reasons[0]
    assert (tmp_path / "out" / "result.json").is_file()


def test_constant_image_fails_the_nonconstant_and_hu_gates(tmp_path, standin, settings):
    standin.set_behaviour(Behaviour(is_constant_image=True))
    record = _run(tmp_path, settings)
    failed = {g.gate for g in record.gates if g.status == Status.FAILED}
    assert record.exit_code == ExitCode.FAILED and failed == {"images_nonconstant", "images_hu_like"}


def test_missing_expected_label_fails_and_names_the_ordinal(tmp_path, standin, settings):
    standin.set_behaviour(Behaviour(drop_output_label_ids=(2,)))
    record = _run(tmp_path, settings)
    assert record.exit_code == ExitCode.FAILED
    assert record.output.missing_expected_output_label_ids == [2]
    assert [g.gate for g in record.gates if g.status == Status.FAILED] == ["expected_labels_present"]


def test_no_outputs_fails_outputs_exist(tmp_path, standin, settings):
    standin.set_behaviour(Behaviour(writes_no_outputs=True))
    record = _run(tmp_path, settings)
    failed = {g.gate for g in record.gates if g.status == Status.FAILED}
    assert record.exit_code == ExitCode.FAILED and "outputs_exist" in failed


def test_stale_and_misnamed_files_are_ignored(tmp_path, standin, settings):
    standin.set_behaviour(Behaviour(writes_stale_files=True, quality_check_failures=2))
    record = _run(tmp_path, settings)
    assert record.exit_code == 0, record.failure_reasons
    assert record.output.num_samples == 1
    ignored = sorted(p.name for p in record.output.ignored_files)
    assert ignored == ["image_extra.nii.gz", "sample_20200101_000000_000000_image.nii.gz",
                       "sample_20200101_000000_000000_label.nii.gz"]
    assert len(record.output.quality_check_failures) == 2


def test_non_empty_output_dir_is_refused_and_untouched(tmp_path, standin, settings):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        _run(tmp_path, settings)
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and (out / "keep.txt").read_text() == "mine"
    assert standin.calls() == []


def test_cost_gate_refuses_expensive_run_without_yes(tmp_path, standin, settings):
    config = _config(tmp_path, num_inference_steps=1000, output_size=[512, 512, 512], spacing=[0.75, 0.75, 1.0])
    record = _run(tmp_path, settings, config=config)
    assert record.exit_code == ExitCode.USAGE and "--yes" in record.failure_reasons[0]
    assert standin.calls() == []


def test_environment_not_ready_refuses_to_run(tmp_path, shared_data, monkeypatch):
    standin = build_nv_generate_root(tmp_path, scan_dir=shared_data / "ct_abdomen_3mm", with_weights=False)
    monkeypatch.setenv("NV_GENERATE_ROOT", str(standin.root))
    request = CTRunRequest(config_path=_config(tmp_path), output_dir=tmp_path / "out")
    record = run_ct_synthesis(request, settings=load_settings(), device=GPU)
    assert record.exit_code == ExitCode.USAGE and record.preflight.request_valid
    assert not record.preflight.environment_ready and standin.calls() == []


def _shim(*args: str, env: dict[str, str], cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SHIM), *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120, check=False)


def test_shim_runs_end_to_end_with_allow_no_gpu(tmp_path, standin):
    _seed_hash_cache(tmp_path / "cache.json", standin.root)
    env = {**os.environ, "NV_GENERATE_ROOT": str(standin.root), "MEDSKILLS_ALLOW_NO_GPU": "1",
           "MEDSKILLS_WEIGHT_HASH_CACHE": str(tmp_path / "cache.json")}
    done = _shim(str(_config(tmp_path)), "--output-dir", str(tmp_path / "out"), "--random-seed", "0",
                 "--version", "rflow-ct", "--no-summary-card", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "passed" and result["card_path"] is None
    assert any(w["code"] == "no_gpu_allowed" for w in result["preflight"]["warnings"])
    assert not (tmp_path / "out" / "summary.html").exists()


def test_shim_preflight_only_without_upstream_reports_readiness(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NV_GENERATE_ROOT"}
    done = _shim(str(FIXTURES / "chest_lung_tumor_controllable.json"), "--output-dir", str(tmp_path / "pf"),
                 "--preflight-only", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["preflight"]
    assert report["request_valid"] and not report["environment_ready"] and report["cost"]["wall_seconds"] > 0
    upstream = next(e for e in report["errors"] if e["code"] == "upstream_missing")
    assert "NV_GENERATE_ROOT" in upstream["message"] and ".workbench_data" in upstream["message"]
    assert "medskills setup synth-ct" in upstream["fix"]


def test_shim_accepts_upstreams_own_config_infer_as_the_override_file(tmp_path, nv_generate_snapshot):
    """Seed 000 calls the first argument a config_infer.json override: upstream's own file must be valid."""
    env = {k: v for k, v in os.environ.items() if k != "NV_GENERATE_ROOT"}
    for name in ("config_infer.json", "config_infer_80g_512x512x768.json"):
        done = _shim(str(nv_generate_snapshot / "configs" / name), "--output-dir", str(tmp_path / name),
                     "--preflight-only", env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["preflight"]["request_valid"], result["preflight"]["errors"]
        assert result["request"]["config_overrides"]["controlnet"] == "$@controlnet_def"


def test_shim_preflight_only_gives_the_expected_label_mapping_before_any_gpu_time(tmp_path):
    config = tmp_path / "controllable.json"
    config.write_text(json.dumps({"controllable_anatomy_size": [["lung tumor", 0.6], ["liver", -1]],
                                  "anatomy_list": ["spleen"]}))
    env = {k: v for k, v in os.environ.items() if k != "NV_GENERATE_ROOT"}
    done = _shim(str(config), "--output-dir", str(tmp_path / "pf"), "--preflight-only", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    request = json.loads(done.stdout)["request"]
    assert request["mask_path"] == "A"
    assert request["expected_output_label_mapping"] == [
        {"output_label_id": 1, "maisi_label_id": 23, "anatomy": "lung tumor"},
        {"output_label_id": 2, "maisi_label_id": 1, "anatomy": "liver"}]


def test_shim_misspelled_anatomy_exits_2_with_suggestion(tmp_path):
    config = tmp_path / "typo.json"
    config.write_text(json.dumps({"anatomy_list": ["lung tumour"]}))
    done = _shim(str(config), "--output-dir", str(tmp_path / "pf"), "--preflight-only", env=dict(os.environ))
    assert done.returncode == 2
    errors = json.loads(done.stdout)["preflight"]["errors"]
    assert any("'lung tumor'" in e["message"] and e["field"] == "anatomy_list[0]" for e in errors)


def test_shim_bad_version_is_a_usage_error(tmp_path):
    done = _shim("default", "--output-dir", str(tmp_path / "pf"), "--version", "rflow-mr", env=dict(os.environ))
    assert done.returncode == 2 and "rflow-ct" in done.stderr


def test_error_after_preflight_still_writes_the_record(tmp_path, standin, settings):
    def broken_runner(command):
        raise UpstreamFailure(f"could not start {command.argv[2]}")

    request = CTRunRequest(config_path=_config(tmp_path), output_dir=tmp_path / "out")
    record = run_ct_synthesis(request, settings=settings, device=GPU, runner=broken_runner,
                              expected_sha256=_stand_in_pins(standin.root))
    assert record.exit_code == ExitCode.FAILED and "could not start scripts.inference" in record.failure_reasons[0]
    saved = json.loads((tmp_path / "out" / "result.json").read_text())
    assert saved["exit_code"] == 1 and saved["model"]["pinned_upstream_commit"].startswith("da438fe")


def test_list_anatomies_shim_accepts_thorax_and_filters(tmp_path):
    script = REPO_ROOT / "skills" / "nv-generate-ct-rflow" / "scripts" / "list_anatomies.py"
    done = subprocess.run([sys.executable, str(script), "--region", "thorax", "--filter", "lobe"], capture_output=True,
                          text=True, env=dict(os.environ), cwd=tmp_path, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert listing["region"] == "chest" and listing["count"] == 5
    bad = subprocess.run([sys.executable, str(script), "--region", "thorx"], capture_output=True, text=True,
                         env=dict(os.environ), cwd=tmp_path, timeout=60, check=False)
    assert bad.returncode == 2 and "'thorax'" in bad.stdout
