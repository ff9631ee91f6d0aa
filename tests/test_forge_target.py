"""Which forge a remote belongs to, the [forge] config, web addresses, tokens, and the pull
request text."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import ConfigError, ForgeConfig, parse_config
from engine.delivery.forge_target import (
    ForgeSetupError,
    ForgeTarget,
    RemoteAddress,
    find_token,
    forge_target,
    parse_remote_url,
)
from engine.delivery.pr_text import code, pull_request_text, title
from engine.delivery.push import branch_of
from engine.views.task import CommandRecord, TaskRecord

CONFIG_FILE = Path("/cfg/config.toml")


@pytest.mark.parametrize(
    ("url", "host", "path"),
    [
        ("https://github.com/acme/calc.git", "github.com", "acme/calc"),
        ("https://github.com/acme/calc", "github.com", "acme/calc"),
        ("https://user:pw@GitHub.com/acme/calc/", "github.com", "acme/calc"),
        ("git@github.com:acme/calc.git", "github.com", "acme/calc"),
        ("github.com:acme/calc", "github.com", "acme/calc"),
        (
            "ssh://git@gitlab.example.com:2222/group/sub/calc.git",
            "gitlab.example.com",
            "group/sub/calc",
        ),
        ("ssh://git@github.com/acme/calc", "github.com", "acme/calc"),
        ("git://example.org/acme/calc.git", "example.org", "acme/calc"),
    ],
)
def test_remote_urls_give_host_and_repository(url: str, host: str, path: str) -> None:
    assert parse_remote_url(url) == RemoteAddress(host, path)


@pytest.mark.parametrize(
    "url", ["/srv/git/calc.git", "../calc", "file:///srv/git/calc.git", "https://host/calc"]
)
def test_local_and_unnamed_remotes_give_nothing(url: str) -> None:
    assert parse_remote_url(url) is None


def test_kind_and_api_are_inferred_from_the_remote_host() -> None:
    config = ForgeConfig()
    github = forge_target(config, "git@github.com:acme/calc.git", CONFIG_FILE)
    assert github == ForgeTarget("github", "https://api.github.com", "acme/calc")
    assert github.web_url == "https://github.com"
    gitlab = forge_target(config, "https://gitlab.com/group/sub/calc.git", CONFIG_FILE)
    assert gitlab == ForgeTarget("gitlab", "https://gitlab.com/api/v4", "group/sub/calc")
    hosted = forge_target(config, "git@gitlab.example.com:team/calc.git", CONFIG_FILE)
    assert hosted.api_url == "https://gitlab.example.com/api/v4"
    assert hosted.web_url == "https://gitlab.example.com"


def test_config_overrides_each_part() -> None:
    config = ForgeConfig(kind="github", api_url="https://ghe.example.com/api/v3", repo="o/r")
    target = forge_target(config, "git@gitlab.internal:x/y.git", CONFIG_FILE)
    assert target == ForgeTarget("github", "https://ghe.example.com/api/v3", "o/r")
    assert target.repo_url == "https://ghe.example.com/o/r"
    assert target.new_request_url("main", "taskyard/ab12") == (
        "https://ghe.example.com/o/r/compare/main...taskyard/ab12?expand=1"
    )


def test_a_repository_the_remote_does_not_name_must_be_configured() -> None:
    with pytest.raises(ForgeSetupError, match=r'set repo = "owner/name" in the \[forge\] table'):
        forge_target(ForgeConfig(), "/srv/git/calc.git", CONFIG_FILE)
    with pytest.raises(ForgeSetupError, match="is not a GitHub owner/name"):
        forge_target(ForgeConfig(), "https://example.org/a/b/c.git", CONFIG_FILE)


def test_gitlab_addresses() -> None:
    target = ForgeTarget("gitlab", "https://git.example.com/gitlab/api/v4", "g/calc")
    assert target.web_url == "https://git.example.com/gitlab"
    assert target.file_url("abc", "src/a b.py", 3, 5) == (
        "https://git.example.com/gitlab/g/calc/-/blob/abc/src/a%20b.py#L3-5"
    )
    assert target.new_request_url("main", "taskyard/x").startswith(
        "https://git.example.com/gitlab/g/calc/-/merge_requests/new?merge_request%5Bsource_branch%5D="
    )


def test_tokens_come_from_the_environment_by_forge() -> None:
    github = ForgeTarget("github", "https://api.github.com", "a/b")
    gitlab = ForgeTarget("gitlab", "https://gitlab.com/api/v4", "a/b")
    env = {"GITHUB_TOKEN": "gh-2", "GITLAB_TOKEN": "gl", "TASKYARD_NO_GH": "1"}
    assert find_token(github, env) == "gh-2"
    assert find_token(github, {**env, "GH_TOKEN": "gh-1"}) == "gh-1"
    assert find_token(gitlab, env) == "gl"
    assert find_token(gitlab, {"GH_TOKEN": "gh-1"}) == ""
    assert find_token(github, {"TASKYARD_NO_GH": "1", "PATH": "/nonexistent"}) == ""


@pytest.mark.parametrize(
    ("ref", "branch"),
    [
        ("main", "main"),
        ("refs/heads/feature/x", "feature/x"),
        ("origin/main", "main"),
        ("refs/remotes/origin/dev", "dev"),
        ("HEAD", ""),
        (None, ""),
        ("3f2a9c1", ""),
        ("refs/tags/v1", ""),
    ],
)
def test_the_base_branch_a_task_ref_names(ref: str | None, branch: str) -> None:
    assert branch_of(ref, "origin") == branch


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[forge]\nkind = "bitbucket"', "key `forge.kind`"),
        (
            '[forge]\napi_url = "api.github.com"',
            "key `forge.api_url`: api_url = 'api.github.com': use an http(s):// URL",
        ),
        ('[forge]\nrepo = "calc"', "key `forge.repo`: repo = 'calc': write it as \"owner/name\""),
        ('[forge]\nkind = "github"\nrepo = "a/b/c"', 'a GitHub repository is "owner/name"'),
        ('[forge]\nremote = "my remote"', "key `forge.remote`"),
        ('[forge]\ntoken = "x"', "key `forge.token`"),
    ],
)
def test_bad_forge_config_is_one_clear_message(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text, CONFIG_FILE)
    assert str(raised.value).startswith("/cfg/config.toml: ")
    assert needle in str(raised.value)


def test_forge_config_is_normalised() -> None:
    text = (
        '[forge]\nkind = "gitlab"\napi_url = "https://git.example.com/api/v4/"\n'
        'repo = "/group/sub/calc.git"\nremote = "upstream"\n'
    )
    forge = parse_config(text, CONFIG_FILE).forge
    assert forge == ForgeConfig(
        kind="gitlab",
        api_url="https://git.example.com/api/v4",
        repo="group/sub/calc",
        remote="upstream",
    )
    assert parse_config("", CONFIG_FILE).forge == ForgeConfig(remote="origin")


def test_titles_and_code_spans() -> None:
    assert title("\n  Fix the parser  \nmore") == "Fix the parser"
    assert len(title("x" * 200)) == 72 and title("x" * 200).endswith("…")
    assert code("pytest -q") == "`pytest -q`"
    assert code("echo `date`\nls") == "`` echo `date` ⏎ ls ``"


def test_an_unsupported_success_claim_is_a_warning_in_the_body() -> None:
    record = TaskRecord(
        id="t1",
        created=0,
        updated=0,
        prompt="fix it",
        repo="/r",
        ref="main",
        mode="code",
        environment="default",
        image="i",
        status="ready",
        branch="taskyard/t1",
        head_sha="abc",
        final_message="Done: all tests pass.",
    )
    failing = CommandRecord(
        "c1", "t1", "agent", ["bash", "-lc", "pytest -q"], "/w", 0, 1, 2, False, 1, 1, "/l"
    )
    target = ForgeTarget("github", "https://api.github.com", "a/b")
    text = pull_request_text(record, [failing], target, "main")
    assert "❌ `pytest -q` — fail (exit 2)" in text.body
    assert "The last run of a check did not pass." in text.body
    assert (
        '> **Warning:** the answer says "all tests pass" but the last run of `pytest -q`'
        in text.body
    )
    assert (text.head, text.base, text.title) == ("taskyard/t1", "main", "fix it")
