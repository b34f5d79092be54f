from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from glmcode.config.display import describe, mask_secret
from glmcode.config.errors import ConfigError, MissingKeyError
from glmcode.config.layers import load_settings
from glmcode.config.settings import Settings, require_api_key
from glmcode.config.trust import is_trusted, trust_project
from glmcode.llm.catalog import PROVIDERS
from glmcode.paths import (
    config_dir,
    find_project_root,
    project_config_file,
    project_key,
    sessions_dir,
    state_dir,
    trust_file,
    user_config_file,
)

KEY = "0123456789abcdef0123456789abcdef.ZyXwVuTsRqPoNmLk"


@pytest.fixture(autouse=True)
def no_real_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything that falls back to the process environment lands in a temporary folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "process-home"))
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "ZAI_API_KEY", "GLMCODE_API_KEY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return {"HOME": str(home)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "work" / "app"
    (root / ".git").mkdir(parents=True)
    (root / "src" / "deep").mkdir(parents=True)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def user_file(env: dict[str, str], text: str) -> Path:
    return write(user_config_file(env), text)


def project_file(root: Path, text: str) -> Path:
    return write(project_config_file(root), text)


def error_of(cwd: Path, env: dict[str, str], flags: dict | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(cwd, env, flags)
    return info.value


# -- paths ------------------------------------------------------------------------------------


def test_paths_default_to_home(home: Path, env: dict[str, str]) -> None:
    assert config_dir(env) == home / ".config" / "glmcode"
    assert state_dir(env) == home / ".local" / "state" / "glmcode"
    assert user_config_file(env) == home / ".config" / "glmcode" / "config.toml"
    assert trust_file(env) == state_dir(env) / "trusted.json"


def test_paths_honour_xdg(tmp_path: Path, home: Path) -> None:
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "XDG_STATE_HOME": str(tmp_path / "st")}
    assert config_dir(env) == tmp_path / "cfg" / "glmcode"
    assert state_dir(env) == tmp_path / "st" / "glmcode"
    # A relative XDG value is invalid by the spec and ignored.
    assert config_dir({"HOME": str(home), "XDG_CONFIG_HOME": "rel"}) == home / ".config" / "glmcode"


def test_user_file_found_through_xdg(tmp_path: Path, home: Path, project: Path) -> None:
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    write(tmp_path / "cfg" / "glmcode" / "config.toml", 'model = "glm-4.5-air"\n')
    write(home / ".config" / "glmcode" / "config.toml", 'model = "glm-4.5"\n')
    settings = load_settings(project, env)
    assert settings.model == "glm-4.5-air"
    assert settings.sources["model"].endswith("cfg/glmcode/config.toml:1")


def test_sessions_dir_is_readable_and_unique(tmp_path: Path, env: dict[str, str]) -> None:
    a, b = tmp_path / "one" / "app", tmp_path / "two" / "app"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    key_a, key_b = project_key(a), project_key(b)
    assert key_a.startswith("app-") and key_b.startswith("app-")
    assert key_a != key_b
    assert project_key(a) == key_a
    assert sessions_dir(env, a) == state_dir(env) / "sessions" / key_a
    assert project_key(tmp_path / "we ird:name").startswith("we-ird-name-")


def test_find_project_root(tmp_path: Path, project: Path) -> None:
    assert find_project_root(project / "src" / "deep") == project
    assert find_project_root(project) == project
    marked = tmp_path / "plain" / "tool"
    (marked / ".glmcode").mkdir(parents=True)
    (marked / "sub").mkdir()
    assert find_project_root(marked / "sub") == marked
    bare = tmp_path / "bare"
    bare.mkdir()
    assert find_project_root(bare) == bare
    worktree = tmp_path / "wt"
    write(worktree / ".git", "gitdir: elsewhere\n")
    assert find_project_root(worktree) == worktree


# -- precedence -------------------------------------------------------------------------------


