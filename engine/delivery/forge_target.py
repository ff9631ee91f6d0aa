"""Which forge a repository's pull requests go to: kind, API root, owner/name, web address,
and the token to reach it.

The defaults come from the git remote's URL; the config's `[forge]` table overrides each part.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from engine.config import ForgeConfig

ForgeKind = Literal["github", "gitlab"]

GITHUB_API = "https://api.github.com"
GITLAB_API = "https://gitlab.com/api/v4"
TOKEN_VARS: dict[ForgeKind, tuple[str, ...]] = {
    "github": ("GH_TOKEN", "GITHUB_TOKEN"),
    "gitlab": ("GITLAB_TOKEN",),
}
NO_GH_ENV = "TASKYARD_NO_GH"
"""When set to a non-empty value, the token is never asked of the `gh` command."""
GH_TIMEOUT_SECONDS = 15.0
_SCHEME_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")
_SCP_URL = re.compile(r"^(?:[^@/:\s]+@)?(?P<host>[^/:\s]+):(?P<path>(?!//).+)$")


class ForgeSetupError(Exception):
    """The forge cannot be worked out from the remote and the config; the message says what to
    set."""


@dataclass(frozen=True)
class RemoteAddress:
    """A git remote's URL split into its host and repository path."""

    host: str
    """Host name without user or port, e.g. "github.com"."""
    path: str
    """Repository path without a leading slash or `.git`, e.g. "owner/name"."""


@dataclass(frozen=True)
class ForgeTarget:
    """One repository on one forge."""

    kind: ForgeKind
    api_url: str
    """REST API root without a trailing slash."""
    repo: str
    """owner/name (GitLab: group/subgroup/name)."""

    @property
    def label(self) -> str:
        return "GitHub" if self.kind == "github" else "GitLab"

    @property
    def web_url(self) -> str:
        """The forge's web root, derived from the API root."""
        parts = urlsplit(self.api_url)
        host = "github.com" if parts.netloc == "api.github.com" else parts.netloc
        suffix = "/api/v3" if self.kind == "github" else "/api/v4"
        return urlunsplit((parts.scheme, host, parts.path.removesuffix(suffix), "", ""))

    @property
    def repo_url(self) -> str:
        return f"{self.web_url}/{self.repo}"

    def new_request_url(self, base: str, head: str) -> str:
        """Where a person opens the pull (merge) request of `head` into `base` by hand."""
        if self.kind == "github":
            return f"{self.repo_url}/compare/{quote(base)}...{quote(head)}?expand=1"
        query = urlencode(
            {"merge_request[source_branch]": head, "merge_request[target_branch]": base}
        )
        return f"{self.repo_url}/-/merge_requests/new?{query}"

    def file_url(self, sha: str, path: str, start: int, end: int) -> str:
        """The lines start..end of `path` at commit `sha`, on the forge's web pages."""
        lines = f"L{start}" if start == end else f"L{start}-L{end}"
        if self.kind == "gitlab":
            lines = lines.replace("-L", "-")
            return f"{self.repo_url}/-/blob/{sha}/{quote(path)}#{lines}"
        return f"{self.repo_url}/blob/{sha}/{quote(path)}#{lines}"

    @property
    def token_help(self) -> str:
        """How a person gives taskyard a token for this forge."""
        if self.kind == "gitlab":
            return "set GITLAB_TOKEN to a personal access token with the `api` scope"
        return (
            "set GH_TOKEN (or GITHUB_TOKEN) to a token that may write pull requests "
            "(classic tokens: the `repo` scope), or log in with `gh auth login`"
        )


def parse_remote_url(url: str) -> RemoteAddress | None:
    """Host and path of an https, ssh:// or scp-like (user@host:path) remote URL; None for a
    local path or file:// URL."""
    scheme = _SCHEME_URL.match(url)
    if scheme is not None:
        if scheme["scheme"] == "file":
            return None
        parts = urlsplit(url)
        host, path = parts.hostname or "", parts.path
    elif (scp := _SCP_URL.match(url)) is not None:
        host, path = scp["host"], scp["path"]
    else:
        return None
    path = path.strip("/").removesuffix(".git").strip("/")
    if not host or "/" not in path:
        return None
    return RemoteAddress(host.lower(), path)


def forge_target(config: ForgeConfig, remote_url: str, config_file: Path) -> ForgeTarget:
    """The forge of the remote at `remote_url`, with the config's `[forge]` settings applied."""
    address = parse_remote_url(remote_url)
    kind: ForgeKind = config.kind or _inferred_kind(address)
    repo = config.repo or (address.path if address is not None else None)
    if repo is None:
        raise ForgeSetupError(
            f"cannot tell the {kind} repository from remote {config.remote!r} ({remote_url}): "
            f'set repo = "owner/name" in the [forge] table of {config_file}'
        )
    if kind == "github" and repo.count("/") != 1:
        raise ForgeSetupError(
            f"{repo!r} (from remote {config.remote!r}) is not a GitHub owner/name: "
            f'set repo = "owner/name" (or kind = "gitlab") in the [forge] table of {config_file}'
        )
    api_url = config.api_url or _default_api_url(kind, address)
    return ForgeTarget(kind, api_url, repo)


def _inferred_kind(address: RemoteAddress | None) -> ForgeKind:
    return "gitlab" if address is not None and "gitlab" in address.host else "github"


def _default_api_url(kind: ForgeKind, address: RemoteAddress | None) -> str:
    """The public API, or a self-hosted GitLab's own when the remote's host names GitLab."""
    if kind == "github":
        return GITHUB_API
    if address is not None and "gitlab" in address.host and address.host != "gitlab.com":
        return f"https://{address.host}/api/v4"
    return GITLAB_API


def find_token(target: ForgeTarget, env: Mapping[str, str] | None = None) -> str:
    """The token from the environment, else (GitHub) from `gh auth token`; empty when none."""
    env = os.environ if env is None else env
    for name in TOKEN_VARS[target.kind]:
        if token := env.get(name, "").strip():
            return token
    if target.kind == "github" and not env.get(NO_GH_ENV):
        return _gh_token(urlsplit(target.web_url).netloc, env)
    return ""


def _gh_token(host: str, env: Mapping[str, str]) -> str:
    """The token the GitHub CLI holds for host, if gh is installed and logged in."""
    gh = shutil.which("gh", path=env.get("PATH"))
    if gh is None:
        return ""
    try:
        done = subprocess.run(
            [gh, "auth", "token", "--hostname", host],
            capture_output=True,
            text=True,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            timeout=GH_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
