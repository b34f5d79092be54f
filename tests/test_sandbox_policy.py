"""The sandbox's parts that need no namespace: the policy, bubblewrap's arguments, the macOS
profile, detection, the settings that choose it and the limits."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from glmcode.config.errors import ConfigError
from glmcode.config.layers import load_settings
from glmcode.config.trust import trust_project
from glmcode.sandbox.bwrap import bwrap_argv
from glmcode.sandbox.choose import choose_sandbox
from glmcode.sandbox.limits import limits_from
from glmcode.sandbox.detect import detect
from glmcode.sandbox.limits import MB, Limits, with_nproc
from glmcode.tools.base import ToolContext
from glmcode.sandbox.policy import build_policy
from glmcode.sandbox.refusals import sandbox_refusal
from glmcode.sandbox.seatbelt import seatbelt_profile


def _pairs(args: list[str], option: str) -> list[tuple[str, str]]:
    return [(args[i + 1], args[i + 2]) for i, a in enumerate(args) if a == option]


def test_bwrap_arguments_follow_the_policy(git_repo: Path, isolated_home: Path, tmp_path: Path) -> None:
    (isolated_home / ".ssh").mkdir()
    (isolated_home / ".netrc").write_text("x")
    extra = tmp_path / "extra"
    extra.mkdir()
    policy = build_policy("workspace-write", False, git_repo, (extra,))
    args = bwrap_argv("/usr/bin/bwrap", policy, git_repo, ["bash", "-c", "true"])
    assert args[:4] == ["/usr/bin/bwrap", "--ro-bind", "/", "/"]
    assert args[-4:] == ["--", "bash", "-c", "true"]
    binds = _pairs(args, "--bind")
    assert (str(git_repo), str(git_repo)) in binds and (str(extra), str(extra)) in binds
    read_only = [a for a, _ in _pairs(args, "--ro-bind")]
    assert str(git_repo / ".git" / "hooks") in read_only and str(git_repo / ".git" / "config") in read_only
    # Later mounts win: the protected paths come after the writable binds, secrets last.
    assert args.index(str(git_repo / ".git" / "hooks")) > args.index("--bind")
    assert ("--tmpfs", str(isolated_home / ".ssh")) in zip(args, args[1:])
    assert ("/dev/null", str(isolated_home / ".netrc")) in _pairs(args, "--ro-bind")
    assert "--unshare-net" in args and "--unshare-pid" in args and "--die-with-parent" in args
    # A missing .glmcode/ is covered by an empty read-only folder, so nothing can be planted.
    assert ("--tmpfs", str(git_repo / ".glmcode")) in zip(args, args[1:])
    networked = bwrap_argv("bwrap", build_policy("workspace-write", True, git_repo), git_repo, ["true"])
    assert "--unshare-net" not in networked
    read_only_args = bwrap_argv("bwrap", build_policy("read-only", False, git_repo), git_repo, ["true"])
    assert "--bind" not in read_only_args
    assert (str(git_repo), str(git_repo)) in _pairs(read_only_args, "--ro-bind")


def test_a_worktree_can_commit_but_not_plant_in_the_main_repository(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "a").write_text("a")
    subprocess.run(["git", "add", "a"], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "a"], cwd=git_repo, check=True)
    tree = tmp_path / "tree"
    subprocess.run(["git", "worktree", "add", "-q", str(tree)], cwd=git_repo, check=True)
    policy = build_policy("workspace-write", False, tree)
    common = (git_repo / ".git").resolve()
    assert common in policy.writable
    assert common / "hooks" in policy.protected and common / "config" in policy.protected


def test_a_secret_folder_holding_the_workspace_is_not_hidden(isolated_home: Path) -> None:
    state = isolated_home / ".local" / "state" / "glmcode" / "work"
    state.mkdir(parents=True)
    policy = build_policy("workspace-write", False, state)
    assert not any(state.is_relative_to(h) for h in policy.hidden)
    assert isolated_home / ".ssh" in policy.hidden


def test_the_macos_profile_says_the_same(git_repo: Path, isolated_home: Path, tmp_path: Path) -> None:
    (isolated_home / ".ssh").mkdir()
    profile = seatbelt_profile(build_policy("workspace-write", False, git_repo), tmp_path)
    lines = profile.splitlines()
    assert lines[:2] == ["(version 1)", "(deny default)"]
    assert "(allow file-read*)" in lines
    write = next(line for line in lines if line.startswith("(allow file-write* (subpath"))
    assert f'(subpath "{git_repo}")' in write and f'(subpath "{tmp_path}")' in write
    protected = next(line for line in lines if line.startswith("(deny file-write*"))
    assert f'(subpath "{git_repo}/.git/hooks")' in protected
    assert f'(literal "{git_repo}/.git/config")' in protected
    assert f'(subpath "{git_repo}/.glmcode")' in protected
    hidden = next(line for line in lines if line.startswith("(deny file-read* file-write*"))
    assert f'(subpath "{isolated_home}/.ssh")' in hidden
    # Later rules win in the profile language: the denials come after the allowances.
    assert lines.index(protected) > lines.index(write) and lines.index(hidden) > lines.index(write)
    assert lines[-1] == "(allow network* (remote unix-socket))"
    online = seatbelt_profile(build_policy("workspace-write", True, git_repo), tmp_path)
    assert online.splitlines()[-1] == "(allow network*)"
    odd = tmp_path / 'a "b"'
    odd.mkdir()
    assert f'(subpath "{tmp_path}/a \\"b\\"")' in seatbelt_profile(build_policy("workspace-write", False, odd), tmp_path)
    read_only = seatbelt_profile(build_policy("read-only", False, git_repo), tmp_path)
    assert f'(subpath "{git_repo}")' not in read_only


def test_without_bwrap_there_is_no_sandbox_and_the_user_is_told_once(tmp_path: Path) -> None:
    found = detect({"PATH": str(tmp_path)}, platform="linux")
    assert found.tool is None and "bwrap was not found" in found.reason and "apt-get install bubblewrap" in found.reason
    choice = choose_sandbox("workspace-write", False, tmp_path, env={"PATH": str(tmp_path)})
    assert choice.sandbox is None and choice.state == "unavailable"
    assert choice.notice is not None and "asks first" in choice.notice
    off = choose_sandbox("off", False, tmp_path)
    assert off.sandbox is None and off.state == "off" and off.notice is None


def test_a_bwrap_that_cannot_make_namespaces_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    found = detect({"PATH": str(tmp_path)}, platform="linux")
    assert found.tool is None
    assert "No permissions to create new namespace" in found.reason
    assert detect(platform="sunos5").reason == "glmcode has no sandbox for sunos5"


def test_sandbox_settings_from_every_layer(tmp_path: Path, isolated_home: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert (settings.sandbox, settings.sandbox_network) == ("workspace-write", False)
    config = isolated_home / ".config" / "glmcode"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(
        'sandbox = "read-only"\nsandbox_network = true\ncommand_timeout = 30\ncommand_max_processes = 64\n')
    settings = load_settings(tmp_path, {})
    assert (settings.sandbox, settings.sandbox_network, settings.command_timeout) == ("read-only", True, 30.0)
    assert load_settings(tmp_path, {"GLMCODE_SANDBOX": "off"}).sandbox == "off"
    flagged = load_settings(tmp_path, {}, {"sandbox": "workspace-write"})
    assert flagged.sandbox == "workspace-write" and flagged.sources["sandbox"] == "flag --sandbox"
    with pytest.raises(ConfigError, match="expected a sandbox mode.*did you mean 'read-only'"):
        load_settings(tmp_path, {}, {"sandbox": "readonly"})
    limits = limits_from(900, 2, 10)
    assert (limits.timeout, limits.max_timeout, limits.max_output, limits.max_processes) == (900, 900, 2 * MB, 10)


def test_a_project_may_tighten_the_sandbox_but_loosen_it_only_once_trusted(tmp_path: Path) -> None:
    (tmp_path / ".glmcode").mkdir()
    project = tmp_path / ".glmcode" / "config.toml"
    project.write_text('sandbox = "off"\nsandbox_network = true\ncommand_max_processes = 100000\n')
    settings = load_settings(tmp_path, {})
    assert (settings.sandbox, settings.sandbox_network, settings.command_max_processes) == ("workspace-write", False, 512)
    assert any("sandbox = off" in w and "glmcode trust" in w for w in settings.warnings)
    trust_project(tmp_path)
    trusted = load_settings(tmp_path, {})
    assert (trusted.sandbox, trusted.sandbox_network, trusted.command_max_processes) == ("off", True, 100000)
    (tmp_path / "other").mkdir()
    project.write_text('sandbox = "read-only"\ncommand_max_processes = 50\n')
    tightened = load_settings(tmp_path, {})
    assert (tightened.sandbox, tightened.command_max_processes) == ("read-only", 50)


def test_refusals_are_recognised_only_where_the_sandbox_could_cause_them(tmp_path: Path) -> None:
    offline = build_policy("workspace-write", False, tmp_path)
    online = build_policy("workspace-write", True, tmp_path)
    assert "write was refused" in (sandbox_refusal("touch: cannot touch '/x': Read-only file system", offline) or "")
    assert "network" in (sandbox_refusal("curl: (6) Could not resolve host: example.com", offline) or "")
    assert sandbox_refusal("curl: (6) Could not resolve host: example.com", online) is None
    assert sandbox_refusal("AssertionError: 2 != 3", offline) is None


def test_the_process_limit_outside_the_sandbox_starts_from_what_the_user_runs() -> None:
    argv = with_nproc(["true"], 10, own_namespace=False)
    if os.geteuid() == 0:
        assert argv == ["true"]  # root is bounded by a pids cgroup instead
    else:
        limit = int(argv[1].split("=")[1]) if argv[0].endswith("prlimit") else int(argv[4])
        assert limit > 10


def test_a_bwrap_that_fails_at_run_time_says_the_command_did_not_run(tmp_path: Path) -> None:
    from glmcode.sandbox.launch import Sandbox
    from tests.sandbox_support import shell

    broken = tmp_path / "bwrap"
    broken.write_text("#!/bin/sh\necho 'bwrap: Creating new namespace failed: Operation not permitted' >&2\nexit 1\n")
    broken.chmod(0o755)
    ctx = ToolContext(tmp_path, sandbox=Sandbox(build_policy("workspace-write", False, tmp_path), "bwrap", str(broken)))
    result = shell(ctx, "touch made")
    assert result.is_error and not (tmp_path / "made").exists()
    assert "The sandbox could not start (bwrap: Creating new namespace failed" in result.for_model
    assert result.data is not None and result.data["sandbox_refusal"].startswith("it could not start")


def test_limits_bind_unsandboxed_commands_too(tmp_path: Path) -> None:
    from tests.sandbox_support import shell

    ctx = ToolContext(tmp_path, limits=Limits(max_output=MB, max_processes=30, timeout=20))
    endless = shell(ctx, "yes")
    assert endless.is_error and "printed more than 1 MB" in endless.output
    forks = shell(ctx, """python3 -c '
import os, time
n = 0
for _ in range(100):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
print("forked", n, flush=True)
os.killpg(0, 9)
'""")
    forked = int(forks.output.split("forked ", 1)[1].split()[0])
    if os.geteuid() == 0 and forked == 100:
        pytest.skip("root, and no pids cgroup can be made here: root's commands have no process limit")
    assert forked < 30


def test_a_setuid_bubblewrap_counts_processes_as_outside_the_sandbox(tmp_path: Path) -> None:
    import stat

    probe_passes = tmp_path / "bwrap"
    probe_passes.write_text("#!/bin/sh\nexit 0\n")
    probe_passes.chmod(0o755)
    plain = choose_sandbox("workspace-write", False, tmp_path, env={"PATH": str(tmp_path)})
    assert plain.sandbox is not None and plain.sandbox.own_user_namespace
    probe_passes.chmod(0o755 | stat.S_ISUID)
    setuid = choose_sandbox("workspace-write", False, tmp_path, env={"PATH": str(tmp_path)})
    assert setuid.sandbox is not None and not setuid.sandbox.own_user_namespace
