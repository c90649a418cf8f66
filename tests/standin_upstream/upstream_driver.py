"""Run real NV-Generate-CTMR entry points, several scenarios in one process, and report where each stopped.

Usage: ``python upstream_driver.py SCENARIOS.json`` prints one JSON line per scenario. Each scenario
gives the exact ``argv`` (from ``-m`` on), ``cwd`` and ``env`` our wrapper built. One process serves
them all, so torch and MONAI are imported once (the expensive part on a CPU machine).

- ``scripts.inference``: its ``__main__`` block calls ``torch.cuda.reset_peak_memory_stats()`` *before*
  ``main()``, so on a CPU machine the verbatim command stops there, before parsing arguments. The
  scenario kind ``inference_main`` therefore does what that block does except that one call (the same
  ``logging.basicConfig``, then ``main()`` with ``sys.argv`` set); ``inference_verbatim`` runs the module
  as ``__main__`` unchanged, to show that first stop.
- ``scripts.diff_model_infer`` runs as ``__main__`` unchanged. Its first CUDA use (``initialize_distributed``)
  comes right after the config merge and *before* its input check and checkpoint loading, so the
  kind ``diff_model_checks`` then calls those steps' own upstream code on the same files: ``load_config``,
  the checkpoint paths it would load (``model_dir/model_filename``, ``trained_autoencoder_path``) and,
  for CT modalities, ``check_input_ct`` with the staged dim and spacing.

For each scenario: the exception, the upstream frames of its traceback (file, line, function, code),
and everything printed or logged, so the test can tell how far upstream got.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import runpy
import sys
import traceback
from pathlib import Path
from typing import Any

_LOG_FORMAT = "[%(asctime)s.%(msecs)03d][%(levelname)5s](%(name)s) - %(message)s"


def _upstream_frames(error: BaseException, cwd: str) -> list[dict[str, Any]]:
    frames = []
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith(cwd):
            frames.append({"file": os.path.relpath(frame.filename, cwd), "line": frame.lineno,
                           "function": frame.name, "code": (frame.line or "").strip()})
    return frames


def _innermost_frame(error: BaseException) -> dict[str, Any]:
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return {"file": frame.filename, "line": frame.lineno, "function": frame.name, "code": (frame.line or "").strip()}


def _diff_model_checks(argv: list[str]) -> dict[str, Any]:
    from scripts.diff_model_setting import load_config
    from scripts.sample import check_input_ct

    def flag(name: str) -> str:
        return argv[argv.index(name) + 1]

    args = load_config(flag("-e"), flag("-c"), flag("-t"))
    inference = args.diffusion_unet_inference
    checkpoint = f"{args.model_dir}/{args.model_filename}"
    checks: dict[str, Any] = {"checkpoint": checkpoint, "is_checkpoint_file": os.path.isfile(checkpoint),
                              "is_autoencoder_file": os.path.isfile(args.trained_autoencoder_path),
                              "modality": inference["modality"], "random_seed": inference.get("random_seed"),
                              "has_network_def": "diffusion_unet_def" in vars(args), "check_input_ct": None}
    if 1 <= inference["modality"] <= 7:
        check_input_ct(None, None, None, tuple(inference["dim"]), tuple(inference["spacing"]), None)
        checks["check_input_ct"] = "passed"
    return checks


def _run(scenario: dict[str, Any]) -> dict[str, Any]:
    cwd = str(Path(scenario["cwd"]).resolve())
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(scenario["env"])
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    module = scenario["argv"][1]  # argv = ["-m", "<module>", ...flags]
    sys.argv = [module, *scenario["argv"][2:]]
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    result: dict[str, Any] = {"name": scenario["name"], "error_type": None}
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            if scenario["kind"] == "inference_main":
                import scripts.inference

                scripts.inference.main()
            elif scenario["kind"] == "diff_model_checks":
                result["checks"] = _diff_model_checks(sys.argv)
            else:
                runpy.run_module(module, run_name="__main__", alter_sys=True)
    except BaseException as error:  # noqa: BLE001 - every stop is the measurement
        result.update(error_type=type(error).__name__, error=str(error)[:500],
                      upstream_frames=_upstream_frames(error, cwd), innermost=_innermost_frame(error))
    result["output"] = output.getvalue()[-20000:]
    return result


def main() -> int:
    scenarios = json.loads(Path(sys.argv[1]).read_text())
    stdout = sys.stdout
    for scenario in scenarios:
        stdout.write(json.dumps(_run(scenario)) + "\n")
        stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
