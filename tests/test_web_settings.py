"""The web settings: `web` and `web_fetch_model` from the config files and `--no-web`, with a
project's file able to turn the web tools off, and on again only once trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

from glmcode.config.errors import ConfigError
from glmcode.config.layers import load_settings
from glmcode.config.trust import trust_project
from glmcode.paths import project_config_file, user_config_file


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home")}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / ".git").mkdir(parents=True)
    return root


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_web_tools_are_on_by_default_and_the_flag_turns_them_off(project, env) -> None:
    assert load_settings(project, env).web is True
    settings = load_settings(project, env, {"web": False})
    assert settings.web is False and settings.sources["web"] == "flag --no-web"
    assert settings.web_fetch_model == "glm-4.5-air"


def test_a_project_may_turn_them_off_but_on_only_once_trusted(project, env) -> None:
    _write(project_config_file(project), "web = false\n")
    assert load_settings(project, env).web is False
    _write(user_config_file(env), "web = false\n")
    _write(project_config_file(project), "web = true\n")
    settings = load_settings(project, env)
    assert settings.web is False
    assert "project config turns the web tools on; ignored until you run `glmcode trust`" in settings.warnings
    trust_project(project, env)
    assert load_settings(project, env).web is True


def test_bad_values_are_refused_with_the_line(project, env) -> None:
    _write(user_config_file(env), 'web_fetch_model = "glm-4.5-air"\nweb = "yes"\n')
    with pytest.raises(ConfigError, match="config.toml:2: key 'web': expected true or false"):
        load_settings(project, env)
