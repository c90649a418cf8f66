"""Manifest reading, sweep expansion and whole-manifest checks, with each problem's job and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from medskills.batch import BatchManifestError, plan_manifest


def _plan(tmp_path: Path, text: str, name: str = "batch.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return plan_manifest(path)


def _problems(tmp_path: Path, text: str, name: str = "batch.yaml") -> list[str]:
    with pytest.raises(BatchManifestError) as caught:
        _plan(tmp_path, text, name)
    return caught.value.problems


def test_yaml_jobs_expand_a_seed_sweep_into_one_named_job_per_value(tmp_path):
    jobs = _plan(tmp_path, """
jobs:
  - name: seg-abdomen
    command: [segment, ctmr]
    argv: [data/ct.nii.gz, --modality, CT_BODY, --label-prompts, "3,14"]
  - name: ct-seed
    command: [synth, ct]
    argv: [request.json, --version, rflow-ct]
    sweep: {--random-seed: [0, 1, 2]}
""")
    assert [job.name for job in jobs] == ["seg-abdomen", "ct-seed-0", "ct-seed-1", "ct-seed-2"]
    assert jobs[2].argv == ("request.json", "--version", "rflow-ct", "--random-seed", "1")
    assert jobs[0].line == 3 and jobs[1].line == 6 and jobs[3].source == "ct-seed"


def test_sweep_replaces_an_option_already_in_argv(tmp_path):
    jobs = _plan(tmp_path, """
jobs:
  - {name: s, command: [synth, ct], argv: [r.json, --random-seed, "9"], sweep: {--random-seed: [4]}}
""")
    assert jobs[0].argv == ("r.json", "--random-seed", "4")


def test_glob_sweep_fills_a_placeholder_with_each_image_relative_to_the_manifest(tmp_path):
    (tmp_path / "images").mkdir()
    for name in ("b.nii.gz", "a.nii.gz"):
        (tmp_path / "images" / name).write_bytes(b"")
    jobs = _plan(tmp_path, """
jobs:
  - name: seg
    command: [segment, ctmr]
    argv: ["{image}", --modality, CT_BODY]
    sweep: {"{image}": {glob: "images/*.nii.gz"}}
""")
    assert [(job.name, job.argv[0]) for job in jobs] == [("seg-a", "images/a.nii.gz"), ("seg-b", "images/b.nii.gz")]


def test_swept_files_sharing_a_name_are_told_apart_by_their_folder(tmp_path):
    jobs = _plan(tmp_path, """
jobs:
  - {name: seg, command: [segment, ctmr], argv: ["{image}"], sweep: {"{image}": [a/image.nii.gz, b/image.nii.gz]}}
""")
    assert [job.name for job in jobs] == ["seg-a-image", "seg-b-image"]


def test_jsonl_manifest_gives_each_job_its_line(tmp_path):
    jobs = _plan(tmp_path, '{"name": "v1", "command": ["verify", "segmentation"], "argv": ["runs/a"]}\n\n'
                           '{"name": "v2", "command": ["verify", "segmentation"], "argv": ["runs/b"]}\n',
                 name="batch.jsonl")
    assert [(job.name, job.line) for job in jobs] == [("v1", 1), ("v2", 3)]


def test_every_problem_is_listed_by_job_and_line_before_anything_runs(tmp_path):
    problems = _problems(tmp_path, """
jobs:
  - name: typo
    command: [synth, ctt]
  - name: owns-output
    command: [segment, ctmr]
    argv: [ct.nii.gz, --output-dir, mine]
  - name: no-verifier
    command: [synth, ct-mask]
    verify: true
  - name: bad-key
    command: [synth, ct]
    sweep: {seed: [1]}
  - name: "bad name!"
    command: [synth, ct]
""")
    assert any(p.startswith("line 3, job 'typo'") and "[synth, ct]" in p for p in problems)
    assert any(p.startswith("line 5, job 'owns-output'") and "--output-dir is assigned" in p for p in problems)
    assert any(p.startswith("line 8, job 'no-verifier'") and "no verifier" in p for p in problems)
    assert any(p.startswith("line 11, job 'bad-key'") and "neither an option" in p for p in problems)
    assert any(p.startswith("line 14, job 'bad name!'") and "name" in p for p in problems)


def test_two_jobs_that_would_share_a_folder_are_refused(tmp_path):
    problems = _problems(tmp_path, """
jobs:
  - {name: ct-seed-1, command: [synth, ct], argv: [r.json]}
  - {name: ct-seed, command: [synth, ct], argv: [r.json], sweep: {--random-seed: [1]}}
""")
    assert problems == ["line 4, job 'ct-seed': job 'ct-seed-1' would write the same folder jobs/ct-seed-1 as "
                        "job 'ct-seed-1' (line 3); rename one"]


def test_a_glob_matching_nothing_is_a_problem_not_an_empty_batch(tmp_path):
    problems = _problems(tmp_path, """
jobs:
  - {name: s, command: [segment, ctmr], argv: ["{image}"], sweep: {"{image}": {glob: "none/*.nii.gz"}}}
""")
    assert len(problems) == 1 and "matches no file" in problems[0]


def test_malformed_yaml_and_json_name_their_line(tmp_path):
    yaml_problems = _problems(tmp_path, "jobs:\n  - name: a\n    command: [synth, ct\n")
    assert yaml_problems[0].startswith("line ") and "not valid YAML" in yaml_problems[0]
    json_problems = _problems(tmp_path, '{"name": "a", "command": ["synth", "ct"]}\n{"name": \n', name="b.jsonl")
    assert json_problems[0].startswith("line 2,") and "not valid JSON" in json_problems[0]


def test_a_manifest_without_jobs_is_refused(tmp_path):
    assert "non-empty 'jobs' list" in _problems(tmp_path, "jobs: []\n")[0]
    assert "unknown top-level keys ['job']" in _problems(tmp_path, "jobs: [{name: a, command: [synth, ct]}]\n"
                                                                   "job: 1\n")[0]


def test_argument_checker_problems_join_the_same_list(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("jobs:\n  - {name: a, command: [synth, ctt]}\n  - {name: b, command: [synth, ct], argv: [--x]}\n")
    with pytest.raises(BatchManifestError) as caught:
        plan_manifest(path, check_arguments=lambda job: "bad flag --x" if "--x" in job.argv else None)
    assert len(caught.value.problems) == 2 and caught.value.problems[1] == "line 3, job 'b': bad flag --x"


def test_gpu_is_wanted_unless_the_job_asks_for_the_cpu(tmp_path):
    jobs = _plan(tmp_path, """
jobs:
  - {name: gpu, command: [segment, ctmr], argv: [ct.nii.gz]}
  - {name: cpu, command: [segment, ctmr], argv: [ct.nii.gz, --device, cpu]}
  - {name: verify, command: [verify, segmentation], argv: [runs/a]}
""")
    assert [job.wants_gpu for job in jobs] == [True, False, False]


def test_a_yaml_manifest_that_gives_jobs_twice_is_refused_with_both_lines(tmp_path):
    text = ("jobs:\n  - name: a\n    command: [segment, ctmr]\n    argv: [ct.nii.gz]\n"
            "jobs:\n  - name: b\n    command: [segment, ctmr]\n    argv: [ct.nii.gz]\n  - name: c\n"
            "    command: [segment, ctmr]\n    argv: [ct.nii.gz]\n")
    assert _problems(tmp_path, text) == [
        "line 5, job '-': 'jobs' is given 2 times (lines 1, 5); YAML keeps only the last: merge them into one list"]
