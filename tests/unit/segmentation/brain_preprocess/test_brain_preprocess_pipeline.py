"""The brain preprocessing recipe end to end on a small synthetic head: what it writes, on which grid, in which order.

The steps run for real (N4, KDE normalisation, 1 mm resampling, SimpleITK registration). The brain extractor
is the real :class:`DeepbrainModel` with hand-set one-channel kernels, so its network code runs but acts as a
threshold at half the maximum intensity (deepbrain's 0.1 graph on a 128^3 grid is too slow for a unit test;
``tests/integration/pretrained/test_deepbrain.py`` checks the real weights). The template is a synthetic
brain-extracted 1 mm volume in [0, 1], built like :func:`load_template`'s result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import numpy.typing as npt
import pytest

from medskills.core.errors import InputError
from medskills.core.io import sha256_file
from medskills.core.volumes import LoadedVolume, read_volume
from medskills.pretrained import DeepbrainModel
from medskills.pretrained.deepbrain import ADULT_BRAIN_MASK_RANGE_ML
from medskills.segmentation.brain_preprocess.models import BrainPreprocessParameters, TemplateIdentity
from medskills.segmentation.brain_preprocess.pipeline import (
    OUTPUT_NAMES,
    BrainPreprocessResult,
    run_brain_preprocessing,
)
from medskills.segmentation.brain_preprocess.revert import read_revert_metadata, revert_to_input_grid
from medskills.segmentation.brain_preprocess.template import LoadedTemplate

sitk = pytest.importorskip("SimpleITK", reason="pip install 'medskills[brain]'")
pytest.importorskip("statsmodels", reason="pip install 'medskills[brain]'")
torch = pytest.importorskip("torch", reason="deepbrain runs in torch")

INPUT_SHAPE = (48, 56, 40)
# voxel axis 0 -> anterior, 1 -> superior, 2 -> left (flipped): the input is far from RAS voxel order
INPUT_AFFINE = np.array([[0.0, 0.0, -2.0, 40.0], [2.0, 0.0, 0.0, -48.0], [0.0, 2.5, 0.0, -70.0], [0.0, 0.0, 0.0, 1.0]])
INPUT_VOXEL_ML = 2.0 * 2.5 * 2.0 / 1000.0
TEMPLATE_SHAPE = (80, 96, 80)
TEMPLATE_AFFINE = np.array([[1.0, 0.0, 0.0, -40.0], [0.0, 1.0, 0.0, -48.0], [0.0, 0.0, 1.0, -40.0],
                            [0.0, 0.0, 0.0, 1.0]])
# fewer iterations than the recipe's defaults keep the file fast; the steps and their order stay the same
PARAMETERS = BrainPreprocessParameters(n4_iterations=(20, 20), registration_iterations=100)
STEPS = ["brain_extraction", "n4_bias_field", "white_matter_normalisation", "resample_1mm", "affine_registration"]


@dataclass(frozen=True)
class SyntheticHead:
    """The written T1, where its brain and a separate bright speck are (input voxel order)."""

    loaded: LoadedVolume
    brain: npt.NDArray[np.bool_]
    speck: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PipelineRun:
    """One preprocessing run and what it was given."""

    head: SyntheticHead
    model: DeepbrainModel
    template: LoadedTemplate
    output_dir: Path
    result: BrainPreprocessResult


def _ellipsoid(shape: tuple[int, int, int], centre: tuple[float, ...],
               radii: tuple[float, ...]) -> npt.NDArray[np.bool_]:
    grid = np.stack(np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij"))
    offsets = (grid - np.asarray(centre, dtype=np.float32)[:, None, None, None]) / np.asarray(
        radii, dtype=np.float32)[:, None, None, None]
    return np.asarray((offsets**2).sum(axis=0) <= 1.0)


def _write_head(folder: Path) -> SyntheticHead:
    """Scalp (25), grey matter (70), white matter (100) off the volume centre, a speck (100), mild noise."""
    centre = (22.0, 30.0, 19.0)
    scalp = _ellipsoid(INPUT_SHAPE, centre, (18.0, 21.0, 16.0))
    brain = _ellipsoid(INPUT_SHAPE, centre, (14.0, 17.0, 12.0))
    white = _ellipsoid(INPUT_SHAPE, centre, (8.0, 10.0, 7.0))
    speck = np.zeros(INPUT_SHAPE, dtype=bool)
    speck[40:43, 5:8, 33:36] = True
    image = np.zeros(INPUT_SHAPE, dtype=np.float32)
    image[scalp], image[brain], image[white], image[speck] = 25.0, 70.0, 100.0, 100.0
    image += np.random.default_rng(7).normal(0.0, 3.0, INPUT_SHAPE).astype(np.float32)
    path = folder / "t1.nii.gz"
    nib.save(nib.Nifti1Image(np.clip(image, 0.0, None), INPUT_AFFINE), path)
    return SyntheticHead(loaded=read_volume(path), brain=brain, speck=speck)


def _threshold_model(folder: Path) -> DeepbrainModel:
    """deepbrain 0.1's graph layers with identity convolutions, each decoder level passing its skip through, and
    the head ``sigmoid(40 x - 20)``: probability above 0.5 where the normalised input is above half its maximum."""
    kernels = {}
    for index in range(6):  # the encoder: two convolutions per level, three levels
        name = "conv3d" if index == 0 else f"conv3d_{index}"
        kernels[f"{name}/kernel"], kernels[f"{name}/bias"] = torch.ones((1, 1, 1, 1, 1)), torch.zeros(1)
    for level, transpose in enumerate(("conv3d_transpose", "conv3d_transpose_1", "conv3d_transpose_2")):
        kernels[f"{transpose}/kernel"] = torch.zeros((1, 1, 2, 2, 2))  # the upsampled path carries nothing
        kernels[f"conv3d_{6 + level}/kernel"] = torch.tensor([0.0, 1.0]).reshape(1, 2, 1, 1, 1)  # keep the skip
        kernels[f"conv3d_{6 + level}/bias"] = torch.zeros(1)
    kernels["conv3d_9/kernel"], kernels["conv3d_9/bias"] = torch.full((1, 1, 1, 1, 1), 40.0), torch.tensor([-20.0])
    weights = folder / "graph.pb"
    weights.write_bytes(b"hand-set threshold kernels")
    return DeepbrainModel(weights_path=weights, weights_sha256=sha256_file(weights), kernels=kernels)


def _template(folder: Path) -> LoadedTemplate:
    array = np.where(_ellipsoid(TEMPLATE_SHAPE, (40.0, 48.0, 40.0), (28.0, 34.0, 30.0)), 0.7, 0.0)
    array[_ellipsoid(TEMPLATE_SHAPE, (40.0, 48.0, 40.0), (16.0, 20.0, 17.0))] = 1.0
    identity = TemplateIdentity(name="synthetic brain", source_package="tests", source_version="0",
                                file_path=folder / "template.nii.gz", sha256="0" * 64, shape=TEMPLATE_SHAPE,
                                affine=TEMPLATE_AFFINE.tolist())
    return LoadedTemplate(array=array.astype(np.float32), affine=TEMPLATE_AFFINE, identity=identity)


def _dice(left: npt.NDArray[np.generic], right: npt.NDArray[np.generic]) -> float:
    left, right = np.asarray(left, dtype=bool), np.asarray(right, dtype=bool)
    return float(2.0 * (left & right).sum() / (left.sum() + right.sum()))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """One run shared by the file's tests (each only reads it)."""
    folder = tmp_path_factory.mktemp("brain_pipeline")
    head, model, template = _write_head(folder), _threshold_model(folder), _template(folder)
    output_dir = folder / "out"
    output_dir.mkdir()
    result = run_brain_preprocessing(head.loaded, output_dir, model=model, template=template, parameters=PARAMETERS)
    return PipelineRun(head=head, model=model, template=template, output_dir=output_dir, result=result)


