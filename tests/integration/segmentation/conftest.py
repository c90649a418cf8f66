"""A minimal NV-Segment-CTMR-shaped bundle built by the tests, and a stand-in runner for failure modes.

The tiny bundle follows the bundle contract of segment.md §A (``configs/inference.json`` keys,
``--input_dict``/``--modality``/``--output_dir``/``--device`` overrides, ``<stem>/<stem>_trans.nii.gz``
output, subclass expansion, prompt validation) with its own config and a small ``scripts`` package
that needs no ignite. The network is MONAI's real ``vista3d132`` with ``encoder_embed_dim=8``, randomly
initialised and saved as a plain state dict (the published checkpoint format). A coarse 6 mm model
spacing and a 32^3 patch keep a full ``python -m monai.bundle run`` to a few seconds on 2 cores.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from medskills.core.label_spaces import load_label_dictionary
from medskills.segmentation.labels import load_label_sets

TINY_SPACING_MM = [6.0, 6.0, 6.0]
TINY_PATCH = [32, 32, 32]

_INFERENCE = {
    "imports": ["$import copy", "$import json", "$import pathlib", "$import scripts", "$import scripts.evaluator"],
    "bundle_root": "./",
    "image_key": "image",
    "output_dir": "$@bundle_root + '/eval'",
    "input_dict": "${'image': 'example/missing.nii.gz'}",
    "label_mapping": "$json.loads(pathlib.Path(@bundle_root + '/configs/label_mappings.json').read_text())",
    "ct_body": "$list(set(range(1, 133)) - set([2,16,18,20,21,23,24,25,26,27,128,129,130,131,132]))",
    "mri_body": "$[i[1] for i in @label_mapping['TotalSegmentatorMR']]",
    "mri_brain": "$[i[1] for i in @label_mapping['LUMIR']]",
    "modality": "MRI_BODY",
    "everything_labels": "${'CT_BODY': @ct_body, 'MRI_BODY': @mri_body, 'MRI_BRAIN': @mri_brain}[@modality]",
    "metadata": "$json.loads(pathlib.Path(@bundle_root + '/configs/metadata.json').read_text())",
    "labels_dict": "$@metadata['network_data_format']['outputs']['pred']['channel_def']",
    "subclass": {"2": [14, 5], "20": [28, 29, 30, 31, 32],
                 "21": "$list(range(33, 57)) + list(range(63, 98)) + [114, 120, 122]"},
    "resample_spacing": TINY_SPACING_MM,
    "patch_size": TINY_PATCH,
    "device": "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
    "network_def": "$monai.networks.nets.vista3d132(encoder_embed_dim=8, in_channels=1)",
    "network": "$@network_def.to(@device)",
    "preprocessing_transforms": [
        {"_target_": "LoadImaged", "keys": "@image_key", "image_only": True},
        {"_target_": "EnsureChannelFirstd", "keys": "@image_key"},
        {"_target_": "EnsureTyped", "keys": "@image_key", "device": "@device", "track_meta": True},
        {"_target_": "Spacingd", "keys": "@image_key", "pixdim": "@resample_spacing", "mode": "bilinear"},
        {"_target_": "CropForegroundd", "keys": "@image_key", "allow_smaller": True, "margin": 10,
         "source_key": "@image_key"},
        {"_target_": "monai.apps.vista3d.transforms.VistaPreTransformd", "keys": "@image_key",
         "subclass": "@subclass", "labels_dict": "@labels_dict"},
        {"_target_": "ScaleIntensityRangePercentilesd", "keys": "@image_key", "lower": 1, "upper": 99,
         "b_min": 0, "b_max": 1, "clip": True},
        {"_target_": "Orientationd", "keys": "@image_key", "axcodes": "RAS"},
        {"_target_": "CastToTyped", "keys": "@image_key", "dtype": "$torch.float32"},
    ],
    "preprocessing": {"_target_": "Compose", "transforms": "$@preprocessing_transforms"},
    "dataset": {"_target_": "Dataset", "data": "$[@input_dict]", "transform": "@preprocessing"},
    "dataloader": {"_target_": "DataLoader", "dataset": "@dataset", "batch_size": 1, "shuffle": False,
                   "num_workers": 0},
    "postprocessing": {"_target_": "Compose", "transforms": [
        {"_target_": "monai.apps.vista3d.transforms.VistaPostTransformd", "keys": "pred"},
        {"_target_": "Invertd", "keys": "pred", "transform": "$copy.deepcopy(@preprocessing)",
         "orig_keys": "@image_key", "nearest_interp": True, "to_tensor": True},
        {"_target_": "SaveImaged", "keys": "pred", "resample": False, "output_dir": "@output_dir",
         "output_ext": ".nii.gz", "output_dtype": "$np.float32", "output_postfix": "trans",
         "separate_folder": True},
    ]},
    "initialize": [
        "$monai.utils.set_determinism(seed=123)",
        "$@network.load_state_dict(torch.load(@bundle_root + '/models/model.pt', map_location=@device, "
        "weights_only=True))",
    ],
    "run": ["$scripts.evaluator.run(dataloader=@dataloader, network=@network, postprocessing=@postprocessing, "
            "everything_labels=@everything_labels, patch_size=@patch_size, device=@device)"],
}

_EVALUATOR = '''
"""Evaluator of the test bundle: validates prompts as the real one does, tiles, post-processes, saves."""
import torch
from monai.data import decollate_batch
from monai.inferers import SlidingWindowInfererAdapt
from monai.transforms import reset_ops_id

UNSUPPORTED = {0, 16, 129, 130, 131, 133, 137, 138, 139, 140, 141, 142, 143, 144, 145, 162}


def _prompt_ids(prompt, everything):
    if prompt is None:
        return list(everything)
    if not isinstance(prompt, (list, tuple)):
        raise ValueError("Label prompt must be a list, [1,2,3,4,...,].")
    ids = [int(p) for p in prompt]
    if any(i >= 512 for i in ids):
        raise ValueError("Current bundle only supports label prompt smaller than 512.")
    if any(i in UNSUPPORTED or i > 345 for i in ids):
        raise ValueError("Undefined label prompt detected. Provide point prompts for zero-shot.")
    return ids


def run(*, dataloader, network, postprocessing, everything_labels, patch_size, device):
    network.eval()
    inferer = SlidingWindowInfererAdapt(roi_size=patch_size, sw_batch_size=1, with_coord=True,
                                        padding_mode="replicate")
    for batch in dataloader:
        ids = _prompt_ids(batch.get("label_prompt"), everything_labels)
        class_vector = torch.tensor(ids, device=device).unsqueeze(-1)
        with torch.no_grad():
            batch["pred"] = inferer(batch["image"].to(device), network, transpose=True, class_vector=class_vector)
        batch["image"] = reset_ops_id(batch["image"])  # lets the deep-copied preprocessing invert it
        batch["label_prompt"] = class_vector.unsqueeze(0)
        for item in decollate_batch(batch):
            postprocessing(item)
'''


def write_tiny_bundle(root: Path, *, seed: int = 0) -> Path:
    """Write the bundle folder (configs, scripts, a random-init embed-8 checkpoint) and return it."""
    import torch
    from monai.networks.nets import vista3d132

    dictionary = load_label_dictionary("vista3d")
    sets = load_label_sets()
    (root / "configs").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "models").mkdir()
    (root / "configs" / "inference.json").write_text(json.dumps(_INFERENCE, indent=1))
    channel_def = {"0": "background", **{str(e.id): e.name for e in dictionary.entries}}
    metadata = {"version": "0.0.1-test", "network_data_format": {"outputs": {"pred": {"channel_def": channel_def}}}}
    (root / "configs" / "metadata.json").write_text(json.dumps(metadata))
    label_dict = {e.name: {"index": e.id, "datasets": list(e.modalities)} for e in dictionary.entries}
    (root / "configs" / "label_dict.json").write_text(json.dumps(label_dict))
    from medskills.segmentation.labels import SegmentationModality

    mappings = {"TotalSegmentatorMR": [[i + 1, g] for i, g in enumerate(sets.everything[SegmentationModality.MRI_BODY])],
                "LUMIR": [[i + 1, g] for i, g in enumerate(sets.everything[SegmentationModality.MRI_BRAIN])]}
    (root / "configs" / "label_mappings.json").write_text(json.dumps(mappings))
    (root / "scripts" / "__init__.py").write_text("")
    (root / "scripts" / "evaluator.py").write_text(textwrap.dedent(_EVALUATOR))
    (root / "scripts" / "inferer.py").write_text('"""Unused here; the bundle layout check wants it."""\n')
    torch.manual_seed(seed)
    torch.save(vista3d132(encoder_embed_dim=8, in_channels=1).state_dict(), root / "models" / "model.pt")
    return root


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny real bundle, built once per session."""
    return write_tiny_bundle(tmp_path_factory.mktemp("bundle") / "NV-Segment-CTMR")


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
