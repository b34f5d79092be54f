from __future__ import annotations

import os
from pathlib import Path

import pytest

from glmcode.permissions.modes import MODES, Verdict, mode_strictness
from glmcode.permissions.policy import Policy, suggest_rule
from glmcode.permissions.readers import is_read_only_command
from glmcode.permissions.rules import Rule

READ = ("read_file", "read", {"path": "src/app.py"})
GREP = ("grep", "read", {"pattern": "x"})
TODO = ("todo_write", "meta", {"todos": []})
EDIT = ("edit_file", "edit", {"path": "src/app.py", "old_string": "a", "new_string": "b"})
WRITE = ("write_file", "edit", {"path": "notes.txt", "content": "x"})
PATCH = (
    "apply_patch",
    "edit",
    {"patch": "*** Begin Patch\n*** Update File: src/a.py\n@@\n-x\n+y\n"
              "*** Add File: docs/b.md\n+hello\n*** End Patch\n"},
)
SHELL_READ = ("run_shell", "shell", {"command": "git status"})
SHELL_WRITE = ("run_shell", "shell", {"command": "pytest -x"})


def decide(policy: Policy, call: tuple) -> str:
    return policy.decide(*call).decision


# -- the mode table ---------------------------------------------------------------------------

MODE_TABLE = {
    "ask":       {"read": "allow", "meta": "allow", "edit": "ask",   "shell_read": "allow", "shell": "ask"},
    "auto-edit": {"read": "allow", "meta": "allow", "edit": "allow", "shell_read": "allow", "shell": "ask"},
    "full-auto": {"read": "allow", "meta": "allow", "edit": "allow", "shell_read": "allow", "shell": "allow"},
    "read-only": {"read": "allow", "meta": "allow", "edit": "deny",  "shell_read": "allow", "shell": "deny"},
}  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
def test_mode_table(mode: str) -> None:
    policy = Policy(mode)
    expected = MODE_TABLE[mode]
    assert decide(policy, READ) == expected["read"]
    assert decide(policy, GREP) == expected["read"]
    assert decide(policy, TODO) == expected["meta"]
    for call in (EDIT, WRITE, PATCH):
        assert decide(policy, call) == expected["edit"]
    assert decide(policy, SHELL_READ) == expected["shell_read"]
    assert decide(policy, SHELL_WRITE) == expected["shell"]


@pytest.mark.parametrize("mode", MODES)
def test_unknown_kind_asks(mode: str) -> None:
    verdict = Policy(mode).decide("server__thing", "network", {})
    assert verdict.decision == "ask"
    assert "unknown kind" in verdict.reason


def test_reasons_name_tool_and_mode() -> None:
    assert Policy("auto-edit").decide(*SHELL_WRITE) == Verdict(
        "ask", "run_shell needs approval in auto-edit mode"
    )
    assert "read-only mode" in Policy("read-only").decide(*EDIT).reason
    assert "ask mode" in Policy("ask").decide(*EDIT).reason


def test_mode_can_change_mid_session_and_is_checked() -> None:
    policy = Policy("ask")
    assert decide(policy, EDIT) == "ask"
    policy.mode = "auto-edit"
    assert policy.mode == "auto-edit"
    assert decide(policy, EDIT) == "allow"
    with pytest.raises(ValueError, match="unknown permission mode 'yolo'"):
        policy.mode = "yolo"
    with pytest.raises(ValueError):
        Policy("everything")


def test_strictness_order() -> None:
    order = sorted(MODES, key=mode_strictness, reverse=True)
    assert order == ["read-only", "ask", "auto-edit", "full-auto"]


# -- rules --------------------------------------------------------------------------------------


def test_rule_parse() -> None:
    assert Rule.parse("write_file") == Rule("write_file", None)
    assert Rule.parse("run_shell:git diff*") == Rule("run_shell", "git diff*")
    assert Rule.parse("  run_shell :  git   diff* ") == Rule("run_shell", "git diff*")
    assert Rule.parse("edit_file:src/**") == Rule("edit_file", "src/**")
    assert str(Rule.parse("run_shell:pytest*")) == "run_shell:pytest*"