def test_defaults(project: Path, env: dict[str, str]) -> None:
    settings = load_settings(project, env)
    assert settings.api_key is None
    assert settings.provider == "zai"
    assert settings.base_url == "https://api.z.ai/api/paas/v4"
    assert settings.model == "glm-4.6"
    assert settings.thinking is True and settings.timeout == 300.0
    assert settings.permission_mode == "ask"
    assert settings.allow == settings.deny == settings.add_dirs == ()
    assert settings.project_root == project
    assert settings.sources["model"] == "default"
    assert settings.sources["base_url"] == "provider zai"
    assert settings.warnings == ()


def test_five_layers_later_wins(project: Path, env: dict[str, str]) -> None:
    user = user_file(env, 'model = "m-user"\nmax_tokens = 1000\ntemperature = 0.1\n'
                          'timeout = 60\nthinking = false\n')
    proj = project_file(project, 'model = "m-project"\nmax_tokens = 2000\ntemperature = 0.2\n')
    env = {**env, "GLMCODE_MODEL": "m-env"}
    settings = load_settings(project / "src", env, {"temperature": 0.3, "model": None})
    assert settings.model == "m-env"
    assert settings.sources["model"] == "env GLMCODE_MODEL"
    assert settings.max_tokens == 2000
    assert settings.sources["max_tokens"] == f"{proj}:2"
    assert settings.temperature == 0.3
    assert settings.sources["temperature"] == "flag --temperature"
    assert settings.timeout == 60.0
    assert settings.sources["timeout"] == f"{user}:4"
    assert settings.thinking is False
    assert settings.sources["thinking"] == f"{user}:5"
    flagged = load_settings(project, env, {"model": "m-flag", "max_tokens": 5})
    assert (flagged.model, flagged.sources["model"]) == ("m-flag", "flag --model")
    assert flagged.sources["max_tokens"] == "flag --max-tokens"


def test_env_names(project: Path, env: dict[str, str]) -> None:
    both = {**env, "ZAI_API_KEY": "zai-key-value-1234", "GLMCODE_API_KEY": "glm-key-value-5678"}
    settings = load_settings(project, both)
    assert settings.api_key == "glm-key-value-5678"
    assert settings.sources["api_key"] == "env GLMCODE_API_KEY"
    only_zai = load_settings(project, {**env, "ZAI_API_KEY": "zai-key-value-1234"})
    assert only_zai.api_key == "zai-key-value-1234"
    assert only_zai.sources["api_key"] == "env ZAI_API_KEY"
    # An empty variable counts as unset.
    blank = load_settings(project, {**env, "GLMCODE_API_KEY": "", "ZAI_API_KEY": "zai-key-value-1234"})
    assert blank.sources["api_key"] == "env ZAI_API_KEY"

    urls = load_settings(project, {**env, "ZAI_BASE_URL": "http://127.0.0.1:9/v4/"})
    assert urls.base_url == "http://127.0.0.1:9/v4"
    assert urls.sources["base_url"] == "env ZAI_BASE_URL"
    urls = load_settings(project, {**env, "ZAI_BASE_URL": "http://127.0.0.1:9/a",
                                   "GLMCODE_BASE_URL": "http://127.0.0.1:9/b"})
    assert urls.base_url == "http://127.0.0.1:9/b"

    rest = load_settings(project, {**env, "GLMCODE_PROVIDER": "bigmodel",
                                   "GLMCODE_PERMISSION_MODE": "read-only"})
    assert rest.provider == "bigmodel"
    assert rest.base_url == PROVIDERS["bigmodel"]
    assert rest.permission_mode == "read-only"
    assert rest.sources["permission_mode"] == "env GLMCODE_PERMISSION_MODE"


def test_bad_env_value_names_the_variable(project: Path, env: dict[str, str]) -> None:
    err = error_of(project, {**env, "GLMCODE_PERMISSION_MODE": "yolo"})
    assert str(err).startswith("environment variable GLMCODE_PERMISSION_MODE: ")
    assert "ask" in str(err) and "'yolo'" in str(err)


