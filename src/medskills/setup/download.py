"""Fetch one hub file at a pinned revision: resumable ``.partial`` file, sha256 check, rename into place.

``huggingface_hub`` does the HTTP work (metadata HEAD, auth headers, ranged GET with retries, hub
error types, progress bar). Its own ``hf_hub_download`` discards a partial file when a run dies, so
a 12 GB transfer would restart from zero; here the partial bytes live next to the target as
``<name>.partial`` (with the hub ETag beside them) and the next run continues with a Range request.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from medskills.core.assets import AssetFile
from medskills.core.errors import EnvironmentProblem, UpstreamFailure
from medskills.core.io import sha256_file
from medskills.core.provenance import hash_file_cached
from medskills.setup.models import FileAction, FileOutcome

__all__ = [
    "SPACE_MARGIN_BYTES",
    "FreeBytes",
    "HubAccess",
    "ProgressBarFactory",
    "download_asset",
    "free_bytes_at",
    "licence_steps",
    "partial_path",
    "require_free_space",
]

logger = logging.getLogger(__name__)

FreeBytes = Callable[[Path], int]
ProgressBarFactory = type[Any]
SPACE_MARGIN_BYTES = 512 * 1024**2
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
METADATA_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class HubAccess:
    """Endpoint and token for hub calls, read when setup starts (``HF_ENDPOINT``, ``--token-env``)."""

    endpoint: str | None
    token: str | None
    token_env: str

    @classmethod
    def from_environment(cls, token_env: str) -> HubAccess:
        """Read ``HF_ENDPOINT`` and the token variable now (huggingface_hub reads them only at import)."""
        endpoint = os.environ.get("HF_ENDPOINT")
        return cls(endpoint=endpoint.rstrip("/") if endpoint else None, token=os.environ.get(token_env) or None,
                   token_env=token_env)

    @property
    def endpoint_text(self) -> str:
        """The endpoint as users should see it in messages."""
        return self.endpoint or "https://huggingface.co"


def free_bytes_at(path: Path) -> int:
    """Free bytes on the filesystem that will hold ``path`` (its nearest existing ancestor)."""
    probe = Path(path).absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def require_free_space(path: Path, needed_bytes: int, *, free_bytes: FreeBytes, what: str) -> None:
    """Raise EnvironmentProblem unless ``needed_bytes`` plus a margin fit where ``path`` lives."""
    available = free_bytes(path)
    if available < needed_bytes + SPACE_MARGIN_BYTES:
        raise EnvironmentProblem(
            f"Not enough free disk space for {what} under {path}: need about {_gb(needed_bytes + SPACE_MARGIN_BYTES)}"
            f" (including a {_gb(SPACE_MARGIN_BYTES)} margin), have {_gb(available)}. Free space there or pass "
            f"--root/--data-root on a larger disk, then re-run setup (finished files are kept)."
        )


def licence_steps(asset: AssetFile, access: HubAccess) -> str:
    """What a user does when the hub answers 401/403 or 'gated' for ``asset``."""
    return (
        f"1) Open {access.endpoint_text}/{asset.repo_id} and sign in. "
        f"2) Read and accept the licence ({asset.licence}) on that page. "
        f"3) Create a read token at {access.endpoint_text}/settings/tokens. "
        f"4) export {access.token_env}=<your token> and re-run medskills setup "
        f"(finished files are kept; partial ones resume)."
    )


def partial_path(destination: Path) -> Path:
    """Where the unfinished bytes of ``destination`` are kept between runs."""
    return destination.with_name(f"{destination.name}.partial")


def download_asset(
    asset: AssetFile, destination: Path, *, access: HubAccess, free_bytes: FreeBytes, hash_cache: Path,
    progress_bar: ProgressBarFactory | None = None,
) -> FileOutcome:
    """Make ``destination`` hold ``asset``: skip when present and valid, else download, verify, rename.

    ``progress_bar`` is a tqdm-shaped class for the transfer (the CLI passes a rich one); None keeps
    huggingface_hub's own bar.
    """
    if destination.is_file():
        return _existing(asset, destination, hash_cache=hash_cache)
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(asset.repo_id, asset.filename, revision=asset.revision, endpoint=access.endpoint)
    try:
        metadata = get_hf_file_metadata(url, token=access.token, timeout=METADATA_TIMEOUT_SECONDS)
    except Exception as err:  # huggingface_hub raises its own, httpx and OS errors here
        raise _explain(err, asset, access, url=url) from err
    partial = partial_path(destination)
    resume_bytes = _resume_point(partial, etag=metadata.etag)
    expected_bytes = metadata.size or int(asset.size_mb_approx * 1e6)
    require_free_space(destination, max(expected_bytes - resume_bytes, 0), free_bytes=free_bytes,
                       what=f"{asset.filename} ({_gb(expected_bytes)})")
    _transfer(asset, url=url, location=metadata.location, partial=partial, resume_bytes=resume_bytes,
              expected_bytes=metadata.size, access=access, progress_bar=progress_bar)
    expected_sha, source = _expected_sha256(asset, etag=metadata.etag)
    digest = sha256_file(partial)
    if expected_sha is not None and digest != expected_sha:
        partial.unlink()
        _etag_file(partial).unlink(missing_ok=True)
        raise UpstreamFailure(
            f"sha256 of {asset.repo_id}/{asset.filename}@{asset.revision[:12]} is {digest}, expected {expected_sha} "
            f"({source}). The bad download was deleted; re-run setup to fetch it again. If it keeps failing, the "
            f"hub file changed: report it rather than removing the pin."
        )
    os.replace(partial, destination)
    _etag_file(partial).unlink(missing_ok=True)
    hash_file_cached(destination, hash_cache)  # warm the cache doctor and preflight read
    return FileOutcome(repo_id=asset.repo_id, filename=asset.filename, path=destination,
                       action=FileAction.DOWNLOADED, bytes=destination.stat().st_size, sha256=digest,
                       sha256_source=source)


def _existing(asset: AssetFile, destination: Path, *, hash_cache: Path) -> FileOutcome:
    """A file already in place: accepted when it matches its pin (or has none); never deleted."""
    digest = hash_file_cached(destination, hash_cache)
    if asset.sha256 is not None and digest != asset.sha256:
        raise EnvironmentProblem(
            f"{destination} exists but its sha256 is {digest}, not the pinned {asset.sha256}. It was left untouched: "
            f"move or delete it yourself, then re-run setup to download the pinned file."
        )
    return FileOutcome(repo_id=asset.repo_id, filename=asset.filename, path=destination,
                       action=FileAction.ALREADY_PRESENT, bytes=destination.stat().st_size, sha256=digest,
                       sha256_source="pin" if asset.sha256 else None)


def _etag_file(partial: Path) -> Path:
    return partial.with_name(f"{partial.name}.etag")


def _resume_point(partial: Path, *, etag: str | None) -> int:
    """Bytes to keep from an earlier attempt: only when it was fetching the same hub object."""
    marker = _etag_file(partial)
    if partial.is_file() and marker.is_file() and etag and marker.read_text(encoding="utf-8").strip() == etag:
        size = partial.stat().st_size
        logger.info("Resuming %s from %s", partial.name, _gb(size))
        return size
    partial.unlink(missing_ok=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(etag or "", encoding="utf-8")
    return 0


def _transfer(
    asset: AssetFile, *, url: str, location: str, partial: Path, resume_bytes: int, expected_bytes: int | None,
    access: HubAccess, progress_bar: ProgressBarFactory | None,
) -> None:
    """Append the missing bytes to ``partial`` with huggingface_hub's ranged, retrying GET."""
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]  # public, re-exported

    headers = build_hf_headers(token=access.token)
    if urlparse(location).netloc != urlparse(url).netloc:
        headers.pop("authorization", None)  # signed CDN links must not receive the hub token
    try:
        with partial.open("ab") as handle:
            http_get(location, handle, resume_size=resume_bytes, headers=headers, expected_size=expected_bytes,
                     displayed_filename=Path(asset.filename).name, tqdm_class=progress_bar)
    except Exception as err:  # network, HTTP and disk errors all end the same way: keep the partial, explain
        kept = partial.stat().st_size if partial.exists() else 0
        raise UpstreamFailure(
            f"Download of {asset.repo_id}/{asset.filename} from {access.endpoint_text} stopped after {_gb(kept)}: "
            f"{err}. The partial file {partial} is kept; re-run setup to resume."
        ) from err


