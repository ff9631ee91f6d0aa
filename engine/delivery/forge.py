"""Pull requests through a forge's REST API: GitHub pull requests and GitLab merge requests.

Calls block (urllib): run them in a thread. Every failure is a ForgeError whose message says
what went wrong and what to do, never the raw answer.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from engine.delivery.forge_target import ForgeTarget

REQUEST_TIMEOUT_SECONDS = 30.0
USER_AGENT = "taskyard"
DRAFT_PREFIX = "Draft: "

Answer = TypeVar("Answer")


class ForgeError(Exception):
    """The forge refused or could not be reached; the message says what to do."""


@dataclass(frozen=True)
class PullRequest:
    """A pull (merge) request as the forge reports it."""

    number: int
    """GitHub's number, GitLab's iid."""
    url: str
    """Its web page."""
    state: str
    """open, closed or merged."""


@dataclass(frozen=True)
class PullRequestText:
    """What a pull request says and joins: title, body, head branch into base branch."""

    title: str
    body: str
    head: str
    base: str
    draft: bool = False


class Refused(Exception):
    """The forge answered with an HTTP error status."""

    def __init__(self, status: int, messages: list[str], rate_limited: bool) -> None:
        super().__init__(f"{status}: {'; '.join(messages)}")
        self.status = status
        self.messages = messages
        self.rate_limited = rate_limited

    def mentions(self, text: str) -> bool:
        return any(text in message.lower() for message in self.messages)


def _messages(data: Any) -> list[str]:
    """The human messages in an error body: GitHub's message and errors, GitLab's message or
    error (a string, a list, or a dict of field -> problems)."""
    if isinstance(data, str):
        return [data] if data.strip() else []
    if isinstance(data, list):
        return [text for item in data for text in _messages(item)]
    if not isinstance(data, dict):
        return []
    if "resource" in data or "code" in data:
        if data.get("message"):
            return [str(data["message"])]
        return [f"{data.get('field', data.get('resource', ''))} {data.get('code', '')}".strip()]
    found = _messages(data.get("message")) + _messages(data.get("error"))
    found += _messages(data.get("errors"))
    if found:
        return found
    return [f"{key} {', '.join(_messages(value))}" for key, value in data.items()]


class ForgeApi:
    """JSON over HTTP to one forge's REST API root."""

    def __init__(self, target: ForgeTarget, headers: dict[str, str]) -> None:
        self.target = target
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **headers}

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer; Refused on an HTTP error, ForgeError when unreachable."""
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {**self.headers, **({"Content-Type": "application/json"} if data else {})}
        url = f"{self.target.api_url}{path}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            raise _refused(error) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ForgeError(
                f"cannot reach {self.target.label} at {self.target.api_url}: {reason} "
                "(check [forge] api_url and the network)"
            ) from None
        try:
            return json.loads(body or b"null")
        except ValueError:
            raise ForgeError(
                f"{self.target.label} at {self.target.api_url} answered {method} {path} with "
                "something that is not JSON: is [forge] api_url the API root?"
            ) from None


def _refused(error: urllib.error.HTTPError) -> Refused:
    try:
        messages = _messages(json.loads(error.read() or b"null"))
    except ValueError:
        messages = []
    remaining = error.headers.get("X-RateLimit-Remaining") if error.headers else None
    return Refused(error.code, messages or [str(error.reason)], remaining == "0")


def explain(refused: Refused, target: ForgeTarget, doing: str) -> ForgeError:
    """A ForgeError for a refusal, saying what it means and what to do."""
    said = "; ".join(refused.messages)
    where = f"{target.repo} at {target.api_url}"
    if refused.status == 401:
        return ForgeError(
            f"{target.label} rejected the token while {doing} (401: {said}): it is missing, "
            f"expired or revoked; {target.token_help}"
        )
    if refused.status == 403 or (refused.status == 429 and refused.rate_limited):
        if refused.rate_limited or refused.mentions("rate limit"):
            return ForgeError(f"{target.label} API rate limit reached ({said}): try again later")
        return ForgeError(
            f"{target.label} refused {doing} on {where} (403: {said}): the token lacks the "
            f"permission; {target.token_help}"
        )
    if refused.status == 404:
        return ForgeError(
            f"{target.label} found no repository {where} (404), or the token cannot see it: "
            "check repo and api_url in the config's [forge] table, and the token's access"
        )
    if refused.status in (400, 409, 422):
        return ForgeError(f"{target.label} refused {doing} ({refused.status}): {said}")
    return ForgeError(
        f"{target.label} answered {refused.status} while {doing} ({said}): try again later"
    )


class ForgeClient(ABC):
    """Opens and updates one repository's pull requests."""

    def __init__(self, api: ForgeApi) -> None:
        self.api = api
        self.target = api.target

    def open(self, text: PullRequestText) -> tuple[PullRequest, bool]:
        """Open a pull request, or update the one already open for its head branch; the
        request and whether it is new."""
        try:
            return self._create(text), True
        except Refused as refused:
            if not self._already_exists(refused):
                raise self._explain(refused, "opening a pull request") from None
        existing = self._guarded(lambda: self._find_open(text.head), "finding the pull request")
        if existing is None:
            raise ForgeError(
                f"{self.target.label} says a pull request for {text.head} exists, but none is "
                f"open in {self.target.repo}: look at {self.target.repo_url}"
            )
        return self.update(existing.number, text), False

    def update(self, number: int, text: PullRequestText) -> PullRequest:
        """Give pull request `number` the body of `text`; its title and draft state are left as
        they are, people may have changed them."""
        return self._guarded(lambda: self._update(number, text), f"updating #{number}")

    def _guarded(self, call: Callable[[], Answer], doing: str) -> Answer:
        try:
            return call()
        except Refused as refused:
            raise self._explain(refused, doing) from None

    def _explain(self, refused: Refused, doing: str) -> ForgeError:
        return explain(refused, self.target, doing)

    @abstractmethod
    def _create(self, text: PullRequestText) -> PullRequest: ...

    @abstractmethod
    def _update(self, number: int, text: PullRequestText) -> PullRequest: ...

    @abstractmethod
    def _find_open(self, head: str) -> PullRequest | None: ...

    @abstractmethod
    def _already_exists(self, refused: Refused) -> bool: ...