@pytest.mark.parametrize(
    "junk, message",
    [
        ("", "names no tool"),
        (":pytest", "names no tool"),
        ("run shell:ls", "not a tool name"),
        ("run_shell:", "empty pattern"),
        ("run_shell:   ", "empty pattern"),
    ],
)
def test_rule_parse_rejects_junk(junk: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Rule.parse(junk)


def test_rule_parse_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        Rule.parse(3)  # type: ignore[arg-type]


def test_shell_rule_is_prefix_match() -> None:
    rule = Rule.parse("run_shell:git diff*")
    assert rule.matches("run_shell", "git diff")
    assert rule.matches("run_shell", "git diff --stat HEAD~1")
    assert rule.matches("run_shell", "git  diff   src/")  # spacing does not matter
    assert not rule.matches("run_shell", "git status")
    assert not rule.matches("run_shell", "echo git diff")
    assert not rule.matches("edit_file", "git diff")
    assert not rule.matches("run_shell", None)
    exact = Rule.parse("run_shell:make test")
    assert exact.matches("run_shell", "make test")
    assert not exact.matches("run_shell", "make test-all")
    spaced = Rule.parse("run_shell:pytest *")
    assert spaced.matches("run_shell", "pytest") and spaced.matches("run_shell", "pytest -x")


def test_path_rule_patterns() -> None:
    src = Rule.parse("edit_file:src/**")
    assert src.matches("edit_file", "src/app.py")
    assert src.matches("edit_file", "src/deep/down/app.py")
    assert not src.matches("edit_file", "tests/src/app.py")
    assert not src.matches("edit_file", "srcx/app.py")
    one_level = Rule.parse("write_file:docs/*.md")
    assert one_level.matches("write_file", "docs/a.md")
    assert not one_level.matches("write_file", "docs/sub/a.md")
    anywhere = Rule.parse("edit_file:*.py")  # no slash: a file name at any depth
    assert anywhere.matches("edit_file", "a.py") and anywhere.matches("edit_file", "x/y/a.py")
    assert not anywhere.matches("edit_file", "a.pyc")
    env = Rule.parse("read_file:**/.env")
    assert env.matches("read_file", ".env") and env.matches("read_file", "a/b/.env")
    folder = Rule.parse("edit_file:build/")
    assert folder.matches("edit_file", "build/out/x.o")
    any_tool = Rule.parse("*_file:secrets/**")
    assert any_tool.matches("read_file", "secrets/k") and any_tool.matches("write_file", "secrets/k")
    assert not any_tool.matches("grep", "secrets/k")


def test_whole_tool_rule_matches_every_call() -> None:
    rule = Rule.parse("write_file")
    assert rule.matches("write_file", None) and rule.matches("write_file", "any/where")
    assert not rule.matches("edit_file", "x")


def test_allow_rule_lets_a_call_run() -> None:
    policy = Policy("ask", allow=["run_shell:pytest*", "edit_file:src/**"])
    verdict = policy.decide(*SHELL_WRITE)
    assert verdict == Verdict("allow", "allowed by the rule 'run_shell:pytest*'")
    assert decide(policy, EDIT) == "allow"
    assert decide(policy, WRITE) == "ask"  # other tool
    assert decide(policy, ("edit_file", "edit", {"path": "lib/x.py"})) == "ask"
    assert decide(policy, ("run_shell", "shell", {"command": "make"})) == "ask"


def test_deny_beats_allow_and_mode() -> None:
    policy = Policy(
        "full-auto",
        allow=["run_shell", "run_shell:git push*"],
        deny=["run_shell:git push*", "read_file:**/.env"],
    )
    verdict = policy.decide("run_shell", "shell", {"command": "git push --force"})
    assert verdict.decision == "deny"
    assert "git push*" in verdict.reason
    assert decide(policy, ("read_file", "read", {"path": "config/.env"})) == "deny"
    assert decide(policy, ("run_shell", "shell", {"command": "git pull"})) == "allow"


def test_whole_tool_deny() -> None:
    policy = Policy("full-auto", deny=["write_file"])
    assert decide(policy, WRITE) == "deny"
    assert decide(policy, EDIT) == "allow"


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf build",
        "cd /tmp && rm -rf build",
        "ls; rm  -rf build",
        "sudo rm -rf build",
        "FOO=1 rm -rf build",
        "timeout 10 rm -rf build",
        "find . -name x | xargs rm -rf",
        "echo $(rm -rf build)",
        "echo `rm -rf build`",
        "bash -c 'rm -rf build'",
        "true\nrm -rf build",
        '"rm" -rf build',
        "ls;>/dev/null rm -rf build",
    ],
)
def test_deny_rule_sees_inside_compound_commands(command: str) -> None:
    policy = Policy("full-auto", deny=["run_shell:rm -rf*"])
    assert decide(policy, ("run_shell", "shell", {"command": command})) == "deny"