def test_provider_and_base_url(project: Path, env: dict[str, str]) -> None:
    user_file(env, 'provider = "zai-coding"\n')
    settings = load_settings(project, env)
    assert settings.base_url == "https://api.z.ai/api/coding/paas/v4"
    assert settings.sources["base_url"] == "provider zai-coding"
    # An explicit base_url wins over the provider of the same or an earlier layer...
    user_file(env, 'provider = "zai-coding"\nbase_url = "http://127.0.0.1:8/v4"\n')
    assert load_settings(project, env).base_url == "http://127.0.0.1:8/v4"
    # ...but a provider chosen later (here a flag) brings its own URL.
    flagged = load_settings(project, env, {"provider": "openrouter"})
    assert flagged.base_url == "https://openrouter.ai/api/v1"
    assert flagged.sources["base_url"] == "provider openrouter"


def test_flags_are_validated_and_unknown_names_refused(project: Path, env: dict[str, str]) -> None:
    err = error_of(project, env, {"temperature": 3})
    assert str(err) == "flag --temperature: expected a number between 0 and 1, got 3"
    err = error_of(project, env, {"provider": "zia"})
    assert "did you mean 'zai'" in str(err)
    with pytest.raises(ValueError, match="colour"):
        load_settings(project, env, {"colour": "red"})


def test_lists_gather_across_layers(tmp_path: Path, project: Path, env: dict[str, str]) -> None:
    trust_project(project, env)
    user = user_file(env, '[permissions]\ndeny = ["run_shell:rm -rf*"]\nallow = ["run_shell:ls*"]\n')
    project_file(project, '[permissions]\ndeny = ["run_shell:git push*"]\n'
                          'add_dirs = ["../shared", "~/notes"]\n')
    settings = load_settings(project, env, {"allow": ["run_shell:pytest*"], "add_dirs": ["rel"]})
    assert settings.deny == ("run_shell:rm -rf*", "run_shell:git push*")
    assert settings.allow == ("run_shell:ls*", "run_shell:pytest*")
    assert settings.sources["allow"] == f"{user}:3, flag --allow"
    assert settings.add_dirs == (
        str(project.parent / "shared"),
        str(Path(env["HOME"]) / "notes"),
        str(project / "rel"),
    )
    assert settings.sources["add_dirs"].endswith(":3, flag --add-dir")


# -- errors -----------------------------------------------------------------------------------


def test_invalid_toml_gives_line_and_column(project: Path, env: dict[str, str]) -> None:
    path = user_file(env, 'model = "glm-4.6"\n\ntemperature = = 0.5\n')
    err = error_of(project, env)
    assert (err.path, err.line, err.column) == (path, 3, 15)
    assert str(err).startswith(f"{path}:3:15: invalid TOML at line 3, column 15")
    user_file(env, 'model = "glm-4.6"\nallow = [\n')
    err = error_of(project, env)
    assert err.line == 2 and "invalid TOML" in str(err)


def test_wrong_type_names_line_and_key(project: Path, env: dict[str, str]) -> None:
    path = user_file(env, '# mine\nmodel = "glm-4.6"\ntemperature = "hot"\n')
    err = error_of(project, env)
    assert str(err) == f"{path}:3: key 'temperature': expected a number between 0 and 1, got 'hot'"
    assert (err.line, err.key) == (3, "temperature")


@pytest.mark.parametrize(
    "text, line, key, words",
    [
        ("max_tokens = 0\n", 1, "max_tokens", "above 0"),
        ("max_tokens = 1.5\n", 1, "max_tokens", "whole number"),
        ("thinking = 'yes'\n", 1, "thinking", "true or false"),
        ("timeout = -1\n", 1, "timeout", "above 0"),
        ("temperature = true\n", 1, "temperature", "between 0 and 1"),
        ("provider = 'zai_coding'\n", 1, "provider", "did you mean 'zai-coding'"),
        ("base_url = 'api.z.ai'\n", 1, "base_url", "http"),
        ("model = ''\n", 1, "model", "non-empty"),
        ("\n[permissions]\nmode = 'auto_edit'\n", 3, "permissions.mode", "did you mean 'auto-edit'"),
        ("[permissions]\nallow = 'pytest'\n", 2, "permissions.allow", "list of strings"),
        ("[permissions]\ndeny = ['run_shell:']\n", 2, "permissions.deny", "empty pattern"),
        ("permissions.mode = 'nope'\n", 1, "permissions.mode", "permission mode"),
        ("permissions = 3\n", 1, "permissions", "table"),
    ],
)
def test_validation(project: Path, env: dict[str, str], text: str, line: int, key: str,
                    words: str) -> None:
    path = user_file(env, text)
    err = error_of(project, env)
    assert (err.path, err.line, err.key) == (path, line, key)
    assert words in str(err)
    assert str(err).startswith(f"{path}:{line}: key '{key}': ")


