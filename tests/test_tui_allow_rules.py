"""Saving an "always for this command" rule into the project's .glmcode/config.toml."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from glmcode.ui.tui.allow_rules import RuleFileError, save_allow_rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RULE = "run_shell:git diff*"


def _load(path: Path) -> dict:
    return tomllib.loads(path.read_text())


def test_creates_the_file_and_folder(tmp_path: Path) -> None:
    cfg = tmp_path / ".glmcode" / "config.toml"
    assert save_allow_rule(cfg, RULE) is True
    assert cfg.read_text() == '[permissions]\nallow = ["run_shell:git diff*"]\n'


def test_appends_a_table_and_keeps_everything_else(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    original = '# my settings\nmodel = "glm-4.5"  # cheaper\n\n[other]\nx = 1\n'
    cfg.write_text(original)
    save_allow_rule(cfg, RULE)
    text = cfg.read_text()
    assert text.startswith(original)
    assert _load(cfg) == {"model": "glm-4.5", "other": {"x": 1}, "permissions": {"allow": [RULE]}}


def test_adds_to_an_existing_multiline_array_with_comments(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[permissions]\nmode = "ask"\nallow = [\n  "run_shell:pytest*",  # tests\n  "read_file",\n  # more later\n]\n'
        'deny = ["run_shell:rm*"]\n\n[x]\nallow = ["not this one"]\n'
    )
    save_allow_rule(cfg, RULE)
    data = _load(cfg)
    assert data["permissions"]["allow"] == ["run_shell:pytest*", "read_file", RULE]
    assert data["permissions"]["deny"] == ["run_shell:rm*"]
    assert data["x"] == {"allow": ["not this one"]}
    text = cfg.read_text()
    assert "# tests" in text and "# more later" in text


def test_empty_array_and_missing_key(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[permissions]\nallow = []\n")
    save_allow_rule(cfg, RULE)
    assert _load(cfg)["permissions"]["allow"] == [RULE]
    cfg.write_text('[permissions]\nmode = "ask"\n')
    save_allow_rule(cfg, RULE)
    assert _load(cfg)["permissions"] == {"mode": "ask", "allow": [RULE]}


def test_a_rule_already_there_is_not_added_twice(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[permissions]\nallow = ["run_shell:git diff*"]\n')
    assert save_allow_rule(cfg, RULE) is False
    assert _load(cfg)["permissions"]["allow"] == [RULE]


def test_strings_with_brackets_and_quotes_are_read_right(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[permissions]\nallow = ['run_shell:echo ]', \"run_shell:say \\\"hi]\\\"\"]\n")
    save_allow_rule(cfg, 'run_shell:printf "%s"*')
    assert _load(cfg)["permissions"]["allow"] == ["run_shell:echo ]", 'run_shell:say "hi]"', 'run_shell:printf "%s"*']


def test_a_broken_file_or_an_unusual_layout_is_left_alone(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("model = \n")
    with pytest.raises(RuleFileError):
        save_allow_rule(cfg, RULE)
    assert cfg.read_text() == "model = \n"
    cfg.write_text('permissions = { allow = ["read_file"] }\n')
    with pytest.raises(RuleFileError, match="yourself"):
        save_allow_rule(cfg, RULE)
    assert cfg.read_text() == 'permissions = { allow = ["read_file"] }\n'


def test_the_file_keeps_its_mode(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('model = "glm-4.6"\n')
    cfg.chmod(0o600)
    save_allow_rule(cfg, RULE)
    assert cfg.stat().st_mode & 0o777 == 0o600
    assert _load(cfg)["permissions"]["allow"] == [RULE]
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]