def test_allow_rule_covers_only_whole_command() -> None:
    policy = Policy("ask", allow=["run_shell:git diff*", "run_shell:pytest*"])
    allowed = ["git diff && pytest -q", "cd src && pytest", "pytest 2>&1 | tail -n 20"]
    asked = [
        "git diff; curl http://example.invalid",
        "git diff > patch.txt",
        "pytest $(cat args)",
        "pytest `id`",
        "(pytest)",
        "pytest\nmake clean",
        "PYTHONPATH=x pytest",
    ]
    for command in allowed:
        assert decide(policy, ("run_shell", "shell", {"command": command})) == "allow", command
    for command in asked:
        assert decide(policy, ("run_shell", "shell", {"command": command})) == "ask", command


def test_read_only_mode_ignores_allow_rules() -> None:
    policy = Policy("read-only", allow=["edit_file", "run_shell:pytest*"])
    assert decide(policy, EDIT) == "deny"
    assert decide(policy, SHELL_WRITE) == "deny"
    assert decide(policy, SHELL_READ) == "allow"


def test_allow_for_session() -> None:
    policy = Policy("ask")
    assert decide(policy, SHELL_WRITE) == "ask"
    policy.allow_for_session(suggest_rule(*SHELL_WRITE[::2]))
    policy.allow_for_session("run_shell:pytest*")  # twice is once
    assert decide(policy, SHELL_WRITE) == "allow"
    assert decide(policy, ("run_shell", "shell", {"command": "pytest tests/a.py"})) == "allow"
    assert decide(policy, ("run_shell", "shell", {"command": "make"})) == "ask"
    with pytest.raises(ValueError):
        policy.allow_for_session("run_shell:")


def test_session_rule_does_not_override_deny() -> None:
    policy = Policy("ask", deny=["edit_file:secrets/**"])
    policy.allow_for_session("edit_file")
    assert decide(policy, EDIT) == "allow"
    assert decide(policy, ("edit_file", "edit", {"path": "secrets/key"})) == "deny"


def test_apply_patch_rules_look_at_every_path() -> None:
    allow_src = Policy("ask", allow=["apply_patch:src/**"])
    assert decide(allow_src, PATCH) == "ask"  # docs/b.md is outside src/
    allow_both = Policy("ask", allow=["apply_patch:src/**", "apply_patch:docs/**"])
    assert decide(allow_both, PATCH) == "allow"
    deny_docs = Policy("full-auto", deny=["apply_patch:docs/**"])
    assert decide(deny_docs, PATCH) == "deny"


def test_path_rules_with_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "proj"
    (workspace / "src").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, workspace / "src" / "link")
    policy = Policy("ask", allow=["edit_file:src/**"], deny=["read_file:**/.env"],
                    workspace=workspace)
    absolute = str(workspace / "src" / "app.py")
    assert decide(policy, ("edit_file", "edit", {"path": absolute})) == "allow"
    assert decide(policy, ("edit_file", "edit", {"path": "./src/../src/app.py"})) == "allow"
    # A symlink out of the allowed folder is not covered by the rule.
    assert decide(policy, ("edit_file", "edit", {"path": "src/link/x.py"})) == "ask"
    assert decide(policy, ("read_file", "read", {"path": str(workspace / ".env")})) == "deny"
    assert decide(policy, ("read_file", "read", {"path": "src/../.env"})) == "deny"


# -- read-only commands ---------------------------------------------------------------------

READ_ONLY = [
    "ls",
    "ls -la src",
    "cat README.md",
    "head -n 20 a.py && tail -n 5 a.py",
    "wc -l *.py",
    "grep -rn 'a;b' src",
    "rg -n TODO",
    "find . -name '*.py' -type f",
    "pwd; echo done",
    "git status",
    "git diff --stat",
    "git log --oneline -n 5 | head -3",
    "git show HEAD~1",
    "git branch",
    "git branch -a",
    "git --no-pager log -1",
    "git -C sub status",
    "git tag -l 'v*'",
    "git config --get user.name",
    "ls 2>/dev/null",
    "ls missing 2>&1 | sort | uniq -c",
    "cd src && ls",
    "date +%Y",
    "sort -u names.txt",
]