def test_run_brain_preprocessing_writes_the_five_outputs_under_their_fixed_names(run: PipelineRun) -> None:
    assert sorted(path.name for path in run.output_dir.iterdir()) == sorted(OUTPUT_NAMES.values())
    output = run.result.output
    assert output.preprocessed_path == run.output_dir / OUTPUT_NAMES["preprocessed"]
    assert output.brain_mask_path == run.output_dir / OUTPUT_NAMES["brain_mask"]
    assert output.brain_mask_native_path == run.output_dir / OUTPUT_NAMES["brain_mask_native"]
    assert output.revert_metadata_path == run.output_dir / OUTPUT_NAMES["revert_metadata"]
    assert output.transform.transform_file == run.output_dir / OUTPUT_NAMES["transform"]


def test_run_brain_preprocessing_writes_the_image_in_0_to_1_and_a_binary_mask_on_the_template_grid(
        run: PipelineRun) -> None:
    preprocessed = nib.load(run.result.output.preprocessed_path)
    mask = nib.load(run.result.output.brain_mask_path)
    for image in (preprocessed, mask):
        assert image.shape == TEMPLATE_SHAPE and np.allclose(image.affine, TEMPLATE_AFFINE)
    data = np.asarray(preprocessed.dataobj)
    assert data.dtype == np.float32 and np.array_equal(data, run.result.preprocessed)
    assert data.min() == 0.0 and 0.9 < data.max() <= 1.0
    labels = np.asarray(mask.dataobj)
    assert labels.dtype == np.uint8 and set(np.unique(labels).tolist()) == {0, 1}
    assert np.array_equal(labels, run.result.template_mask)


