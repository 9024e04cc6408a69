"""github.py against a loopback stand-in of GitHub's API (tests/conftest.py: github_api): the review
comment created once and then updated, across pages of comments; errors that name the call and never
the token; the job's OIDC token kept fresh in a file for WorkloadIdentityCredential."""

from __future__ import annotations

import os
import stat
import time

import pytest

from pulumi_aoai_finetune import github

MARKER = "<!-- marker -->"


def client(fake, token=None) -> github.PullRequestComments:
    return github.PullRequestComments(fake.url, "contoso/finetune", token or fake.TOKEN)


def test_the_comment_is_created_once_then_updated_across_pages(github_api):
    for i in range(150):  # two pages of 100: the bot's comment is on the second
        github_api.add(7, f"comment {i}")
    prs = client(github_api)
    what, first = prs.upsert(7, MARKER + "\nfirst", MARKER)
    assert what == "created" and first["body"].endswith("first")
    what, second = prs.upsert(7, MARKER + "\nsecond", MARKER)
    assert what == "updated" and second["id"] == first["id"]
    bodies = [c["body"] for c in github_api.comments[7]]
    assert len(bodies) == 151 and bodies[-1] == MARKER + "\nsecond"
    assert ("GET", "/repos/contoso/finetune/issues/7/comments") in github_api.calls
    assert [m for m, _ in github_api.calls].count("GET") == 4  # 2 pages, twice
    # a human's comment quoting the marker later in its text is not taken for ours
    github_api.add(8, "see the bot's comment " + MARKER)
    assert prs.upsert(8, MARKER + "\nx", MARKER)[0] == "created"


def test_errors_name_the_call_and_not_the_token(github_api):
    with pytest.raises(github.GitHubError) as err:
        client(github_api, token="ghs_wrong-token-value").upsert(7, "x", MARKER)
    assert "GitHub API GET /issues/7/comments?per_page=100: 401 Bad credentials" in str(err.value)
    assert "ghs_wrong-token-value" not in str(err.value)
    with pytest.raises(github.GitHubError, match="GITHUB_TOKEN is not set"):
        github.PullRequestComments.from_env({"GITHUB_REPOSITORY": "contoso/finetune"})


def test_the_oidc_token_file_is_refreshed_until_stopped(github_api, tmp_path):
    env = {"ACTIONS_ID_TOKEN_REQUEST_URL": github_api.token_url(), "ACTIONS_ID_TOKEN_REQUEST_TOKEN":
           github_api.REQUEST_TOKEN, "AZURE_CLIENT_ID": "00000000-0000-0000-0000-0000000000c1",
           "AZURE_TENANT_ID": "00000000-0000-0000-0000-0000000000a1"}
    token_file = github.FederatedTokenFile.from_env(tmp_path, env, interval=0.1)
    with token_file:
        path = token_file.path
        assert token_file.env() == {"AZURE_FEDERATED_TOKEN_FILE": str(path)}
        assert path.read_text() == "oidc-token-1-for-api://AzureADTokenExchange"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        deadline = time.monotonic() + 30
        while token_file.refreshed < 3:
            assert time.monotonic() < deadline, "the token was not refreshed"
            time.sleep(0.05)
        assert path.read_text().startswith("oidc-token-")
        assert path.read_text() != "oidc-token-1-for-api://AzureADTokenExchange"
    assert not path.exists()  # removed when Pulumi is done
    # without the job's permission (or the Azure identity), nothing is set up
    assert github.FederatedTokenFile.from_env(tmp_path, {**env, "AZURE_CLIENT_ID": ""}) is None
    assert github.FederatedTokenFile.from_env(tmp_path, {**env, "AZURE_FEDERATED_TOKEN_FILE": "/x"}) is None
    bad = github.FederatedTokenFile.from_env(tmp_path, {**env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "wrong"})
    with pytest.raises(github.GitHubError, match="HTTP 401 .*id-token: write"):
        bad.start()