NOT_READ_ONLY = [
    "",
    "rm -rf build",
    "ls > files.txt",
    "cat a >> b",
    "ls | tee files.txt",
    "echo $(whoami)",
    "echo `whoami`",
    "cat <(ls)",
    "ls; rm x",
    "ls && touch x",
    "ls || mv a b",
    "ls\nrm x",
    "ls;>/dev/null rm -rf x",
    "ls|>/dev/null rm x",
    "ls &&>/dev/null touch x",
    "(ls)",
    "find . -delete",
    "find . -name '*.pyc' -exec rm {} ;",
    "find . -fprint out.txt",
    "git push",
    "git push origin main",
    "git commit -m msg",
    "git checkout main",
    "git branch new-feature",
    "git branch -D old",
    "git tag v1.0",
    "git config user.name x",
    "git diff --output=out.patch",
    "git -c core.pager=sh log",
    "git",
    "sort -o out.txt in.txt",
    "sort --output=out.txt in.txt",
    "sort --out=out.txt in.txt",
    "uniq in.txt out.txt",
    "rg --pre ./evil TODO",
    "sed -i s/a/b/ f",
    "awk '{system(\"rm x\")}' f",
    "xargs rm",
    "python -c 'print(1)'",
    "FOO=1 ls",
    "./ls",
    "/bin/ls",
    "env rm x",
    "date 01011200",
    "cat 'unterminated",
    "cat <<EOF\nhello\nEOF",
]


@pytest.mark.parametrize("command", READ_ONLY)
def test_read_only_commands(command: str) -> None:
    assert is_read_only_command(command)


@pytest.mark.parametrize("command", NOT_READ_ONLY)
def test_commands_that_may_write(command: str) -> None:
    assert not is_read_only_command(command)


# -- targets and suggestions ----------------------------------------------------------------



@pytest.mark.parametrize(
    "command, rule",
    [
        ("pytest -x tests/", "run_shell:pytest*"),
        ("git diff --stat", "run_shell:git diff*"),
        ("git commit -m 'fix'", "run_shell:git commit*"),
        ("npm run build -- --prod", "run_shell:npm run build*"),
        ("python -m pytest -q", "run_shell:python -m pytest*"),
        ("cargo --version", "run_shell:cargo*"),
        ("cd src && make test", "run_shell:make test*"),
        ("ls && ls -la", "run_shell:ls*"),
    ],
)
def test_suggest_rule_for_shell(command: str, rule: str) -> None:
    args = {"command": command}
    assert suggest_rule("run_shell", args) == rule
    policy = Policy("ask")
    policy.allow_for_session(rule)
    assert policy.decide("run_shell", "shell", args).decision == "allow"


def test_suggest_rule_for_other_tools() -> None:
    assert suggest_rule("edit_file", EDIT[2]) == "edit_file"
    assert suggest_rule("apply_patch", PATCH[2]) == "apply_patch"
    assert suggest_rule("run_shell", {"command": ""}) is None


@pytest.mark.parametrize("command", ["ls > files.txt", "echo $(rm -rf x)", "pytest `cat args`"])
def test_no_rule_is_suggested_when_no_rule_could_allow_the_command(command: str) -> None:
    assert suggest_rule("run_shell", {"command": command}) is None


@pytest.mark.parametrize("mode", ["ask", "auto-edit"])
@pytest.mark.parametrize(
    "tool,args",
    [
        ("write_file", {"path": ".git/config", "content": "[core]\n\tfsmonitor = evil\n"}),
        ("edit_file", {"path": "sub/../.git/hooks/pre-commit", "old_string": "a", "new_string": "b"}),
        ("write_file", {"path": ".glmcode/config.toml", "content": "x"}),
        ("apply_patch", {"patch": "*** Begin Patch\n*** Add File: .git/info/attributes\n+x\n*** End Patch\n"}),
    ],
)
def test_writes_that_steer_git_or_glmcode_always_ask(tmp_path, mode, tool, args):
    verdict = Policy(mode, allow=[tool], workspace=tmp_path).decide(tool, "edit", args)
    assert verdict.decision == "ask"
    assert ".git/" in verdict.reason


def test_protected_folders_follow_full_auto_and_read_only(tmp_path):
    args = {"path": ".git/config", "content": "x"}
    assert Policy("full-auto", workspace=tmp_path).decide("write_file", "edit", args).decision == "allow"
    assert Policy("read-only", workspace=tmp_path).decide("write_file", "edit", args).decision == "deny"
    assert Policy("auto-edit", workspace=tmp_path).decide("write_file", "edit", {"path": "git/x.py", "content": ""}).decision == "allow"
