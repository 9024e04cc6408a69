"""GitHub Actions, for ``aoai-ft ci``: one pull-request comment kept up to date, and the job's OIDC
token in a file for Azure's workload identity federation.

- **The comment.** The REST API's issue comments (a pull request is an issue): list them, and update
  the one that starts with the review's marker, else create it. Authenticated with the job's
  ``GITHUB_TOKEN`` (permission ``pull-requests: write``); ``GITHUB_API_URL`` names the API (GitHub
  Enterprise Server has its own).
- **Keyless sign-in.** With ``permissions: id-token: write`` a job may ask GitHub for an OIDC token
  (``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``), which Microsoft Entra exchanges for Azure tokens when
  an app registration trusts it (a federated credential). GitHub's tokens live 5 minutes. The Azure
  SDKs' ``DefaultAzureCredential`` (the provider in Python, the Pulumi CLI's ``azblob://`` backend in Go)
  includes ``WorkloadIdentityCredential``, which reads such a token from ``AZURE_FEDERATED_TOKEN_FILE``
  and reads it again when it needs a new Azure token. :class:`FederatedTokenFile` writes a fresh
  token to that file every minute while Pulumi runs, so a training `up` of hours keeps signing in.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Mapping

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

AZURE_AUDIENCE = "api://AzureADTokenExchange"
"""The audience Entra expects in a federated credential's token."""
API_VERSION = "2022-11-28"


class GitHubError(Exception):
    """A GitHub API call that failed: the message names it and GitHub's answer (never the token)."""


def _session(retries: int = 3) -> requests.Session:
    session = requests.Session()
    retry = Retry(total=retries, backoff_factor=1.0, status_forcelist=(429, 500, 502, 503, 504),
                  allowed_methods=frozenset({"GET", "PATCH"}), respect_retry_after_header=True)
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


class PullRequestComments:
    def __init__(self, api_url: str, repository: str, token: str, *, timeout: float = 30.0) -> None:
        if not token:
            raise GitHubError("GITHUB_TOKEN is not set: the workflow passes `${{ github.token }}`")
        if repository.count("/") != 1:
            raise GitHubError(f"GITHUB_REPOSITORY {repository!r}: expected owner/name")
        self.base = f"{api_url.rstrip('/')}/repos/{repository}"
        self.timeout = timeout
        self.session = _session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                                     "X-GitHub-Api-Version": API_VERSION,
                                     "User-Agent": "pulumi-aoai-finetune-ci"})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "PullRequestComments":
        env = os.environ if env is None else env
        return cls(env.get("GITHUB_API_URL") or "https://api.github.com", env.get("GITHUB_REPOSITORY") or "",
                   env.get("GITHUB_TOKEN") or "")

    def _call(self, method: str, url: str, **kwargs) -> requests.Response:
        what = f"{method} {url.removeprefix(self.base) or '/'}"
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise GitHubError(f"GitHub API {what}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            try:
                message = response.json().get("message") or response.text
            except ValueError:
                message = response.text
            raise GitHubError(f"GitHub API {what}: {response.status_code} {str(message)[:300]}")
        return response

    def comments(self, number: int) -> list[dict]:
        out: list[dict] = []
        url: str | None = f"{self.base}/issues/{number}/comments?per_page=100"
        while url:
            response = self._call("GET", url)
            out.extend(response.json())
            url = response.links.get("next", {}).get("url")
        return out

    def upsert(self, number: int, body: str, marker: str) -> tuple[str, dict]:
        """Update the comment whose body starts with ``marker``, or create one. Returns
        (``"updated"`` or ``"created"``, the comment)."""
        mine = [c for c in self.comments(number) if str(c.get("body") or "").startswith(marker)]
        if mine:
            comment = self._call("PATCH", f"{self.base}/issues/comments/{mine[-1]['id']}", json={"body": body}).json()
            return "updated", comment
        return "created", self._call("POST", f"{self.base}/issues/{number}/comments", json={"body": body}).json()


class FederatedTokenFile:
    """GitHub's OIDC token in a file (mode 0600), fetched again every ``interval`` seconds in a
    background thread until :meth:`stop`."""

    def __init__(self, path: str | os.PathLike[str], request_url: str, request_token: str, *,
                 audience: str = AZURE_AUDIENCE, interval: float = 60.0, timeout: float = 20.0) -> None:
        self.path = Path(path)
        self.request_url, self.request_token = request_url, request_token
        self.audience, self.interval, self.timeout = audience, interval, timeout
        self.refreshed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.session = requests.Session()

    @classmethod
    def from_env(cls, directory: str | os.PathLike[str], env: Mapping[str, str] | None = None,
                 **kwargs) -> "FederatedTokenFile | None":
        """One when the job may ask for an OIDC token and names the Azure identity
        (``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID``), unless a token file is given already."""
        env = os.environ if env is None else env
        needed = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "AZURE_CLIENT_ID",
                  "AZURE_TENANT_ID")
        if env.get("AZURE_FEDERATED_TOKEN_FILE") or not all(env.get(k) for k in needed):
            return None
        return cls(Path(directory) / "azure-federated-token", env["ACTIONS_ID_TOKEN_REQUEST_URL"],
                   env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"], **kwargs)

    def fetch(self) -> str:
        sep = "&" if "?" in self.request_url else "?"
        try:
            response = self.session.get(f"{self.request_url}{sep}audience={self.audience}", timeout=self.timeout,
                                        headers={"Authorization": f"Bearer {self.request_token}"})
        except requests.RequestException as exc:
            raise GitHubError(f"requesting the job's OIDC token: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise GitHubError(f"requesting the job's OIDC token: HTTP {response.status_code} "
                              "(does the workflow grant `permissions: id-token: write`?)")
        try:
            value = response.json()["value"]
        except (ValueError, KeyError, TypeError):
            raise GitHubError("requesting the job's OIDC token: no `value` in GitHub's answer") from None
        return str(value)

    def write(self) -> None:
        token = self.fetch()
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token)
        os.replace(tmp, self.path)  # readers see the old token or the new one, never half of one
        self.refreshed += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.write()
            except (GitHubError, OSError) as exc:  # keep the last token; the next round tries again
                print(f"aoai-ft ci: {exc}", file=sys.stderr)

    def start(self) -> "FederatedTokenFile":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.write()
        self._thread = threading.Thread(target=self._loop, name="oidc-token-refresh", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=self.timeout + 5)
        try:
            self.path.unlink()
        except OSError:
            pass

    def env(self) -> dict[str, str]:
        return {"AZURE_FEDERATED_TOKEN_FILE": str(self.path)}

    def __enter__(self) -> "FederatedTokenFile":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def event(env: Mapping[str, str] | None = None) -> dict:
    """The workflow's event payload (``GITHUB_EVENT_PATH``), or {}."""
    env = os.environ if env is None else env
    try:
        return json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    except (KeyError, OSError, ValueError):
        return {}
