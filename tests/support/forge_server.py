"""A local HTTP server standing in for the GitHub and GitLab endpoints taskyard uses.

It keeps pull (merge) requests per repository, answers like the real APIs (including their
errors for a bad token, an unknown repository and a request that already exists), and records
every request for tests to assert on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

GITLAB_PREFIX = "/api/v4"


@dataclass(frozen=True)
class ForgeRequest:
    """One request as the fake forge received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Stored:
    """One pull (merge) request the fake forge holds."""

    number: int
    head: str
    base: str
    title: str
    body: str
    draft: bool
    state: str = "open"


@dataclass
class FakeForge:
    """The fake forge's state: its repositories, requests, token and scripted failures."""

    token: str
    repos: set[str]
    port: int = 0
    requests: list[ForgeRequest] = field(default_factory=list)
    pulls: dict[str, list[Stored]] = field(default_factory=dict)
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """Answers given, in order, to the next requests instead of the normal ones."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def github_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def gitlab_url(self) -> str:
        return f"{self.github_url}{GITLAB_PREFIX}"

    def seed(self, repo: str, head: str, base: str = "main") -> Stored:
        """An open request that exists before taskyard asks."""
        stored = Stored(len(self.pulls.get(repo, [])) + 1, head, base, "by hand", "", False)
        self.pulls.setdefault(repo, []).append(stored)
        return stored

    def calls(self, method: str | None = None) -> list[ForgeRequest]:
        return [request for request in self.requests if method in (None, request.method)]


class _Handler(BaseHTTPRequestHandler):
    forge: FakeForge

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        request = ForgeRequest(
            method=self.command,
            path=parts.path,
            query={key: values[0] for key, values in parse_qs(parts.query).items()},
            headers={key.lower(): value for key, value in self.headers.items()},
            body=json.loads(raw) if raw else {},
        )
        forge = self.forge
        with forge.lock:
            forge.requests.append(request)
            if forge.failures:
                status, answer = forge.failures.pop(0)
            else:
                status, answer = _answer(forge, request)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _answer(forge: FakeForge, request: ForgeRequest) -> tuple[int, Any]:
    gitlab = request.path.startswith(GITLAB_PREFIX)
    token = request.headers.get("private-token" if gitlab else "authorization", "")
    if token != (forge.token if gitlab else f"Bearer {forge.token}"):
        return 401, {"message": "401 Unauthorized" if gitlab else "Bad credentials"}
    if gitlab:
        return _gitlab(forge, request)
    return _github(forge, request)


def _github(forge: FakeForge, request: ForgeRequest) -> tuple[int, Any]:
    parts = request.path.strip("/").split("/")
    if len(parts) < 4 or parts[0] != "repos" or parts[3] != "pulls":
        return 404, {"message": "Not Found"}
    repo = f"{parts[1]}/{parts[2]}"
    if repo not in forge.repos:
        return 404, {"message": "Not Found"}
    pulls = forge.pulls.setdefault(repo, [])
    web = f"{forge.github_url}/{repo}/pull"
    if request.method == "POST":
        head = request.body["head"]
        if any(pull.head == head and pull.state == "open" for pull in pulls):
            message = f"A pull request already exists for {parts[1]}:{head}."
            errors = [{"resource": "PullRequest", "code": "custom", "message": message}]
            return 422, {"message": "Validation Failed", "errors": errors}
        body = request.body
        stored = Stored(
            len(pulls) + 1, head, body["base"], body["title"], body["body"], body["draft"]
        )
        pulls.append(stored)
        return 201, _github_json(stored, web)
    if request.method == "GET":
        head = request.query.get("head", "").split(":", 1)[-1]
        found = [pull for pull in pulls if pull.head == head and pull.state == "open"]
        return 200, [_github_json(pull, web) for pull in found]
    stored = pulls[int(parts[4]) - 1]
    stored.body = request.body.get("body", stored.body)
    return 200, _github_json(stored, web)


def _github_json(pull: Stored, web: str) -> dict[str, Any]:
    return {
        "number": pull.number,
        "html_url": f"{web}/{pull.number}",
        "state": pull.state,
        "draft": pull.draft,
        "merged_at": None,
    }


def _gitlab(forge: FakeForge, request: ForgeRequest) -> tuple[int, Any]:
    parts = request.path.removeprefix(GITLAB_PREFIX).strip("/").split("/")
    if len(parts) < 3 or parts[0] != "projects" or parts[2] != "merge_requests":
        return 404, {"message": "404 Not Found"}
    repo = unquote(parts[1])
    if repo not in forge.repos:
        return 404, {"message": "404 Project Not Found"}
    pulls = forge.pulls.setdefault(repo, [])
    web = f"{forge.github_url}/{repo}/-/merge_requests"
    if request.method == "POST":
        body = request.body
        head = body["source_branch"]
        existing = [pull for pull in pulls if pull.head == head and pull.state == "open"]
        if existing:
            message = (
                "Another open merge request already exists for this source branch: "
                f"!{existing[0].number}"
            )
            return 409, {"message": [message]}
        title = body["title"]
        stored = Stored(
            len(pulls) + 1,
            head,
            body["target_branch"],
            title,
            body["description"],
            title.startswith("Draft: "),
        )
        pulls.append(stored)
        return 201, _gitlab_json(stored, web)
    if request.method == "GET":
        head = request.query.get("source_branch", "")
        return 200, [_gitlab_json(pull, web) for pull in pulls if pull.head == head]
    stored = pulls[int(parts[3]) - 1]
    stored.body = request.body.get("description", stored.body)
    return 200, _gitlab_json(stored, web)


def _gitlab_json(pull: Stored, web: str) -> dict[str, Any]:
    state = "opened" if pull.state == "open" else pull.state
    return {"iid": pull.number, "web_url": f"{web}/{pull.number}", "state": state}


@contextmanager
def fake_forge(
    token: str = "s3cret-token", repos: tuple[str, ...] = ("acme/calc",)
) -> Iterator[FakeForge]:
    """A fake forge serving on 127.0.0.1 (port 0), stopped on exit."""
    forge = FakeForge(token, set(repos))
    handler = type("Handler", (_Handler,), {"forge": forge})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    forge.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield forge
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
