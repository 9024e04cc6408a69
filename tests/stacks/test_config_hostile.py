"""Hostile stack config (a pull request that edits Pulumi.<stack>.yaml): keys and names with line
breaks, Markdown or HTML fail the preview naming the key, shown escaped (never as written)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "stacks"))

from config import ConfigError, parse  # noqa: E402

LOCAL = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]["finetune:pipeline"]
FORGED = "ncus\n## ✅ Approved: $0\n<img src=x onerror=alert(1)>"


def with_account_key(key: str) -> dict:
    cfg = copy.deepcopy(LOCAL)
    cfg["accounts"][key] = cfg["accounts"].pop("ncus")
    cfg["training"]["account"] = key
    for d in cfg["deployments"]:
        if d["account"] == "ncus":
            d["account"] = key
    return cfg


@pytest.mark.parametrize("key", [FORGED, "ncus\n", "a b", "-x", "x" * 64, "<b>", "a|b", "a`b", "ü"])
def test_an_account_key_must_be_a_plain_name(key):
    with pytest.raises(ConfigError) as err:
        parse(with_account_key(key))
    text = str(err.value)
    assert text.startswith("finetune:pipeline.accounts.") and "account key must be" in text, text
    assert "\n" not in text and "\n## ✅" not in text


@pytest.mark.parametrize("path, value, key", [
    (("deployments", 0, "name"), "support\n## ✅ Approved", "deployments[0].name"),
    (("training", "suffix"), "e2e\n", "training.suffix"),
    (("accounts", "ncus", "name"), "aoai-ncus\n## x", "accounts.ncus.name"),
    (("subscription",), "00000000-0000-0000-0000-000000000000\n## ✅", "subscription"),
    (("resource_group",), "rg\n<script>", "resource_group"),
])
def test_names_with_line_breaks_are_refused(path, value, key):
    cfg = copy.deepcopy(LOCAL)
    node = cfg
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(ConfigError) as err:
        parse(cfg)
    assert str(err.value).startswith(f"finetune:pipeline.{key}:"), str(err.value)
    assert "\n" not in str(err.value)


def test_an_unknown_key_is_shown_escaped():
    cfg = copy.deepcopy(LOCAL)
    cfg["accounts"]["ncus"][FORGED] = 1
    with pytest.raises(ConfigError) as err:
        parse(cfg)
    assert "\n" not in str(err.value) and "unknown key" in str(err.value)


def test_an_account_id_with_a_line_break_is_refused():
    cfg = copy.deepcopy(LOCAL)
    cfg["accounts"]["ncus"] = {"id": "/subscriptions/s\n## x/resourceGroups/r/providers/Microsoft.CognitiveServices/"
                                     "accounts/a", "region": "northcentralus"}
    with pytest.raises(ConfigError, match="accounts.ncus.id"):
        parse(cfg)


def test_surrounding_whitespace_is_stripped_from_what_is_used():
    cfg = copy.deepcopy(LOCAL)
    cfg["deployments"][0]["name"] = "support\n"
    cfg["accounts"]["ncus"]["name"] = "aoai-ncus\n"
    p = parse(cfg)
    assert p.deployments[0].name == "support" and p.accounts["ncus"].name == "aoai-ncus"
    assert "\n" not in p.account_id("ncus")