def test_unknown_key_suggests_closest(project: Path, env: dict[str, str]) -> None:
    path = user_file(env, 'model = "glm-4.6"\ntemprature = 0.5\n')
    err = error_of(project, env)
    assert str(err) == f"{path}:2: key 'temprature': unknown setting; did you mean 'temperature'?"
    user_file(env, '[permissions]\nalow = []\n')
    assert "did you mean 'allow'?" in str(error_of(project, env))
    user_file(env, 'mode = "ask"\n')
    assert "belongs under [permissions]" in str(error_of(project, env))
    user_file(env, 'zzz = 1\n')
    assert "known keys:" in str(error_of(project, env))


def test_unreadable_files(project: Path, env: dict[str, str]) -> None:
    path = user_config_file(env)
    path.mkdir(parents=True)
    err = error_of(project, env)
    assert err.path == path and "folder" in str(err)
    path.rmdir()
    path.write_bytes(b'model = "glm-4.6"\nname = "caf\xe9"\n')
    err = error_of(project, env)
    assert err.line == 2 and "UTF-8" in str(err)
    if os.geteuid() != 0:  # root reads anything
        path.write_text('model = "glm-4.6"\n')
        path.chmod(0)
        try:
            assert "permission denied" in str(error_of(project, env))
        finally:
            path.chmod(0o600)


def test_utf8_bom_is_accepted(project: Path, env: dict[str, str]) -> None:
    user_config_file(env).parent.mkdir(parents=True)
    user_config_file(env).write_bytes('\ufeffmodel = "glm-4.5"\n'.encode())
    assert load_settings(project, env).model == "glm-4.5"


def test_api_key_in_project_file_refused(project: Path, env: dict[str, str]) -> None:
    path = project_file(project, 'model = "glm-4.6"\napi_key = "sk-secret-value-1234"\n')
    err = error_of(project, env)
    assert (err.path, err.line, err.key) == (path, 2, "api_key")
    assert "config.toml" in str(err) and "ZAI_API_KEY" in str(err)
    assert "sk-secret" not in str(err)
    path.write_text('model = "glm-4.6"\n')
    user_file(env, f'api_key = "{KEY}"\n')
    assert load_settings(project, env).api_key == KEY


# -- the key ----------------------------------------------------------------------------------


def test_missing_key_message(project: Path, env: dict[str, str]) -> None:
    settings = load_settings(project, env)
    with pytest.raises(MissingKeyError) as info:
        require_api_key(settings, env)
    message = str(info.value)
    assert "ZAI_API_KEY" in message and "GLMCODE_API_KEY" in message
    assert str(user_config_file(env)) in message
    assert 'api_key = "' in message
    assert "zai-coding" in message and "pay-as-you-go" in message and "Coding Plan" in message
    assert isinstance(info.value, ConfigError)
    keyed = replace(settings, api_key=KEY)
    assert require_api_key(keyed, env) == KEY


@pytest.mark.parametrize(("provider", "vendor"), [("openrouter", "OpenRouter"), ("cometapi", "CometAPI")])
def test_missing_key_message_names_the_reseller_key(
    project: Path, env: dict[str, str], provider: str, vendor: str
) -> None:
    settings = load_settings(project, env, {"provider": provider})
    with pytest.raises(MissingKeyError) as info:
        require_api_key(settings, env)
    message = str(info.value)
    assert f"With --provider {provider}, give glmcode your {vendor} key" in message
    assert 'export GLMCODE_API_KEY="your-key"' in message
    # ZAI_API_KEY would be held back from the reseller, so the message must not offer it.
    assert "export ZAI_API_KEY" not in message and "ZAI_API_KEY is set" not in message