def test_run_brain_preprocessing_gives_the_native_mask_in_the_input_voxel_order_when_the_input_is_not_ras(
        run: PipelineRun) -> None:
    native = nib.load(run.result.output.brain_mask_native_path)
    assert native.shape == INPUT_SHAPE and np.allclose(native.affine, INPUT_AFFINE)
    assert np.array_equal(np.asarray(native.dataobj).astype(bool), run.result.native_mask)
    assert _dice(run.result.native_mask, run.head.brain) > 0.98
    assert run.result.input_array is run.head.loaded.array and run.result.input_affine is run.head.loaded.affine


def test_run_brain_preprocessing_keeps_the_largest_component_and_measures_it_on_the_input_grid(
        run: PipelineRun) -> None:
    summary = run.result.output.mask
    native = run.result.native_mask
    assert not native[run.head.speck].any()
    assert summary.raw_component_count == 2 and 0.99 < summary.main_component_fraction < 1.0
    assert summary.voxel_count == int(native.sum())
    assert summary.volume_ml == round(summary.voxel_count * INPUT_VOXEL_ML, 2)
    assert summary.adult_range_ml == ADULT_BRAIN_MASK_RANGE_ML


def test_run_brain_preprocessing_lands_the_brain_mask_on_the_template_brain(run: PipelineRun) -> None:
    assert _dice(run.result.template_mask, run.template.array > 0) > 0.9


def test_run_brain_preprocessing_moves_the_image_and_its_mask_through_the_same_transform(run: PipelineRun) -> None:
    from scipy import ndimage

    mask = run.result.template_mask.astype(bool)
    preprocessed = run.result.preprocessed
    assert preprocessed[ndimage.binary_erosion(mask, iterations=2)].min() > 0.5
    assert preprocessed[~ndimage.binary_dilation(mask, iterations=2)].max() < 0.1


def test_run_brain_preprocessing_writes_revert_metadata_that_maps_the_template_mask_back_onto_the_native_mask(
        run: PipelineRun) -> None:
    metadata = read_revert_metadata(run.result.output.revert_metadata_path)
    template_mask = np.asarray(nib.load(run.result.output.brain_mask_path).dataobj)
    reverted = revert_to_input_grid(template_mask, metadata, is_label_map=True)
    assert reverted.shape == INPUT_SHAPE
    assert _dice(reverted, run.result.native_mask) > 0.9


def test_run_brain_preprocessing_records_the_input_template_parameters_and_transform_in_the_metadata(
        run: PipelineRun) -> None:
    metadata = read_revert_metadata(run.result.output.revert_metadata_path)
    loaded = run.head.loaded
    assert metadata.input_path == loaded.path.absolute() and metadata.input_sha256 == sha256_file(loaded.path)
    assert metadata.input_shape == INPUT_SHAPE and np.allclose(metadata.input_affine, INPUT_AFFINE)
    assert metadata.template == run.template.identity and metadata.parameters == PARAMETERS
    assert metadata.transform == run.result.output.transform
    assert metadata.preprocessed_path == run.result.output.preprocessed_path


def test_run_brain_preprocessing_writes_the_transform_it_records(run: PipelineRun) -> None:
    written = sitk.ReadTransform(str(run.result.output.transform.transform_file))
    recorded = run.result.output.transform
    parameters = np.asarray(written.GetParameters())
    np.testing.assert_allclose(parameters[:9], recorded.itk_matrix_lps, atol=1e-6)
    np.testing.assert_allclose(parameters[9:], recorded.itk_translation_lps_mm, atol=1e-6)
    np.testing.assert_allclose(written.GetFixedParameters(), recorded.itk_center_lps_mm, atol=1e-6)


def test_run_brain_preprocessing_reports_the_weights_the_peaks_and_every_step_in_order(run: PipelineRun) -> None:
    output = run.result.output
    assert output.weights_sha256 == run.model.weights_sha256
    assert output.template == run.template.identity and output.parameters == PARAMETERS
    assert list(output.step_seconds) == STEPS
    assert output.white_matter_peak_template == pytest.approx(1.0, abs=0.02)  # the template's white matter is 1.0
    assert output.white_matter_peak_input == pytest.approx(100.0, rel=0.1)  # the input's white matter is 100


def test_run_brain_preprocessing_raises_and_writes_nothing_when_no_voxel_reaches_the_mask_threshold(
        tmp_path: Path) -> None:
    head, model, template = _write_head(tmp_path), _threshold_model(tmp_path), _template(tmp_path)
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    parameters = BrainPreprocessParameters(mask_probability_threshold=1.0)
    with pytest.raises(InputError, match="deepbrain found no brain"):
        run_brain_preprocessing(head.loaded, output_dir, model=model, template=template, parameters=parameters)
    assert list(output_dir.iterdir()) == []
