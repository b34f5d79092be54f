"""The permission side of the sandbox: sandboxed commands run unasked in auto-edit, reads
outside the workspace ask or are refused, secrets are refused, and a command the sandbox
refused can be run once outside it when the user says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from glmcode.agent.tool_calls import ApprovalAnswer, ApprovalRequest, ToolRunner
from glmcode.events import ApprovalNeeded, ToolCall, ToolCallFinished
from glmcode.permissions.policy import Policy
from glmcode.sandbox.secrets import secret_paths
from glmcode.tools.registry import Registry
from glmcode.ui.tui.mentions import expand_mentions, policy_check
from tests.sandbox_support import disk_dir, needs_bwrap, sandboxed  # noqa: F401 (a fixture)

SHELL = ("run_shell", "shell", {"command": "pytest -x"})


@pytest.mark.parametrize(("mode", "sandboxed", "expected"), [
    ("auto-edit", True, "allow"), ("auto-edit", False, "ask"),
    ("ask", True, "ask"), ("ask", False, "ask"),
    ("full-auto", True, "allow"), ("full-auto", False, "allow"),
    ("read-only", True, "deny"), ("read-only", False, "deny"),
])
def test_commands_ask_unless_sandboxed_in_auto_edit(mode: str, sandboxed: bool, expected: str) -> None:
    verdict = Policy(mode, shell_sandboxed=sandboxed).decide(*SHELL)
    assert verdict.decision == expected
    if mode == "auto-edit" and sandboxed:
        assert "inside the sandbox" in verdict.reason


def test_a_deny_rule_still_wins_over_the_sandbox() -> None:
    policy = Policy("auto-edit", deny=["run_shell:pytest*"], shell_sandboxed=True)
    assert policy.decide(*SHELL).decision == "deny"


@pytest.fixture
def places(tmp_path: Path, isolated_home: Path) -> dict[str, Path]:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "a.py").write_text("x = 1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("outside\n")
    (ws / "link.txt").symlink_to(outside / "notes.txt")
    ssh = isolated_home / ".ssh"
    ssh.mkdir()
    (ssh / "id_rsa").write_text("FAKE KEY\n")
    extra = tmp_path / "extra"
    extra.mkdir()
    return {"ws": ws, "outside": outside, "ssh": ssh, "extra": extra}


def _policy(places: dict[str, Path], mode: str, allow: tuple[str, ...] = ()) -> Policy:
    return Policy(mode, allow, workspace=places["ws"], read_roots=(places["extra"],), secrets=secret_paths())


READS_OUTSIDE = {"ask": "ask", "auto-edit": "ask", "read-only": "deny", "full-auto": "allow"}


@pytest.mark.parametrize("mode", list(READS_OUTSIDE))
def test_reads_outside_the_workspace_by_mode(places: dict[str, Path], mode: str) -> None:
    policy = _policy(places, mode)
    outside = str(places["outside"] / "notes.txt")
    for tool, args in (("read_file", {"path": outside}), ("grep", {"pattern": "x", "path": str(places["outside"])}),
                       ("glob", {"pattern": "*", "path": str(places["outside"])}),
                       ("read_file", {"path": "../outside/notes.txt"}), ("read_file", {"path": "link.txt"})):
        assert policy.decide(tool, "read", args).decision == READS_OUTSIDE[mode], (tool, args)
    for inside in ({"path": "src/a.py"}, {"path": str(places["ws"] / "src")}, {"path": str(places["extra"])}):
        assert policy.decide("read_file", "read", inside).decision == "allow"
    assert policy.decide("grep", "read", {"pattern": "x"}).decision == "allow"


def test_an_allow_rule_covers_reads_outside_even_in_read_only(places: dict[str, Path]) -> None:
    rule = f"read_file:{places['outside']}/**"
    path = {"path": str(places["outside"] / "notes.txt")}
    for mode in ("ask", "read-only"):
        assert _policy(places, mode, (rule,)).decide("read_file", "read", path).decision == "allow"


def test_secret_folders_are_refused_in_every_mode_unless_a_rule_names_them(places: dict[str, Path]) -> None:
    key = {"path": str(places["ssh"] / "id_rsa")}
    (places["ws"] / "key").symlink_to(places["ssh"] / "id_rsa")
    for mode in READS_OUTSIDE:
        verdict = _policy(places, mode, ("read_file",)).decide("read_file", "read", key)
        assert verdict.decision == "deny" and "holds credentials" in verdict.reason
        assert _policy(places, mode).decide("read_file", "read", {"path": "key"}).decision == "deny"
        assert _policy(places, mode).decide("read_file", "read", {"path": "~/.ssh/id_rsa"}).decision == "deny"
    named = _policy(places, "ask", ("read_file:~/.ssh/**",))
    assert named.decide("read_file", "read", key).decision == "allow"


def _runner(ws: Path, policy: Policy, ctx, approver) -> ToolRunner:
    return ToolRunner(Registry.builtin(), policy, ctx, approver)


def _run(runner: ToolRunner, name: str, arguments: str) -> tuple[list, list]:
    results: list = []
    events = list(runner.run((ToolCall("c1", name, arguments),), results))
    return events, results


def test_headless_read_outside_is_refused_without_the_content(places: dict[str, Path]) -> None:
    from glmcode.tools.base import ToolContext

    policy = _policy(places, "auto-edit")
    runner = _runner(places["ws"], policy, ToolContext(places["ws"]), None)
    _, results = _run(runner, "read_file", '{"path": "link.txt"}')
    text = results[0][1]
    assert "Not run" in text and "outside the workspace" in text
    assert "outside\n" not in text.replace("outside the", "")


@needs_bwrap
@pytest.mark.parametrize(("answer", "written"), [("yes", True), ("no", False)])
def test_a_command_the_sandbox_refused_can_run_once_outside_it(disk_dir: Path, tmp_path: Path, answer: str, written: bool) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    target = disk_dir / "out.txt"
    asked: list[ApprovalRequest] = []

    def approver(request: ApprovalRequest) -> ApprovalAnswer:
        asked.append(request)
        return ApprovalAnswer(answer)

    runner = _runner(ws, Policy("full-auto", shell_sandboxed=True), sandboxed(ws), approver)
    events, results = _run(runner, "run_shell", f'{{"command": "echo hi > {target}"}}')
    assert [r.once for r in asked] == [True]
    assert "run it once outside the sandbox" in asked[0].reason
    assert any(isinstance(e, ApprovalNeeded) for e in events)
    assert target.exists() is written
    finished = [e for e in events if isinstance(e, ToolCallFinished)][0]
    assert finished.is_error is not written
    # The next command is sandboxed again: refused again, so asked again.
    _run(runner, "run_shell", f'{{"command": "echo again > {disk_dir}/again.txt"}}')
    assert len(asked) == 2 and (disk_dir / "again.txt").exists() is written


def test_mentions_outside_the_workspace_ask_and_secrets_are_never_attached(places: dict[str, Path]) -> None:
    policy = _policy(places, "ask")
    answers: list[ApprovalRequest] = []

    def decline(request: ApprovalRequest) -> ApprovalAnswer:
        answers.append(request)
        return ApprovalAnswer("no")

    prompt = f"see @{places['outside']}/notes.txt and @src/a.py and @~/.ssh/id_rsa"
    expanded = expand_mentions(prompt, places["ws"], policy_check(policy, decline))
    assert [a.shown for a in expanded.attached] == ["src/a.py"]
    assert "outside\n" not in expanded.message and "FAKE KEY" not in expanded.message
    assert len(answers) == 1 and answers[0].once
    assert any("holds credentials" in p for p in expanded.problems)
    accepted = expand_mentions(prompt, places["ws"], policy_check(policy, lambda r: ApprovalAnswer("yes")))
    assert "notes.txt" in accepted.message and "FAKE KEY" not in accepted.message
