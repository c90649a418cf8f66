"""The real DICOM series through the DICOM layer (the chest rules are tested in tests/integration/triage)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from dicom_support.builders import zip_folder
from medskills.core.errors import StudyError
from medskills.dicom import DicomErrorCode, read_dicom_series, read_dicom_zip


def _reference(shared_data: Path) -> nib.Nifti1Image:
    return nib.as_closest_canonical(nib.load(shared_data / "ct_dicom_series_reference_totalsegmentator.nii.gz"))


def test_the_real_zip_selects_its_series_and_matches_the_reference_geometry(shared_data: Path, real_series_zip: Path,
                                                                            tmp_path: Path) -> None:
    series = read_dicom_zip(real_series_zip, work_root=tmp_path)
    reference = _reference(shared_data)
    volume = series.volume
    assert volume.shape == reference.shape == (512, 512, 20)
    np.testing.assert_allclose(volume.affine, reference.affine, atol=1e-3)
    assert nib.aff2axcodes(volume.affine) == ("R", "A", "S")
    chosen = series.selection.candidates[0]
    assert series.selection.chosen_series_uid == volume.series_uid and chosen.kernel.startswith("Br38f")
    assert chosen.slice_spacing_mm == pytest.approx(2.0) and chosen.rejection_code is None
    assert -1100 < float(volume.array.min()) <= -1000 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("syntax_name", ["JPEG2000Lossless", "RLELossless", "ExplicitVRLittleEndian"])
def test_a_re_encoded_real_series_decodes_to_the_same_volume(shared_data: Path, tmp_path: Path,
                                                             syntax_name: str) -> None:
    import pydicom
    import pydicom.uid

    syntax = getattr(pydicom.uid, syntax_name)
    folder = tmp_path / "recoded"
    folder.mkdir()
    for path in sorted((shared_data / "ct_dicom_series").iterdir())[:20]:
        dataset = pydicom.dcmread(path)
        dataset.decompress()  # the shared series is stored as JPEG 2000 lossless already
        if syntax.is_compressed:
            dataset.compress(syntax)
        assert dataset.file_meta.TransferSyntaxUID == syntax
        dataset.save_as(folder / path.name, enforce_file_format=True)
    recoded = read_dicom_zip(zip_folder(folder, tmp_path / "r.zip"), work_root=tmp_path)
    original = read_dicom_series(shared_data / "ct_dicom_series")
    np.testing.assert_array_equal(recoded.volume.array, original.volume.array)
    np.testing.assert_allclose(recoded.volume.affine, original.volume.affine)


def test_a_transfer_syntax_without_a_decoder_is_refused_with_its_code(shared_data: Path, tmp_path: Path) -> None:
    import pydicom

    folder = tmp_path / "undecodable"
    folder.mkdir()
    for path in sorted((shared_data / "ct_dicom_series").iterdir()):
        dataset = pydicom.dcmread(path)
        dataset.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.102"  # MPEG-4 AVC: no pixel decoder installed
        dataset.save_as(folder / path.name, enforce_file_format=True)
    with pytest.raises(StudyError) as caught:
        read_dicom_series(folder)
    assert caught.value.error_code == DicomErrorCode.UNSUPPORTED_TRANSFER_SYNTAX
    assert "1.2.840.10008.1.2.4.102" in str(caught.value)
