"""The parts of hooks and notifications on their own: reading `[[hooks.EVENT]]`, what the
answers of several hooks add up to, and when the terminal is rung."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from conftest import run_glmcode
from glmcode.config.errors import ConfigError
from glmcode.config.trust import trust_project
from glmcode.events import ApprovalNeeded, HookRan, Notice, TextDelta
from glmcode.hooks.config import HookConfig, HookSpec, load_hooks
from glmcode.hooks.engine import Hooks
from glmcode.ui.tui.notify import NOTIFY_AFTER_S, Notifier


def _user_file(home: Path, text: str) -> None:
    path = home / ".config" / "glmcode" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_hooks_are_read_in_order_with_where_each_comes_from(tmp_path: Path, isolated_home: Path) -> None:
    _user_file(isolated_home, 'model = "glm-4.6"\n[[hooks.stop]]\ncommand = "echo a"\n\n[[hooks.pre_tool_use]]\nmatcher = "run_shell"\ncommand = "echo b"\ntimeout_s = 2.5\n')
    project = tmp_path / "p"
    (project / ".glmcode").mkdir(parents=True)
    (project / ".glmcode" / "config.toml").write_text('[[hooks.pre_tool_use]]\ncommand = "echo c"\n')
    config = load_hooks(project)
    assert [h.command for h in config.hooks] == ["echo a", "echo b"]
    assert config.ignored == (
        "project hook pre_tool_use (echo c) at .glmcode/config.toml:1 is ignored until you run `glmcode trust`",
    )
    stop, pre = config.hooks
    assert stop.source == "~/.config/glmcode/config.toml:2" and stop.timeout_s == 60
    assert pre.source.endswith("config.toml:5") and pre.timeout_s == 2.5 and pre.scope == "user"
    assert [h.command for h in config.for_event("pre_tool_use", "run_shell")] == ["echo b"]
    assert config.for_event("pre_tool_use", "write_file") == ()
    trust_project(project)
    trusted = load_hooks(project)
    assert [h.command for h in trusted.for_event("pre_tool_use", "write_file")] == ["echo c"]
    assert trusted.ignored == ()


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[[hooks.stop]]\ncommand = ""\n', "needs a command"),
        ('[[hooks.stop]]\ncommand = "x"\nmatcher = "a"\n', "matcher applies only to pre_tool_use and post_tool_use"),
        ('[[hooks.stop]]\ncommand = "x"\ntimeout_s = 0\n', "timeout_s must be a number of seconds above 0"),
        ('[[hooks.stop]]\ncommand = "x"\ntimout_s = 3\n', "unknown key 'timout_s'"),
        ('[hooks]\nstop = "x"\n', "expected [[hooks.stop]] tables"),
        ('hooks = 1\n', "expected tables like [[hooks.pre_tool_use]]"),
    ],
)
def test_a_hook_glmcode_cannot_use_is_an_error_with_its_line(tmp_path: Path, isolated_home: Path, toml: str, says: str) -> None:
    _user_file(isolated_home, toml)
    with pytest.raises(ConfigError) as caught:
        load_hooks(tmp_path)
    assert says in str(caught.value)


def _hooks(tmp_path: Path, *scripts: str, event: str = "pre_tool_use") -> Hooks:
    toml = ""
    for n, body in enumerate(scripts):
        path = tmp_path / f"hook{n}.py"
        path.write_text("import json, sys\nevent = json.load(sys.stdin)\n" + body)
        toml += f'[[hooks.{event}]]\ncommand = {json.dumps(f"{sys.executable} {path}")}\n'
    home = tmp_path / "home"
    _user_file(home, toml)
    config = load_hooks(tmp_path, {"XDG_CONFIG_HOME": str(home / ".config"), "HOME": str(home)})
    return Hooks(config, tmp_path, tmp_path, "s1")


def _drain(gen):  # type: ignore[no-untyped-def]
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return events, stop.value


def test_deny_wins_over_ask_and_ask_over_allow(tmp_path: Path) -> None:
    allow = 'print(json.dumps({"decision": "allow"}))\n'
    ask = 'print(json.dumps({"decision": "ask", "reason": "check it"}))\n'
    deny = 'print(json.dumps({"decision": "deny", "reason": "no"}))\n'
    _, verdict = _drain(_hooks(tmp_path, allow, ask, allow).pre_tool_use("run_shell", {"command": "ls"}))
    assert (verdict.decision, verdict.reason) == ("ask", "check it")
    events, verdict = _drain(_hooks(tmp_path, ask, deny, allow).pre_tool_use("run_shell", {}))
    assert verdict.decision == "deny"
    assert [e.outcome for e in events if isinstance(e, HookRan)] == ["ask", "deny"]  # the third never ran
    _, verdict = _drain(_hooks(tmp_path, "print('plain text is no decision')\n").pre_tool_use("x", {}))
    assert verdict.decision is None


def test_an_answer_that_is_no_decision_is_a_warning(tmp_path: Path) -> None:
    events, verdict = _drain(_hooks(tmp_path, 'print(\'{"decision": "maybe"}\')\n', "print('{oops')\n").pre_tool_use("x", {}))
    assert verdict.decision is None
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert "answered decision 'maybe'; expected one of allow, deny, ask" in notices[0]
    assert "printed JSON that does not parse" in notices[1]


def test_a_command_that_is_not_there_is_a_warning(tmp_path: Path) -> None:
    missing = HookSpec("stop", "/no/such/program", None, 5.0, "here:1", "user")
    events = list(Hooks(HookConfig((missing,)), tmp_path, tmp_path, "s1").stop("done", ""))
    ran = next(e for e in events if isinstance(e, HookRan))
    assert ran.outcome == "failed" and ran.exit_code == 127 and ran.source == "here:1"
    assert any(isinstance(e, Notice) and "exited with code 127" in e.message for e in events)


def test_session_start_context_comes_once_before_the_prompts_own(tmp_path: Path) -> None:
    hooks = _hooks(tmp_path, "print('from ' + event['event'])\n", event="session_start")
    _, first = _drain(hooks.prompt_submit("one"))
    _, second = _drain(hooks.prompt_submit("two"))
    assert first.context == ("from session_start",) and second.context == ()
    hooks.restart("s2", resumed=True)
    _, again = _drain(hooks.prompt_submit("three"))
    assert again.context == ("from session_start",)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_long_run_rings_and_a_short_one_does_not() -> None:
    out, clock = io.StringIO(), _Clock()
    notifier = Notifier("bell", out, clock)
    clock.now += NOTIFY_AFTER_S - 1
    notifier.run_ended()
    assert out.getvalue() == ""
    clock.now += 2
    notifier.run_ended()
    assert out.getvalue() == "\a"


def test_an_approval_rings_and_the_time_spent_answering_it_does_not_count() -> None:
    out, clock = io.StringIO(), _Clock()
    seen: list[object] = []
    notifier = Notifier("osc9", out, clock)
    watch = notifier.watching(seen.append)
    watch(ApprovalNeeded("1", "run_shell", "ask mode", "rm -rf /"))
    assert out.getvalue() == "\x1b]9;glmcode needs your approval for run_shell\x07"
    clock.now += 60  # the user went for coffee, then answered
    watch(TextDelta("done"))
    clock.now += 1
    notifier.run_ended()
    assert out.getvalue().count("\x1b]9;") == 1 and len(seen) == 2
    silent = io.StringIO()
    off = Notifier("off", silent, clock)
    off.watching(seen.append)(ApprovalNeeded("1", "x", "", ""))
    assert silent.getvalue() == ""


def test_a_trivial_exec_turn_never_imports_commands_or_hook_running(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "ok"}])
    env = {"ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = run_glmcode(["exec", "hi"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "glmcode.agent.loop" in modules
    unused = {"glmcode.commands", "glmcode.agent.hooked", "glmcode.ui.custom_prompt", "glmcode.hooks.engine", "glmcode.hooks.process"}
    assert not unused & modules


def test_glmcode_config_lists_the_hooks_after_the_settings(tmp_path: Path, isolated_home: Path) -> None:
    _user_file(isolated_home, '[[hooks.pre_tool_use]]\nmatcher = "run_shell"\ncommand = "python policy.py"\ntimeout_s = 5\n')
    proc = run_glmcode(["config"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "hooks, in the order they run:\n  pre_tool_use [run_shell]: python policy.py  (~/.config/glmcode/config.toml:1, timeout 5s)" in proc.stdout
