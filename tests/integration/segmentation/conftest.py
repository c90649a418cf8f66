"""A shrunken copy of the real NV-Segment-CTMR bundle, and a stand-in runner for failure modes.

The tiny bundle is the real bundle (``../shared/upstreams``): its ``configs`` and ``scripts`` copied
unmodified except for three keys of ``configs/inference.json``, which make a full
``python -m monai.bundle run`` take seconds instead of minutes on 2 cores. Where it is simpler than
the real bundle: the network is ``vista3d132(encoder_embed_dim=8)`` instead of the published width
(randomly initialised, saved as a plain state dict like the published checkpoint), the model spacing
is 6 mm instead of 1.5 mm and the patch 32^3 instead of 192x192x128. Everything else (transforms,
evaluator, prompt checks, inferer, saver, label files) is upstream's own. The real bundle, unshrunk,
runs in ``test_ctmr_real_upstream.py``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

TINY_SPACING_MM = [6.0, 6.0, 6.0]
TINY_PATCH = [32, 32, 32]
TINY_NETWORK = "$monai.networks.nets.vista3d132(encoder_embed_dim=8, in_channels=@input_channels)"


def write_tiny_bundle(root: Path, *, real_bundle: Path, seed: int = 0) -> Path:
    """Copy the real bundle's configs and scripts to ``root``, shrink three config keys, write a checkpoint."""
    import torch
    from monai.networks.nets import vista3d132

    for folder in ("configs", "scripts"):
        shutil.copytree(real_bundle / folder, root / folder)
    config_path = root / "configs" / "inference.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.update(network_def=TINY_NETWORK, patch_size=TINY_PATCH, resample_spacing=TINY_SPACING_MM)
    config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    (root / "models").mkdir()
    torch.manual_seed(seed)
    torch.save(vista3d132(encoder_embed_dim=8, in_channels=1).state_dict(), root / "models" / "model.pt")
    return root


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory, real_ctmr_bundle: Path) -> Path:
    """The shrunken real bundle, built once per session."""
    return write_tiny_bundle(tmp_path_factory.mktemp("bundle") / "NV-Segment-CTMR", real_bundle=real_ctmr_bundle)


@pytest.fixture()
def bundle_env(monkeypatch: pytest.MonkeyPatch, tiny_bundle: Path) -> Callable[[], None]:
    """Point NV_SEGMENT_CTMR_ROOT at the tiny bundle and allow the CPU."""
    monkeypatch.setenv("NV_SEGMENT_CTMR_ROOT", str(tiny_bundle))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return lambda: None


class StandInRunner:
    """Plays the bundle without running it: reads the argv, writes ``<stem>/<stem>_trans.nii.gz`` (or not).

    Modes: ``ok`` (prompted ids in blocks), ``no_output`` (exit 0, nothing written, as the real loader
    does), ``traceback`` (output written, a traceback on stderr, exit 0), ``unexpected_ids`` (a brain id
    in a body run), ``non_integral`` (3.5 in the map), ``shape_mismatch`` (one slice short), ``timeout``.
    """

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.commands: list[object] = []

    def __call__(self, command):  # noqa: ANN001, ANN204 - matches core.upstream.Runner
        import ast

        import nibabel as nib
        import numpy as np

        from medskills.core.models import Invocation, LogTails, utc_now
        from medskills.segmentation.bundle import expected_output_path

        self.commands.append(command)
        argv = command.argv
        input_dict = ast.literal_eval(argv[argv.index("--input_dict") + 1])
        output_dir = Path(argv[argv.index("--output_dir") + 1])
        command.log_dir.mkdir(parents=True, exist_ok=True)
        stderr_text = "Epoch[1] Complete.\n"
        if self.mode == "traceback":
            stderr_text += "Traceback (most recent call last):\n  File x\nRuntimeError: applying transform\n"
        stderr_path = command.log_dir / f"{command.log_name}.stderr.log"
        stderr_path.write_text(stderr_text)
        if self.mode not in ("no_output", "timeout"):
            image = nib.load(input_dict["image"])
            labels = np.zeros(image.shape[:3], np.float32)
            ids = input_dict.get("label_prompt") or [1]
            for index, label_id in enumerate(ids):
                labels[index::len(ids) + 1, : image.shape[1] // 2] = label_id
            if self.mode == "unexpected_ids":
                labels[0, 0, 0] = 220
            if self.mode == "non_integral":
                labels[0, 0, 0] = 3.5
            if self.mode == "shape_mismatch":
                labels = labels[:, :, :-1]
            path = expected_output_path(output_dir, Path(input_dict["image"]))
            path.parent.mkdir(parents=True, exist_ok=True)
            nib.save(nib.Nifti1Image(labels, image.affine), path)
        is_timed_out = self.mode == "timeout"
        return Invocation(argv=list(argv), cwd=command.cwd, exit_code=124 if is_timed_out else 0,
                          is_timed_out=is_timed_out, timeout_seconds=command.timeout_seconds, runtime_seconds=0.01,
                          started_at=utc_now(),
                          logs=LogTails(stderr_path=stderr_path, stderr_tail=stderr_text))


@pytest.fixture()
def stand_in() -> Callable[[str], StandInRunner]:
    """Factory of stand-in runners by failure mode (test modules must not import conftest by name)."""
    return StandInRunner
