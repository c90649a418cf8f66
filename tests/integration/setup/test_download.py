"""Hub downloads for real, against a fake hub on 127.0.0.1: success, resume, bad hash, gated, full disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from medskills.core.assets import AssetFile, AssetKind
from medskills.core.errors import EnvironmentProblem, UpstreamFailure
from medskills.setup.download import HubAccess, download_asset, partial_path
from medskills.setup.models import FileAction

pytestmark = [pytest.mark.network_local, pytest.mark.timeout(60)]

REVISION = "ab" * 20
CONTENT = bytes(range(256)) * 400  # 100 kB


def _asset(*, repo_id: str = "nvidia/Fake-Weights", sha256: str | None = None) -> AssetFile:
    return AssetFile(kind=AssetKind.WEIGHT, repo_id=repo_id, revision=REVISION, filename="models/net.pt",
                     target="models/net.pt", size_mb_approx=0.1, sha256=sha256, licence="Test Licence")


def _plenty(_: Path) -> int:
    return 10**12


def _download(asset: AssetFile, destination: Path, *, free_bytes=_plenty, token_env: str = "HF_TOKEN"):
    return download_asset(asset, destination, access=HubAccess.from_environment(token_env), free_bytes=free_bytes,
                          hash_cache=destination.parent.parent / "hash_cache.json")


def test_download_lands_in_place_with_its_sha256_checked(fake_hub, tmp_path: Path) -> None:
    pin = fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    destination = tmp_path / "root" / "models" / "net.pt"
    outcome = _download(_asset(sha256=pin), destination)
    assert outcome.action == FileAction.DOWNLOADED and outcome.sha256_source == "pin"
    assert destination.read_bytes() == CONTENT
    assert not partial_path(destination).exists()
    assert [r[1] for r in fake_hub.gets()] == [f"/nvidia/Fake-Weights/resolve/{REVISION}/models/net.pt"]


def test_unpinned_file_is_checked_against_the_hub_etag(fake_hub, tmp_path: Path) -> None:
    fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    outcome = _download(_asset(), tmp_path / "root" / "models" / "net.pt")
    assert outcome.sha256_source == "etag" and outcome.sha256 == hashlib.sha256(CONTENT).hexdigest()


def test_second_run_downloads_nothing(fake_hub, tmp_path: Path) -> None:
    pin = fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    destination = tmp_path / "root" / "models" / "net.pt"
    _download(_asset(sha256=pin), destination)
    seen = len(fake_hub.requests)
    again = _download(_asset(sha256=pin), destination)
    assert again.action == FileAction.ALREADY_PRESENT
    assert len(fake_hub.requests) == seen


def test_retry_resumes_an_interrupted_transfer_with_a_range_request(fake_hub, tmp_path: Path) -> None:
    pin = fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    destination = tmp_path / "root" / "models" / "net.pt"
    partial = partial_path(destination)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(CONTENT[:40_000])  # what an interrupted earlier run leaves behind
    partial.with_name(partial.name + ".etag").write_text(pin, encoding="utf-8")
    _download(_asset(sha256=pin), destination)
    assert destination.read_bytes() == CONTENT
    assert [r[2] for r in fake_hub.gets()] == ["bytes=40000-"]


def test_connection_cut_mid_transfer_is_retried_to_completion(fake_hub, tmp_path: Path) -> None:
    pin = fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    fake_hub.cut_next_get_after = 30_000
    destination = tmp_path / "root" / "models" / "net.pt"
    _download(_asset(sha256=pin), destination)
    assert destination.read_bytes() == CONTENT
    assert len(fake_hub.gets()) == 2  # huggingface_hub retried the cut GET itself


def test_partial_from_a_different_hub_object_is_discarded(fake_hub, tmp_path: Path) -> None:
    pin = fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    destination = tmp_path / "root" / "models" / "net.pt"
    partial = partial_path(destination)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"x" * 1000)
    partial.with_name(partial.name + ".etag").write_text("0" * 64, encoding="utf-8")
    _download(_asset(sha256=pin), destination)
    assert destination.read_bytes() == CONTENT
    assert [r[2] for r in fake_hub.gets()] == [None]


def test_hash_mismatch_deletes_the_download_and_fails(fake_hub, tmp_path: Path) -> None:
    pin = fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    fake_hub.corrupt.add("models/net.pt")
    destination = tmp_path / "root" / "models" / "net.pt"
    with pytest.raises(UpstreamFailure, match=f"expected {pin}.*deleted"):
        _download(_asset(sha256=pin), destination)
    assert not destination.exists()
    assert list(destination.parent.iterdir()) == []


def test_existing_file_with_the_wrong_hash_is_reported_and_kept(fake_hub, tmp_path: Path) -> None:
    pin = fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    destination = tmp_path / "root" / "models" / "net.pt"
    destination.parent.mkdir(parents=True)
    destination.write_bytes(b"user file")
    with pytest.raises(EnvironmentProblem, match="left untouched"):
        _download(_asset(sha256=pin), destination)
    assert destination.read_bytes() == b"user file"
    assert fake_hub.requests == []


def test_gated_repo_403_prints_the_licence_steps(fake_hub, tmp_path: Path) -> None:
    fake_hub.add("nvidia/Gated", REVISION, "models/net.pt", CONTENT)
    fake_hub.gated_repos.add("nvidia/Gated")
    with pytest.raises(EnvironmentProblem) as caught:
        _download(_asset(repo_id="nvidia/Gated"), tmp_path / "root" / "models" / "net.pt", token_env="MY_TOKEN")
    message = str(caught.value)
    assert "answered 403" in message
    assert f"{fake_hub.endpoint}/nvidia/Gated" in message and "accept the licence (Test Licence)" in message
    assert "export MY_TOKEN=<your token>" in message and "MY_TOKEN is not set" in message
    assert not (tmp_path / "root" / "models" / "net.pt").exists()


def test_full_disk_fails_before_any_byte_is_fetched(fake_hub, tmp_path: Path) -> None:
    fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    destination = tmp_path / "root" / "models" / "net.pt"
    with pytest.raises(EnvironmentProblem, match="Not enough free disk space"):
        _download(_asset(), destination, free_bytes=lambda _: 1_000)
    assert fake_hub.gets() == []
    assert not destination.exists()


def test_unreachable_hub_names_the_url_it_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(UpstreamFailure, match=r"HEAD http://127.0.0.1:9/nvidia/Fake-Weights/resolve/.*failed"):
        _download(_asset(), tmp_path / "root" / "models" / "net.pt")
    assert not (tmp_path / "root" / "models" / "net.pt").exists()


def test_401_without_a_token_explains_the_token_steps(fake_hub, tmp_path: Path) -> None:
    fake_hub.add("nvidia/Private", REVISION, "models/net.pt", CONTENT)
    fake_hub.token_repos.add("nvidia/Private")
    with pytest.raises(EnvironmentProblem, match=r"answered 401.*HF_TOKEN is not set.*settings/tokens"):
        _download(_asset(repo_id="nvidia/Private"), tmp_path / "root" / "models" / "net.pt")


def test_token_from_the_named_variable_is_sent(fake_hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_hub.add("nvidia/Private", REVISION, "models/net.pt", CONTENT)
    fake_hub.token_repos.add("nvidia/Private")
    monkeypatch.setenv("MY_TOKEN", "hf_test_token")
    destination = tmp_path / "root" / "models" / "net.pt"
    _download(_asset(repo_id="nvidia/Private"), destination, token_env="MY_TOKEN")
    assert destination.read_bytes() == CONTENT


def test_missing_pinned_file_points_at_the_manifest(fake_hub, tmp_path: Path) -> None:
    with pytest.raises(UpstreamFailure, match="assets.json needs review"):
        _download(_asset(), tmp_path / "root" / "models" / "net.pt")


class _RecordingBar:
    instances: list[_RecordingBar] = []

    def __init__(self, *, total: int | None = None, initial: int = 0, **_: object) -> None:
        self.total, self.done = total, initial
        _RecordingBar.instances.append(self)

    def __enter__(self) -> _RecordingBar:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, n: float = 1) -> None:
        self.done += n


def test_progress_bar_sees_the_resumed_transfer(fake_hub, tmp_path: Path) -> None:
    pin = fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    destination = tmp_path / "root" / "models" / "net.pt"
    partial = partial_path(destination)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(CONTENT[:1000])
    partial.with_name(partial.name + ".etag").write_text(pin, encoding="utf-8")
    _RecordingBar.instances.clear()
    download_asset(_asset(sha256=pin), destination, access=HubAccess.from_environment("HF_TOKEN"),
                   free_bytes=_plenty, hash_cache=tmp_path / "cache.json", progress_bar=_RecordingBar)
    (bar,) = _RecordingBar.instances
    assert bar.done == len(CONTENT)


def test_cli_rich_bar_drives_a_real_download(fake_hub, tmp_path: Path) -> None:
    from medskills.cli.setup import RichTransferBar

    pin = fake_hub.add("nvidia/Fake-Weights", REVISION, "models/net.pt", CONTENT)
    destination = tmp_path / "root" / "models" / "net.pt"
    download_asset(_asset(sha256=pin), destination, access=HubAccess.from_environment("HF_TOKEN"),
                   free_bytes=_plenty, hash_cache=tmp_path / "cache.json", progress_bar=RichTransferBar)
    assert destination.read_bytes() == CONTENT