@pytest.mark.parametrize("secret", [KEY, "sk-" + "x" * 13 + "f9c2", "short", "", "a" * 15, "b" * 200])
def test_mask_secret_never_shows_the_key(secret: str) -> None:
    shown = mask_secret(secret)
    assert shown != secret or secret == ""
    visible = shown.replace("…", "\n").replace("*", "\n").split("\n")
    assert all(len(part) <= 4 for part in visible)
    if len(secret) >= 16:
        assert shown == f"{secret[:3]}…{secret[-4:]}"
    else:
        assert shown == "****"


def test_settings_repr_hides_the_key(project: Path, env: dict[str, str]) -> None:
    settings = load_settings(project, {**env, "ZAI_API_KEY": KEY})
    assert KEY not in repr(settings)


def test_describe(project: Path, env: dict[str, str]) -> None:
    settings = load_settings(project, {**env, "ZAI_API_KEY": KEY}, {"permission_mode": "auto-edit"})
    rows = {key: (value, source) for key, value, source in describe(settings)}
    assert rows["api_key"] == (mask_secret(KEY), "env ZAI_API_KEY")
    assert rows["permission_mode"] == ("auto-edit", "flag --permission-mode")
    assert rows["model"] == ("glm-4.6", "default")
    assert rows["thinking"][0] == "true"
    assert rows["timeout"] == ("300", "default")
    assert rows["allow"] == ("(none)", "default")
    assert rows["project_root"][0] == str(project)
    assert all(KEY not in value for value, _ in rows.values())
    empty = {k: v for k, v, _ in describe(load_settings(project, env))}
    assert empty["api_key"] == "(not set)"


# -- trust ------------------------------------------------------------------------------------

WIDENING = (
    '[permissions]\nmode = "full-auto"\nallow = ["run_shell:make*"]\n'
    'add_dirs = ["../lib"]\ndeny = ["run_shell:git push*"]\n'
)


def test_untrusted_project_cannot_widen(project: Path, env: dict[str, str]) -> None:
    user_file(env, '[permissions]\nmode = "auto-edit"\nallow = ["run_shell:ls*"]\n')
    project_file(project, WIDENING)
    settings = load_settings(project, env)
    assert settings.permission_mode == "auto-edit"
    assert settings.allow == ("run_shell:ls*",)
    assert settings.add_dirs == ()
    assert settings.deny == ("run_shell:git push*",)  # narrowing always applies
    assert "config.toml:2" in settings.sources["permission_mode"]
    assert str(user_config_file(env)) in settings.sources["permission_mode"]
    text = "\n".join(settings.warnings)
    assert "project config asks for mode full-auto; ignored until you run `glmcode trust`" in text
    assert "run_shell:make*" in text and "../lib" not in text and "lib" in text


def test_untrusted_project_can_narrow(project: Path, env: dict[str, str]) -> None:
    user_file(env, '[permissions]\nmode = "auto-edit"\n')
    path = project_file(project, '[permissions]\nmode = "read-only"\n')
    settings = load_settings(project, env)
    assert settings.permission_mode == "read-only"
    assert settings.sources["permission_mode"] == f"{path}:2"
    assert settings.warnings == ()


def test_untrusted_project_cannot_widen_from_default(project: Path, env: dict[str, str]) -> None:
    project_file(project, '[permissions]\nmode = "auto-edit"\n')
    settings = load_settings(project, env)
    assert settings.permission_mode == "ask"
    assert len(settings.warnings) == 1


def test_untrusted_project_cannot_redirect_the_key(project: Path, env: dict[str, str]) -> None:
    project_file(project, 'base_url = "http://127.0.0.1:1/steal"\n')
    settings = load_settings(project, {**env, "ZAI_API_KEY": KEY})
    assert settings.base_url == PROVIDERS["zai"]
    assert "base_url" in settings.warnings[0]
    project_file(project, f'base_url = "{PROVIDERS["zai-coding"]}"\n')  # a known endpoint is fine
    assert load_settings(project, env).base_url == PROVIDERS["zai-coding"]


