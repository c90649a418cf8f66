"""Headers read once: which files are skipped, what each instance holds, and grouping by (study, series)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from dicom_support.builders import write_series
from medskills.core.errors import StudyError
from medskills.dicom.errors import DicomErrorCode
from medskills.dicom.headers import HeaderScan, group_series, scan_headers


def _one_slice(folder: Path, **builder_options: Any) -> Path:
    """One uncompressed CT slice written by the shared builder (24 x 20 pixels unless told)."""
    folder.mkdir(parents=True, exist_ok=True)
    [path] = write_series(folder, slices=1, **builder_options)
    return path


def _rewrite(path: Path, *, delete: tuple[str, ...] = (), **values: Any) -> Path:
    """Read ``path``, delete the ``delete`` keywords, set ``values`` (keyword = value) and write it back."""
    import pydicom

    dataset = pydicom.dcmread(path)
    for keyword in delete:
        delattr(dataset, keyword)
    for keyword, value in values.items():
        setattr(dataset, keyword, value)
    pydicom.dcmwrite(path, dataset)
    return path


def _scan_one(path: Path) -> Any:
    scan = scan_headers([path])
    assert scan.skipped_files == ()
    [instance] = scan.instances
    return instance


def test_scan_headers_skips_and_lists_a_file_that_is_not_dicom(tmp_path: Path) -> None:
    dicom = _one_slice(tmp_path / "series")
    text = tmp_path / "series" / "readme.txt"
    text.write_text("not an image")
    empty = tmp_path / "series" / "empty.dcm"
    empty.write_bytes(b"")
    scan = scan_headers([dicom, text, empty])
    assert [i.path for i in scan.instances] == [dicom]
    assert scan.skipped_files == ("empty.dcm", "readme.txt")


def test_scan_headers_skips_a_path_that_cannot_be_opened_as_a_file(tmp_path: Path) -> None:
    dicom = _one_slice(tmp_path / "series")
    folder = tmp_path / "series" / "subfolder"
    folder.mkdir()
    scan = scan_headers([folder, dicom])
    assert [i.path for i in scan.instances] == [dicom] and scan.skipped_files == ("subfolder",)


def test_scan_headers_skips_a_dicom_file_without_pixel_data(tmp_path: Path) -> None:
    path = _rewrite(_one_slice(tmp_path), delete=("PixelData",))
    assert scan_headers([path]) == HeaderScan(instances=(), skipped_files=(path.name,))


@pytest.mark.parametrize("keyword", ["SOPInstanceUID", "Rows", "Columns"])
def test_scan_headers_skips_a_dicom_image_when_a_required_tag_is_missing(tmp_path: Path, keyword: str) -> None:
    path = _rewrite(_one_slice(tmp_path), delete=(keyword,))
    assert scan_headers([path]) == HeaderScan(instances=(), skipped_files=(path.name,))


def test_scan_headers_returns_instances_and_skipped_files_in_path_order_whatever_the_input_order(
        tmp_path: Path) -> None:
    paths = write_series(tmp_path, slices=4)
    for name in ("b.txt", "a.txt"):
        (tmp_path / name).write_text("x")
    scan = scan_headers(reversed([*paths, tmp_path / "b.txt", tmp_path / "a.txt"]))
    assert [i.path for i in scan.instances] == sorted(paths)
    assert scan.skipped_files == ("a.txt", "b.txt")


def test_scan_headers_returns_an_empty_scan_when_given_no_paths() -> None:
    assert scan_headers([]) == HeaderScan(instances=(), skipped_files=())


def test_scan_headers_parses_the_fields_selection_and_assembly_need(tmp_path: Path) -> None:
    path = _one_slice(tmp_path, rows=24, columns=20, pixel_spacing_mm=(0.8, 0.7), thickness_mm=1.25,
                      orientation=(1, 0, 0, 0, 1, 0), study_uid="1.2.3", series_uid="1.2.3.4",
                      image_type=("ORIGINAL", "PRIMARY", "AXIAL"), kernel="B70f", modality="CT",
                      origin_mm=(-10.0, -20.0, -100.0))
    instance = _scan_one(path)
    assert instance.path == path
    assert (instance.study_uid, instance.series_uid) == ("1.2.3", "1.2.3.4")
    assert instance.sop_instance_uid == str(instance.dataset.SOPInstanceUID) != ""
    assert instance.modality == "CT"
    assert instance.image_type == ("ORIGINAL", "PRIMARY", "AXIAL")
    assert instance.orientation == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    assert instance.position_mm == (-10.0, -20.0, -100.0)
    assert (instance.rows, instance.columns) == (24, 20)
    assert instance.pixel_spacing_mm == (0.8, 0.7)
    assert instance.slice_thickness_mm == 1.25
    assert instance.kernel == "B70f"
    assert instance.gantry_tilt_deg == 0.0
    assert instance.number_of_frames == 1


def test_scan_headers_upper_cases_modality_and_image_type_when_the_file_holds_lower_case(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pydicom warns that lower case is not a valid CS value
        path = _one_slice(tmp_path, image_type=("original", "primary", "axial"), modality="ct")
    instance = _scan_one(path)
    assert (instance.modality, instance.image_type) == ("CT", ("ORIGINAL", "PRIMARY", "AXIAL"))


def test_scan_headers_defers_large_pixel_data_but_keeps_it_reachable_from_the_dataset(tmp_path: Path) -> None:
    instance = _scan_one(_one_slice(tmp_path, rows=200, columns=200))  # 80 000 bytes, above the 64 KB limit
    assert instance.dataset.get_item("PixelData", keep_deferred=True).value is None
    assert len(instance.dataset.PixelData) == 200 * 200 * 2


@pytest.mark.parametrize("blank", ["", None], ids=["empty", "absent"])
def test_scan_headers_reads_blank_study_and_series_uids_as_empty_strings(tmp_path: Path, blank: str | None) -> None:
    path = _one_slice(tmp_path)
    if blank is None:
        _rewrite(path, delete=("StudyInstanceUID", "SeriesInstanceUID"))
    else:
        _rewrite(path, StudyInstanceUID=blank, SeriesInstanceUID=blank)
    instance = _scan_one(path)
    assert (instance.study_uid, instance.series_uid) == ("", "")


def test_scan_headers_joins_a_multi_valued_convolution_kernel_with_spaces(tmp_path: Path) -> None:
    instance = _scan_one(_rewrite(_one_slice(tmp_path), ConvolutionKernel=["Br64d", "3"]))
    assert instance.kernel == "Br64d 3"


@pytest.mark.parametrize("kernel", [None, ""], ids=["absent", "empty"])
def test_scan_headers_falls_back_to_filter_type_when_the_convolution_kernel_is_blank(
        tmp_path: Path, kernel: str | None) -> None:
    path = _one_slice(tmp_path)
    if kernel is None:
        _rewrite(path, delete=("ConvolutionKernel",), FilterType="BODY FILTER")
    else:
        _rewrite(path, ConvolutionKernel=kernel, FilterType="BODY FILTER")
    assert _scan_one(path).kernel == "BODY FILTER"


def test_scan_headers_prefers_the_convolution_kernel_over_filter_type_when_both_are_set(tmp_path: Path) -> None:
    instance = _scan_one(_rewrite(_one_slice(tmp_path, kernel="FC52"), FilterType="BODY FILTER"))
    assert instance.kernel == "FC52"


def test_scan_headers_gives_an_empty_kernel_when_neither_kernel_tag_is_present(tmp_path: Path) -> None:
    assert _scan_one(_rewrite(_one_slice(tmp_path), delete=("ConvolutionKernel",))).kernel == ""


def test_scan_headers_reads_number_of_frames_and_gantry_tilt_when_present(tmp_path: Path) -> None:
    instance = _scan_one(_rewrite(_one_slice(tmp_path), NumberOfFrames=5, GantryDetectorTilt=-12.5))
    assert instance.number_of_frames == 5 and instance.gantry_tilt_deg == -12.5


def test_scan_headers_gives_none_for_missing_geometry_tags(tmp_path: Path) -> None:
    path = _rewrite(_one_slice(tmp_path), delete=("ImageOrientationPatient", "ImagePositionPatient", "PixelSpacing",
                                                  "SliceThickness", "Modality", "ImageType"))
    instance = _scan_one(path)
    assert (instance.orientation, instance.position_mm, instance.pixel_spacing_mm) == (None, None, None)
    assert (instance.slice_thickness_mm, instance.modality, instance.image_type) == (None, "", ())


def test_scan_headers_reads_empty_values_as_absent(tmp_path: Path) -> None:
    path = _rewrite(_one_slice(tmp_path), ImageType="", PixelSpacing="", SliceThickness="", GantryDetectorTilt="",
                    NumberOfFrames="")
    instance = _scan_one(path)
    assert (instance.image_type, instance.pixel_spacing_mm, instance.slice_thickness_mm) == ((), None, None)
    assert (instance.gantry_tilt_deg, instance.number_of_frames) == (0.0, 1)


def test_scan_headers_gives_none_for_a_position_or_spacing_with_the_wrong_number_of_values(tmp_path: Path) -> None:
    instance = _scan_one(_rewrite(_one_slice(tmp_path), ImagePositionPatient=[1.0, 2.0], PixelSpacing=[0.5]))
    assert (instance.position_mm, instance.pixel_spacing_mm) == (None, None)


def test_scan_headers_gives_none_for_a_slice_thickness_that_is_not_a_number(tmp_path: Path) -> None:
    """A malformed DS value (``abcd``) in the file is read as text by pydicom and must not be taken as a number."""
    import pydicom

    path = _one_slice(tmp_path)
    dataset = pydicom.dcmread(path)
    del dataset.SliceThickness
    dataset.add_new(0x00180050, "LO", "abcd")  # written as LO, then relabelled DS below
    pydicom.dcmwrite(path, dataset)
    data = path.read_bytes()
    tag_at = data.find(b"\x18\x00\x50\x00LO")
    path.write_bytes(data[:tag_at + 4] + b"DS" + data[tag_at + 6:])
    assert _scan_one(path).slice_thickness_mm is None


def _study_error(scan: HeaderScan, **options: Any) -> StudyError:
    with pytest.raises(StudyError) as caught:
        group_series(scan, **options)
    return caught.value


def _two_studies(folder: Path) -> HeaderScan:
    write_series(folder, slices=2, study_uid="9.1", series_uid="9.1.1", prefix="a")
    write_series(folder, slices=3, study_uid="9.2", series_uid="9.2.1", prefix="b")
    write_series(folder, slices=2, study_uid="9.2", series_uid="9.2.0", prefix="c")
    return scan_headers(folder.iterdir())


def test_group_series_refuses_with_no_dicom_series_when_the_scan_holds_no_instance() -> None:
    error = _study_error(HeaderScan(instances=(), skipped_files=("a.txt", "b.pdf")))
    assert error.error_code == DicomErrorCode.NO_DICOM_SERIES
    assert "2 files were not DICOM images" in str(error)


def test_group_series_refuses_with_multiple_studies_when_no_study_uid_is_given(tmp_path: Path) -> None:
    error = _study_error(_two_studies(tmp_path))
    assert error.error_code == DicomErrorCode.MULTIPLE_STUDIES
    assert "2 studies (9.1, 9.2)" in str(error) and "?study_uid=" in str(error)


def test_group_series_refuses_with_study_not_found_when_the_chosen_study_is_absent(tmp_path: Path) -> None:
    error = _study_error(_two_studies(tmp_path), study_uid="9.3")
    assert error.error_code == DicomErrorCode.STUDY_NOT_FOUND
    assert "'9.3'" in str(error) and "9.1, 9.2" in str(error)


def test_group_series_refuses_with_study_not_found_even_when_the_upload_holds_one_other_study(tmp_path: Path) -> None:
    write_series(tmp_path, slices=2, study_uid="9.1", series_uid="9.1.1")
    assert _study_error(scan_headers(tmp_path.iterdir()), study_uid="9.2").error_code == DicomErrorCode.STUDY_NOT_FOUND


def test_group_series_keeps_only_the_chosen_study_sorted_by_series_uid(tmp_path: Path) -> None:
    groups = group_series(_two_studies(tmp_path), study_uid="9.2")
    assert [(g.study_uid, g.series_uid, len(g.instances)) for g in groups] == [("9.2", "9.2.0", 2), ("9.2", "9.2.1", 3)]
    assert all(i.series_uid == g.series_uid for g in groups for i in g.instances)


def test_group_series_groups_a_single_study_without_a_study_uid(tmp_path: Path) -> None:
    write_series(tmp_path, slices=3, study_uid="9.1", series_uid="9.1.2", prefix="a")
    write_series(tmp_path, slices=2, study_uid="9.1", series_uid="9.1.1", prefix="b")
    groups = group_series(scan_headers(tmp_path.iterdir()))
    assert [(g.series_uid, [i.path.name for i in g.instances]) for g in groups] == [
        ("9.1.1", ["b_0000.dcm", "b_0001.dcm"]),
        ("9.1.2", ["a_0000.dcm", "a_0001.dcm", "a_0002.dcm"]),
    ]


def test_group_series_derives_distinct_valid_uids_for_a_blank_study_and_series(tmp_path: Path) -> None:
    from pydicom.uid import UID

    write_series(tmp_path, slices=3, study_uid="", series_uid="")
    [group] = group_series(scan_headers(tmp_path.iterdir()))
    assert group.study_uid and group.series_uid and group.study_uid != group.series_uid
    assert UID(group.study_uid).is_valid and UID(group.series_uid).is_valid
    assert all(i.study_uid == "" and i.series_uid == "" for i in group.instances)


def test_group_series_derives_the_same_blank_uids_on_every_call(tmp_path: Path) -> None:
    paths = write_series(tmp_path, slices=3, study_uid="", series_uid="")
    [first] = group_series(scan_headers(paths))
    [second] = group_series(scan_headers(reversed(paths)))
    assert (first.study_uid, first.series_uid) == (second.study_uid, second.series_uid)


def test_group_series_derives_different_blank_uids_for_different_instances(tmp_path: Path) -> None:
    paths = write_series(tmp_path, slices=3, study_uid="", series_uid="")
    [whole] = group_series(scan_headers(paths))
    [part] = group_series(scan_headers(paths[:2]))
    assert whole.study_uid != part.study_uid and whole.series_uid != part.series_uid


def test_group_series_selects_a_blank_study_by_the_uid_it_derived_for_it(tmp_path: Path) -> None:
    write_series(tmp_path, slices=2, study_uid="", series_uid="", prefix="a")
    write_series(tmp_path, slices=2, study_uid="9.1", series_uid="9.1.5", prefix="b")
    scan = scan_headers(tmp_path.iterdir())
    listed = _study_error(scan)
    [derived] = [uid for uid in str(listed).split("(")[1].split(")")[0].split(", ") if uid != "9.1"]
    [group] = group_series(scan, study_uid=derived)
    assert group.study_uid == derived and {i.study_uid for i in group.instances} == {""}


def test_group_series_derives_one_uid_per_blank_series_within_a_named_study(tmp_path: Path) -> None:
    write_series(tmp_path, slices=2, study_uid="9.1", series_uid="", prefix="a")
    write_series(tmp_path, slices=2, study_uid="9.1", series_uid="9.1.5", prefix="b")
    groups = group_series(scan_headers(tmp_path.iterdir()))
    assert [g.study_uid for g in groups] == ["9.1", "9.1"]
    assert groups[1].series_uid == "9.1.5" and groups[0].series_uid not in ("", "9.1.5")
