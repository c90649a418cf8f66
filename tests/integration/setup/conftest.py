"""Fixtures: a local bare git repository standing in for GitHub, and a tiny hub on 127.0.0.1.

The hub serves the HEAD/GET ``/{repo}/resolve/{revision}/{file}`` routes and answers the way ``huggingface_hub`` expects (X-Repo-Commit, ETag = sha256 of the content,
Content-Length, ``Range: bytes=N-`` -> 206), can refuse a gated repo with 403 + ``X-Error-Code:
GatedRepo``, serve wrong bytes, or cut a transfer half-way.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

_ROUTE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[0-9a-f]{40})/(?P<filename>.+)$")


@dataclass
class FakeHub:
    """Files served by the fake hub and a log of what clients asked for."""

    endpoint: str = ""
    files: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    gated_repos: set[str] = field(default_factory=set)
    token_repos: set[str] = field(default_factory=set)
    corrupt: set[str] = field(default_factory=set)
    cut_next_get_after: int | None = None
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)

    def add(self, repo_id: str, revision: str, filename: str, content: bytes) -> str:
        """Serve ``content``; return its sha256 (the hub's ETag for LFS files)."""
        self.files[(repo_id, revision, filename)] = content
        return hashlib.sha256(content).hexdigest()

    def gets(self) -> list[tuple[str, str, str | None]]:
        """The GET requests seen so far (method, path, Range header)."""
        return [r for r in self.requests if r[0] == "GET"]


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence stderr logging
            return

        def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
            self._serve(body=False)

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            self._serve(body=True)

        def _serve(self, *, body: bool) -> None:
            hub.requests.append((self.command, self.path, self.headers.get("Range")))
            match = _ROUTE.match(self.path)
            if match is None:
                return self._error(404, "RepoNotFound")
            repo, revision, filename = match["repo"], match["revision"], match["filename"]
            if repo in hub.gated_repos:
                return self._error(403, "GatedRepo")
            if repo in hub.token_repos and "authorization" not in {k.lower() for k in self.headers}:
                return self._error(401, "RepoNotFound")
            content = hub.files.get((repo, revision, filename))
            if content is None:
                return self._error(404, "EntryNotFound")
            etag = hashlib.sha256(content).hexdigest()
            if filename in hub.corrupt:
                content = bytes(len(content))
            start = int(re.match(r"bytes=(\d+)-", self.headers.get("Range", "bytes=0-"))[1])
            self.send_response(206 if start else 200)
            self.send_header("X-Repo-Commit", revision)
            self.send_header("ETag", f'"{etag}"')
            self.send_header("Content-Length", str(len(content) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
            self.end_headers()
            if not body:
                return None
            payload = content[start:]
            if hub.cut_next_get_after is not None:
                payload = payload[: hub.cut_next_get_after]
                hub.cut_next_get_after = None
                self.wfile.write(payload)
                self.wfile.flush()
                self.close_connection = True
                return None
            self.wfile.write(payload)
            return None

        def _error(self, status: int, code: str) -> None:
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """Start the fake hub, point HF_ENDPOINT at it and leave offline mode; always stopped afterwards."""
    import huggingface_hub.constants

    hub = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    hub.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null"}


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git for a test; fail loudly."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=True,
                          env={**os.environ, **GIT_ENV})
    return done.stdout.strip()


@dataclass(frozen=True)
class BareUpstream:
    """A bare repo with two commits: ``old_commit`` then ``pinned_commit``."""

    url: str
    work: Path
    old_commit: str
    pinned_commit: str

    def add_commit(self, name: str) -> str:
        """Push one more commit (newer than the pin)."""
        (self.work / name).write_text(name, encoding="utf-8")
        git("add", name, cwd=self.work)
        git("commit", "-q", "-m", name, cwd=self.work)
        git("push", "-q", "origin", "HEAD:main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)


@pytest.fixture
def run_git() -> object:
    """The ``git`` helper, for tests that shape a clone."""
    return git


@pytest.fixture
def bare_upstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BareUpstream:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    bare = tmp_path / "upstream.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    work = tmp_path / "upstream-work"
    git("clone", "-q", str(bare), str(work))
    git("checkout", "-q", "-b", "main", cwd=work)
    (work / "README.md").write_text("first\n", encoding="utf-8")
    git("add", "README.md", cwd=work)
    git("commit", "-q", "-m", "first", cwd=work)
    old = git("rev-parse", "HEAD", cwd=work)
    (work / "scripts.py").write_text("x = 1\n", encoding="utf-8")
    git("add", "scripts.py", cwd=work)
    git("commit", "-q", "-m", "second", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    return BareUpstream(url=str(bare), work=work, old_commit=old, pinned_commit=git("rev-parse", "HEAD", cwd=work))