def _expected_sha256(asset: AssetFile, *, etag: str | None) -> tuple[str | None, str | None]:
    """The pin from package data, else the hub's LFS ETag (which is the file's sha256)."""
    if asset.sha256 is not None:
        return asset.sha256, "pin"
    if etag is not None and _SHA256.match(etag):
        return etag, "etag"
    return None, None


def _explain(err: Exception, asset: AssetFile, access: HubAccess, *, url: str) -> Exception:
    """Turn a hub metadata failure into an error that says what was tried and what to do."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RevisionNotFoundError,
    )

    tried = f"HEAD {url}"
    if isinstance(err, OfflineModeIsEnabled):
        return EnvironmentProblem(f"{tried} was refused because HF_HUB_OFFLINE is set. Unset it for setup only "
                                  f"(env -u HF_HUB_OFFLINE medskills setup ...); keep it for runs.")
    if isinstance(err, RevisionNotFoundError | EntryNotFoundError):
        return UpstreamFailure(f"{tried}: the pinned revision {asset.revision} or file {asset.filename} does not "
                               f"exist on {access.endpoint_text}. The pin in medskills/data/assets.json needs review.")
    status = getattr(getattr(err, "response", None), "status_code", None)
    if isinstance(err, GatedRepoError) or (isinstance(err, HfHubHTTPError) and status in {401, 403}):
        token_state = f"{access.token_env} is set" if access.token else f"{access.token_env} is not set"
        return EnvironmentProblem(f"{tried} answered {status or 'gated'}: {asset.repo_id} is gated or needs a "
                                  f"token ({token_state}). {licence_steps(asset, access)}")
    return UpstreamFailure(f"{tried} failed: {type(err).__name__}: {err}. Check the network, proxy and HF_ENDPOINT "
                           f"({access.endpoint_text}), then re-run setup (finished files are kept).")


def _gb(num_bytes: int | float) -> str:
    return f"{num_bytes / 1e9:.2f} GB"