@pytest.mark.parametrize("line", ['provider = "cometapi"\n', 'provider = "openrouter"\n', f'base_url = "{PROVIDERS["cometapi"]}"\n'])
def test_untrusted_project_cannot_send_the_key_to_a_reseller(project: Path, env: dict[str, str], line: str) -> None:
    project_file(project, line)
    settings = load_settings(project, {**env, "ZAI_API_KEY": KEY})
    assert settings.provider == "zai" and settings.base_url == PROVIDERS["zai"]
    assert "ignored until you run `glmcode trust`" in settings.warnings[0]
    trust_project(project, env)
    assert load_settings(project, env).base_url != PROVIDERS["zai"]


def test_a_zai_key_never_goes_to_a_reseller(project: Path, env: dict[str, str]) -> None:
    zai = {**env, "ZAI_API_KEY": KEY}
    assert load_settings(project, zai).api_key == KEY
    resold = load_settings(project, zai, {"provider": "cometapi"})
    assert resold.api_key is None
    with pytest.raises(MissingKeyError, match="ZAI_API_KEY is set, but glmcode never sends it to CometAPI"):
        require_api_key(resold, zai)
    own = load_settings(project, {**zai, "GLMCODE_API_KEY": "sk-comet"}, {"provider": "cometapi"})
    assert own.api_key == "sk-comet" and own.sources["api_key"] == "env GLMCODE_API_KEY"
    user_file(env, 'api_key = "sk-from-file"\n')
    assert load_settings(project, zai, {"provider": "cometapi"}).api_key == "sk-from-file"


def test_trusted_project_can_widen(project: Path, env: dict[str, str]) -> None:
    project_file(project, WIDENING)
    assert not is_trusted(project, env)
    trust_project(project, env)
    assert is_trusted(project, env)
    assert not is_trusted(project.parent, env)
    settings = load_settings(project / "src", env)
    assert settings.permission_mode == "full-auto"
    assert settings.allow == ("run_shell:make*",)
    assert settings.add_dirs == (str(project.parent / "lib"),)
    assert settings.warnings == ()


def test_trust_file_is_kept_and_shared(tmp_path: Path, project: Path, env: dict[str, str]) -> None:
    other = tmp_path / "other"
    other.mkdir()
    trust_project(project, env)
    trust_project(other, env)
    trust_project(project, env)  # once is enough
    data = json.loads(trust_file(env).read_text())
    assert data == {"trusted": [str(project), str(other)]}
    assert [p.name for p in trust_file(env).parent.iterdir()] == ["trusted.json"]
    assert trust_file(env).stat().st_mode & 0o777 == 0o600
    link = tmp_path / "link"
    link.symlink_to(project)
    assert is_trusted(link, env)


def test_corrupt_trust_file_is_an_error(project: Path, env: dict[str, str]) -> None:
    write(trust_file(env), "{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        is_trusted(project, env)
    write(trust_file(env), '{"trusted": "everything"}')
    with pytest.raises(ConfigError, match="fix or delete"):
        trust_project(project, env)


def test_settings_need_project_root_only() -> None:
    settings = Settings(project_root=Path("/x"))
    assert settings.model == "glm-4.6" and settings.sources == {}


def test_a_start_reads_and_parses_each_config_file_once(project: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The settings layers, the MCP servers and the hooks all look in the same two files.
    from glmcode.config import files
    from glmcode.ui.startup import start

    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ZAI_API_KEY", KEY)
    user = user_file({"HOME": str(home)}, 'model = "glm-4.6"\n[mcp_servers.calc]\ncommand = "true"\n'
                     '[[hooks.pre_tool_use]]\ncommand = "true"\n')
    reads: list[Path] = []
    parses: list[Path] = []
    real_read, real_parse = files.read_text, files._parse_toml
    monkeypatch.setattr(files, "read_text", lambda p: reads.append(p) or real_read(p))
    monkeypatch.setattr(files, "_parse_toml", lambda p, t: parses.append(p) or real_parse(p, t))
    run = start({}, str(project))
    assert [s.name for s in run.settings.mcp_servers] == ["calc"]
    assert run.hooks is not None and [h.command for h in run.hooks.hooks] == ["true"]
    assert reads.count(user) == 1 and parses.count(user) == 1
    assert reads.count(project_config_file(project)) == 1
