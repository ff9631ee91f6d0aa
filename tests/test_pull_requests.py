"""Pull requests without Docker: a stored task's branch pushed to a bare remote, and a fake
GitHub/GitLab answering (and recording) the API calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.api import Engine, EngineError
from engine.delivery.forge_target import NO_GH_ENV
from engine.views.events import PullRequestChanged
from tests.support.board import stored_engine
from tests.support.delivery import (
    TaskResult,
    continue_task,
    remote_sha,
    repo_with_remote,
    store_ready_task,
)
from tests.support.forge_server import FakeForge, fake_forge
from tests.support.repos import git

TOKEN = "s3cret-token"
TASK = "aaaa0001"
BRANCH = f"taskyard/{TASK}"
GITLAB_REPO = "acme/tools/calc"


@pytest.fixture(autouse=True)
def no_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens come only from what a test sets; `gh` is never asked."""
    for name in ("GH_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(NO_GH_ENV, "1")


@pytest.fixture
def forge() -> Iterator[FakeForge]:
    with fake_forge(TOKEN, repos=("acme/calc", GITLAB_REPO)) as server:
        yield server


@pytest.fixture
def remote(tmp_path: Path) -> tuple[Path, Path]:
    return repo_with_remote(tmp_path)


def github_engine(tmp_path: Path, forge: FakeForge, repo: str = "acme/calc") -> Engine:
    return stored_engine(tmp_path / "home", forge={"api_url": forge.github_url, "repo": repo})


def gitlab_engine(tmp_path: Path, forge: FakeForge) -> Engine:
    settings = {"kind": "gitlab", "api_url": forge.gitlab_url, "repo": GITLAB_REPO}
    return stored_engine(tmp_path / "home", forge=settings)


def pull_request_events(engine: Engine, task_id: str) -> list[PullRequestChanged]:
    return [e for e in engine.events(task_id) if isinstance(e, PullRequestChanged)]


async def test_github_pull_request_carries_the_evidence_and_is_recorded(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    repo, bare = remote
    engine = github_engine(tmp_path, forge)
    result = store_ready_task(engine, repo, TASK)
    delivery = await engine.open_pull_request(TASK)
    assert remote_sha(bare, BRANCH) == engine.task(TASK).head_sha == delivery.head_sha
    [create] = forge.requests
    assert (create.method, create.path) == ("POST", "/repos/acme/calc/pulls")
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    assert create.headers["accept"] == "application/vnd.github+json"
    body = create.body
    assert (body["title"], body["head"], body["base"], body["draft"]) == (
        "Fix the failing test",
        BRANCH,
        "main",
        False,
    )
    text = body["body"]
    blob = f"{forge.github_url}/acme/calc/blob/{delivery.head_sha}/calc.py#L1-L2"
    assert f"Fixed `add`, which subtracted ([calc.py L1-L2]({blob}))" in text
    assert "(output of `python3 -m unittest -q` L1)" in text
    assert "❌ `python3 -m unittest -q` — fail (exit 1)" in text
    assert "✅ `python3 -m unittest -q` — pass (exit 0)" in text
    assert "✗ invalid: `missing.py` L1 — no such file" in text
    assert "> Fix the failing test\n> in calc.py" in text and "【" not in text
    assert (delivery.action, delivery.number) == ("opened", 1)
    assert delivery.url == f"{forge.github_url}/acme/calc/pull/1"
    record = engine.task(TASK)
    assert (record.status, record.pr_number, record.pr_url, record.pr_forge) == (
        "pr-opened",
        1,
        delivery.url,
        "github",
    )
    assert [e.action for e in pull_request_events(engine, TASK)] == ["opened"]
    assert (
        git(repo, "status", "--porcelain") == "" and git(repo, "branch", "--show-current") == "main"
    )
    assert result.base_sha == git(repo, "rev-parse", "main")
    await engine.close()


async def test_running_pr_again_pushes_and_updates_the_same_pull_request(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    repo, bare = remote
    engine = github_engine(tmp_path, forge)
    result = store_ready_task(engine, repo, TASK)
    await engine.open_pull_request(TASK, draft=True)
    assert forge.requests[0].body["draft"] is True
    record = continue_task(engine, result, {"test_negative.py": "# negatives\n"})
    again = await engine.open_pull_request(TASK)
    assert remote_sha(bare, BRANCH) == record.head_sha == again.head_sha
    assert [(r.method, r.path) for r in forge.requests] == [
        ("POST", "/repos/acme/calc/pulls"),
        ("PATCH", "/repos/acme/calc/pulls/1"),
    ]
    assert set(forge.requests[1].body) == {"body"}
    assert f"blob/{record.head_sha}/calc.py" in forge.requests[1].body["body"]
    assert (again.action, again.number) == ("updated", 1)
    assert len(forge.pulls["acme/calc"]) == 1
    await engine.close()


async def test_a_pull_request_already_open_for_the_branch_is_reused(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    repo, _bare = remote
    forge.seed("acme/calc", BRANCH)
    engine = github_engine(tmp_path, forge)
    store_ready_task(engine, repo, TASK)
    delivery = await engine.open_pull_request(TASK)
    assert [(r.method, r.path) for r in forge.requests] == [
        ("POST", "/repos/acme/calc/pulls"),
        ("GET", "/repos/acme/calc/pulls"),
        ("PATCH", "/repos/acme/calc/pulls/1"),
    ]
    assert forge.requests[1].query == {"head": f"acme:{BRANCH}", "state": "open"}
    assert (delivery.action, delivery.number) == ("updated", 1)
    assert "✅" in forge.pulls["acme/calc"][0].body
    assert engine.task(TASK).pr_number == 1
    await engine.close()


async def test_gitlab_merge_request_draft_then_update(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("GH_TOKEN", "never-sent-to-gitlab")
    repo, bare = remote
    engine = gitlab_engine(tmp_path, forge)
    result = store_ready_task(engine, repo, TASK)
    opened = await engine.open_pull_request(TASK, draft=True)
    create = forge.requests[0]
    assert (create.method, create.path) == (
        "POST",
        "/api/v4/projects/acme%2Ftools%2Fcalc/merge_requests",
    )
    assert create.headers["private-token"] == TOKEN and "authorization" not in create.headers
    assert create.body["title"] == "Draft: Fix the failing test"
    assert (create.body["source_branch"], create.body["target_branch"]) == (BRANCH, "main")
    assert "❌ `python3 -m unittest -q` — fail (exit 1)" in create.body["description"]
    assert f"/acme/tools/calc/-/blob/{opened.head_sha}/calc.py#L1-2" in create.body["description"]
    assert opened.url == f"{forge.github_url}/acme/tools/calc/-/merge_requests/1"
    record = continue_task(engine, result, {"notes.txt": "more\n"})
    updated = await engine.open_pull_request(TASK)
    assert (forge.requests[1].method, forge.requests[1].path) == (
        "PUT",
        "/api/v4/projects/acme%2Ftools%2Fcalc/merge_requests/1",
    )
    assert set(forge.requests[1].body) == {"description"}
    assert (updated.action, updated.number, remote_sha(bare, BRANCH)) == (
        "updated",
        1,
        record.head_sha,
    )
    assert engine.task(TASK).pr_forge == "gitlab"
    await engine.close()


async def test_gitlab_merge_request_already_open_is_reused(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    forge.seed(GITLAB_REPO, BRANCH)
    engine = gitlab_engine(tmp_path, forge)
    store_ready_task(engine, remote[0], TASK)
    delivery = await engine.open_pull_request(TASK)
    assert [r.method for r in forge.requests] == ["POST", "GET", "PUT"]
    assert forge.requests[1].query == {"source_branch": BRANCH, "state": "opened"}
    assert (delivery.action, delivery.number) == ("updated", 1)
    await engine.close()


async def test_without_a_token_the_branch_is_pushed_and_the_compare_url_given(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path]
) -> None:
    repo, bare = remote
    engine = github_engine(tmp_path, forge)
    store_ready_task(engine, repo, TASK)
    delivery = await engine.open_pull_request(TASK)
    assert forge.requests == []
    assert remote_sha(bare, BRANCH) == delivery.head_sha
    assert delivery.action == "pushed" and delivery.number == 0
    assert delivery.url == f"{forge.github_url}/acme/calc/compare/main...{BRANCH}?expand=1"
    assert "GH_TOKEN" in delivery.note and "gh auth login" in delivery.note
    record = engine.task(TASK)
    assert (record.status, record.pr_number) == ("ready", 0)
    assert [e.action for e in pull_request_events(engine, TASK)] == ["pushed"]
    await engine.close()


async def test_without_a_gitlab_token_the_new_merge_request_page_is_given(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path]
) -> None:
    engine = gitlab_engine(tmp_path, forge)
    store_ready_task(engine, remote[0], TASK)
    delivery = await engine.open_pull_request(TASK)
    assert delivery.url == (
        f"{forge.github_url}/acme/tools/calc/-/merge_requests/new?"
        "merge_request%5Bsource_branch%5D=taskyard%2Faaaa0001&merge_request%5Btarget_branch%5D=main"
    )
    assert "GITLAB_TOKEN" in delivery.note
    await engine.close()


async def test_the_gh_command_gives_the_token(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(
        f'#!/bin/sh\n[ "$*" = "auth token --hostname 127.0.0.1:{forge.port}" ] && echo {TOKEN}\n'
    )
    gh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path('/usr/bin')}:{Path('/bin')}")
    monkeypatch.delenv(NO_GH_ENV)
    engine = github_engine(tmp_path, forge)
    store_ready_task(engine, remote[0], TASK)
    delivery = await engine.open_pull_request(TASK)
    assert delivery.action == "opened"
    assert forge.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    await engine.close()


@pytest.mark.parametrize(
    ("token", "repo", "failure", "needles"),
    [
        (
            "expired",
            "acme/calc",
            None,
            ["rejected the token", "401: Bad credentials", "GH_TOKEN", "gh auth login"],
        ),
        (
            TOKEN,
            "acme/missing",
            None,
            ["found no repository acme/missing at http://127.0.0.1:", "[forge]"],
        ),
        (
            TOKEN,
            "acme/calc",
            (
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "PullRequest", "field": "base", "code": "invalid"}],
                },
            ),
            ["refused opening a pull request (422)", "Validation Failed; base invalid"],
        ),
        (
            TOKEN,
            "acme/calc",
            (
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": "No commits between main and taskyard/aaaa0001",
                        }
                    ],
                },
            ),
            ["No commits between main and taskyard/aaaa0001"],
        ),
        (
            TOKEN,
            "acme/calc",
            (403, {"message": "Resource not accessible by integration"}),
            [
                "refused opening a pull request on acme/calc",
                "403",
                "the token lacks the permission",
            ],
        ),
        (
            TOKEN,
            "acme/calc",
            (502, {"message": "Bad Gateway"}),
            ["answered 502", "try again later"],
        ),
        (
            TOKEN,
            "acme/calc",
            (201, {"hello": "world"}),
            ["its answer is not a pull request: is [forge] api_url the API root?"],
        ),
    ],
)
async def test_forge_errors_are_explained_after_the_push(
    tmp_path: Path,
    forge: FakeForge,
    remote: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    token: str,
    repo: str,
    failure: tuple[int, dict[str, object]] | None,
    needles: list[str],
) -> None:
    monkeypatch.setenv("GH_TOKEN", token)
    if failure is not None:
        forge.failures.append(failure)
    engine = github_engine(tmp_path, forge, repo)
    store_ready_task(engine, remote[0], TASK)
    with pytest.raises(EngineError) as raised:
        await engine.open_pull_request(TASK)
    message = str(raised.value)
    assert message.startswith(f"{BRANCH} is pushed to origin, but ")
    for needle in needles:
        assert needle in message
    assert remote_sha(remote[1], BRANCH) != ""
    assert engine.task(TASK).status == "ready"
    await engine.close()