class GitHubClient(ForgeClient):
    """GitHub's pulls API (github.com and GitHub Enterprise)."""

    def __init__(self, target: ForgeTarget, token: str) -> None:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        super().__init__(ForgeApi(target, headers))
        self.pulls = f"/repos/{target.repo}/pulls"

    def _create(self, text: PullRequestText) -> PullRequest:
        payload = {
            "title": text.title,
            "body": text.body,
            "head": text.head,
            "base": text.base,
            "draft": text.draft,
        }
        return _github_pull(self.api.call("POST", self.pulls, payload))

    def _update(self, number: int, text: PullRequestText) -> PullRequest:
        payload = {"body": text.body}
        return _github_pull(self.api.call("PATCH", f"{self.pulls}/{number}", payload))

    def _find_open(self, head: str) -> PullRequest | None:
        owner = self.target.repo.split("/")[0]
        query = urlencode({"head": f"{owner}:{head}", "state": "open"})
        found = self.api.call("GET", f"{self.pulls}?{query}")
        return _github_pull(found[0]) if isinstance(found, list) and found else None

    def _already_exists(self, refused: Refused) -> bool:
        return refused.status == 422 and refused.mentions("already exists")


def _github_pull(data: Any) -> PullRequest:
    number, url = _checked(data, "number", "html_url")
    state = "merged" if data.get("merged_at") else str(data.get("state", "open"))
    return PullRequest(number, url, state)


def _checked(data: Any, number_key: str, url_key: str) -> tuple[int, str]:
    """The number and web page of the pull request in an answer; ForgeError if it is none."""
    if isinstance(data, dict):
        number, url = data.get(number_key), data.get(url_key)
        if isinstance(number, int) and isinstance(url, str):
            return number, url
    raise ForgeError("its answer is not a pull request: is [forge] api_url the API root?")


class GitLabClient(ForgeClient):
    """GitLab's merge requests API (gitlab.com and self-hosted); drafts by title prefix."""

    def __init__(self, target: ForgeTarget, token: str) -> None:
        super().__init__(ForgeApi(target, {"PRIVATE-TOKEN": token}))
        self.requests = f"/projects/{quote(target.repo, safe='')}/merge_requests"

    def _create(self, text: PullRequestText) -> PullRequest:
        payload = {
            "source_branch": text.head,
            "target_branch": text.base,
            "title": DRAFT_PREFIX + text.title if text.draft else text.title,
            "description": text.body,
        }
        return _gitlab_request(self.api.call("POST", self.requests, payload))

    def _update(self, number: int, text: PullRequestText) -> PullRequest:
        payload = {"description": text.body}
        return _gitlab_request(self.api.call("PUT", f"{self.requests}/{number}", payload))

    def _find_open(self, head: str) -> PullRequest | None:
        query = urlencode({"source_branch": head, "state": "opened"})
        found = self.api.call("GET", f"{self.requests}?{query}")
        return _gitlab_request(found[0]) if isinstance(found, list) and found else None

    def _already_exists(self, refused: Refused) -> bool:
        return refused.status in (409, 422) and refused.mentions("already exists")


def _gitlab_request(data: Any) -> PullRequest:
    number, url = _checked(data, "iid", "web_url")
    state = str(data.get("state", "opened"))
    return PullRequest(number, url, {"opened": "open", "locked": "open"}.get(state, state))


def forge_client(target: ForgeTarget, token: str) -> ForgeClient:
    """The client for the target's kind of forge."""
    if target.kind == "gitlab":
        return GitLabClient(target, token)
    return GitHubClient(target, token)