async def test_an_unreachable_forge_is_explained(
    tmp_path: Path, remote: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    with fake_forge() as gone:
        api_url = gone.github_url
    engine = stored_engine(tmp_path / "home", forge={"api_url": api_url, "repo": "acme/calc"})
    store_ready_task(engine, remote[0], TASK)
    with pytest.raises(EngineError, match=f"cannot reach GitHub at {api_url}: .*api_url"):
        await engine.open_pull_request(TASK)
    await engine.close()


async def test_a_diverged_remote_branch_is_not_overwritten(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    repo, bare = remote
    someone = TaskResult(repo, tmp_path, "other")
    someone.commit({"calc.py": "# theirs\n"}, "theirs")
    git(someone.clone, "push", "-q", str(bare), f"HEAD:refs/heads/{BRANCH}")
    theirs = remote_sha(bare, BRANCH)
    engine = github_engine(tmp_path, forge)
    store_ready_task(engine, repo, TASK)
    with pytest.raises(
        EngineError, match=r"origin rejected the push of taskyard/aaaa0001: .*--delete"
    ):
        await engine.open_pull_request(TASK)
    assert remote_sha(bare, BRANCH) == theirs and forge.requests == []
    await engine.close()


async def test_a_push_refused_by_a_server_hook_is_explained(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path]
) -> None:
    repo, bare = remote
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch names under taskyard/ are reserved' >&2\nexit 1\n")
    hook.chmod(0o755)
    engine = github_engine(tmp_path, forge)
    store_ready_task(engine, repo, TASK)
    with pytest.raises(
        EngineError, match=r"origin refused taskyard/aaaa0001 \(pre-receive hook declined\)"
    ):
        await engine.open_pull_request(TASK)
    assert remote_sha(bare, BRANCH) == ""
    await engine.close()


async def test_refusals_before_any_push(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path]
) -> None:
    repo, bare = remote
    engine = github_engine(tmp_path, forge)
    store_ready_task(engine, repo, "bbbb0002", status="failed")
    store_ready_task(engine, repo, "cccc0003", mode="ask")
    store_ready_task(engine, repo, "dddd0004")
    store_ready_task(engine, repo, "eeee0005", status="running")
    with pytest.raises(EngineError, match="task eeee0005 is still running: wait for it to finish"):
        await engine.open_pull_request("eeee0005")
    with pytest.raises(EngineError, match="task bbbb0002 is failed: only a ready task"):
        await engine.open_pull_request("bbbb0002")
    with pytest.raises(EngineError, match="ask-mode task"):
        await engine.open_pull_request("cccc0003")
    git(repo, "remote", "remove", "origin")
    with pytest.raises(EngineError, match="has no remote 'origin': add it"):
        await engine.open_pull_request("dddd0004")
    assert git(bare, "for-each-ref", "--format=%(refname)") == "refs/heads/main"
    await engine.close()


async def test_the_repository_must_be_named_when_the_remote_url_does_not_say(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path]
) -> None:
    engine = stored_engine(tmp_path / "home", forge={"api_url": forge.github_url})
    store_ready_task(engine, remote[0], TASK)
    with pytest.raises(
        EngineError, match=r'set repo = "owner/name" in the \[forge\] table of .*config.toml'
    ):
        await engine.open_pull_request(TASK)
    await engine.close()


async def test_base_falls_back_to_the_default_branch_when_the_ref_is_not_on_the_remote(
    tmp_path: Path, forge: FakeForge, remote: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    repo, _bare = remote
    git(repo, "branch", "local-only")
    engine = github_engine(tmp_path, forge)
    store_ready_task(engine, repo, TASK, ref="local-only")
    delivery = await engine.open_pull_request(TASK)
    assert forge.requests[0].body["base"] == "main"
    assert delivery.note == "origin has no branch local-only: into its default branch main"
    await engine.close()
