"""Sessions as a user meets them: the real `glmcode` (in a pseudo-terminal, or reading lines),
the fake GLM server, real files. Resume after kill -9, /undo, /rewind, /resume, /compact, and
the `sessions`, `resume` and `exec --resume` commands."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import run_glmcode
from tui_harness import Term


def _sessions(home: Path) -> list[Path]:
    return sorted((home / ".local" / "state" / "glmcode" / "sessions").glob("*/*.jsonl"))


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


@pytest.fixture
def terms() -> Iterator[list[Term]]:
    started: list[Term] = []
    yield started
    for term in started:
        term.close()


def _term(terms: list[Term], args: list[str], cwd: Path, base_url: str) -> Term:
    term = Term(args, cwd, base_url)
    terms.append(term)
    return term


def _ready(term: Term) -> None:
    term.wait(lambda _: "(shift-tab)" in term.bottom())


def test_a_session_killed_mid_turn_continues_with_continue(fake_glm, project: Path, terms, isolated_home: Path) -> None:
    shell = {"tool_calls": [{"name": "run_shell", "id": "call_1",
                             "arguments": {"command": "echo $$ > pid.txt; sleep 60"}}]}
    first = fake_glm([shell])
    # Unsandboxed, so that $$ is a pid of this machine (a sandboxed command dies with glmcode).
    term = _term(terms, ["--full-auto", "--sandbox", "off"], project, first.base_url)
    _ready(term)
    term.send("run the slow thing\r")
    _wait_for(lambda: (project / "pid.txt").exists() and (project / "pid.txt").read_text().strip() != "", "the command")
    os.kill(term.child.pid, signal.SIGKILL)
    os.killpg(int((project / "pid.txt").read_text()), signal.SIGKILL)
    term.wait_exit()

    second = fake_glm([{"content": "Picked up where we left off."}])
    term = _term(terms, ["--continue"], project, second.base_url)
    screen = " ".join(term.wait("you: run the slow thing").split())
    assert "Resumed session" in screen and "1 tool call never finished (run_shell)" in screen
    _ready(term)
    term.send("go on\r")
    term.wait("Picked up where we left off.")
    sent = second.requests[0].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "user"]
    assert sent[2]["tool_calls"][0]["id"] == "call_1"
    assert sent[3]["tool_call_id"] == "call_1" and "interrupted" in sent[3]["content"]
    assert sent[4] == {"role": "user", "content": "go on"}
    assert sent[0] == first.requests[0].body["messages"][0]  # the same system prompt, so the cache still hits
    assert len(_sessions(isolated_home)) == 1  # continued in the same file


def test_undo_restores_two_edited_files_and_removes_one_a_command_made(fake_glm, project: Path, terms) -> None:
    (project / "a.py").write_bytes(b"A = 1\r\n")
    (project / "b.py").write_bytes(b"B = 1\n")
    before = {p: (project / p).read_bytes() for p in ("a.py", "b.py")}
    fake = fake_glm([
        {"tool_calls": [
            {"name": "edit_file", "arguments": {"path": "a.py", "old_string": "A = 1", "new_string": "A = 2"}},
            {"name": "edit_file", "arguments": {"path": "b.py", "old_string": "B = 1", "new_string": "B = 2"}},
        ]},
        {"tool_calls": [{"name": "run_shell", "arguments": {"command": "printf made > c.txt"}}]},
        {"content": "All three done."},
        {"content": "Understood."},
    ])
    term = _term(terms, ["--full-auto"], project, fake.base_url)
    _ready(term)
    term.send("change a and b, make c\r")
    term.wait("All three done.")
    assert (project / "c.txt").read_text() == "made"
    _ready(term)
    term.send("/undo\r")
    screen = term.wait("Put back 3 files? [y/N]")
    assert "restored  a.py" in screen and "restored  b.py" in screen and "deleted   c.txt" in screen
    term.send("y\r")
    term.wait("Done: 3 files put back.")
    assert {p: (project / p).read_bytes() for p in ("a.py", "b.py")} == before
    assert not (project / "c.txt").exists()
    _ready(term)
    term.send("what now?\r")
    term.wait("Understood.")
    last = fake.requests[-1].body["messages"][-1]["content"]
    assert last.startswith("[The user undid the last file changes") and last.endswith("what now?")


def _lines_env(fake) -> dict[str, str]:
    return {"ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url}


def test_rewind_both_puts_back_files_and_conversation(fake_glm, project: Path) -> None:
    (project / "notes.txt").write_text("v1\n")
    fake = fake_glm([
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "notes.txt", "content": "v2\n"}}]},
        {"content": "Wrote v2."},
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "notes.txt", "content": "v3\n"}}]},
        {"content": "Wrote v3."},
        {"content": "Fresh start."},
    ])
    proc = run_glmcode(["--full-auto"], project, _lines_env(fake),
                       stdin="write v2\nwrite v3\n/rewind\n2\nb\ny\ntry again\n")
    assert proc.returncode == 0, proc.stderr
    assert "  1  write v2" in proc.stdout and "files, conversation" in proc.stdout
    assert "restored  notes.txt" in proc.stdout and "Conversation rewound" in proc.stdout
    assert (project / "notes.txt").read_text() == "v2\n"
    sent = fake.requests[-1].body["messages"]
    assert [m.get("content") for m in sent if m["role"] == "user"] == ["write v2", "try again"]


def test_resume_and_sessions_commands_and_resume_inside_a_session(fake_glm, project: Path) -> None:
    fake = fake_glm([{"content": "one"}, {"content": "two"}, {"content": "three"}, {"content": "four"}])
    env = _lines_env(fake)
    assert run_glmcode([], project, env, stdin="first session\n").returncode == 0
    assert run_glmcode([], project, env, stdin="second session\n").returncode == 0
    listed = run_glmcode(["sessions"], project, env)
    assert listed.returncode == 0
    rows = listed.stdout.splitlines()
    assert rows[0].startswith("1  ") and rows[0].endswith("second session")
    assert rows[1].startswith("2  ") and rows[1].endswith("first session")

    picked = run_glmcode(["resume"], project, env, stdin="2\nback to the first\n")
    assert picked.returncode == 0, picked.stderr
    assert "Resume which?" in picked.stdout and "you: first session" in picked.stdout
    assert [m["content"] for m in fake.requests[2].body["messages"][1:]] == ["first session", "one", "back to the first"]

    inside = run_glmcode([], project, env, stdin="/resume\n2\nand the second\n")  # the first is now the latest
    assert inside.returncode == 0, inside.stderr
    assert [m["content"] for m in fake.requests[3].body["messages"][1:]] == ["second session", "two", "and the second"]
    assert len(run_glmcode(["sessions"], project, env).stdout.strip().splitlines()) == 4  # 2 sessions, a blank, a hint

    missing = run_glmcode(["resume", "nope"], project, env)
    assert missing.returncode == 2 and "glmcode sessions" in missing.stderr


def test_exec_resume_keeps_the_id_and_the_file(fake_glm, project: Path, isolated_home: Path) -> None:
    fake = fake_glm([{"content": "first"}, {"content": "second"}])
    env = _lines_env(fake)
    one = json.loads(run_glmcode(["exec", "-o", "json", "start"], project, env).stdout)
    two = run_glmcode(["exec", "-o", "json", "--resume", one["session_id"][:15], "continue"], project, env)
    assert two.returncode == 0, two.stderr
    assert json.loads(two.stdout)["session_id"] == one["session_id"]
    [path] = _sessions(isolated_home)
    assert path.stem == one["session_id"]
    assert [m["content"] for m in fake.requests[1].body["messages"][1:]] == ["start", "first", "continue"]
    bad = run_glmcode(["exec", "--resume", "zzz", "x"], project, env)
    assert bad.returncode == 2 and "no session 'zzz'" in bad.stderr


def test_compact_by_hand_shows_the_summary(fake_glm, project: Path) -> None:
    summary = "## Goal\nGreet.\n## Decisions\nNone.\n## Files touched\nNone.\n## Open work\nNone."
    fake = fake_glm([{"content": f"answer {n}"} for n in range(4)] + [{"content": summary}, {"content": "still here"}])
    stdin = "".join(f"question {n}\n" for n in range(4)) + "/compact greetings\nand now\n"
    proc = run_glmcode([], project, _lines_env(fake), stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert "compacted: 2 messages summarised, ~" in proc.stdout and "## Open work" in proc.stdout
    assert "older messages were replaced by a summary" not in proc.stdout  # the line says it once
    assert "focus on: greetings" in fake.requests[4].body["messages"][1]["content"]
    after = fake.requests[5].body["messages"]
    assert after[1]["content"].startswith("[Summary of the earlier conversation")
    assert after[-1] == {"role": "user", "content": "and now"}


def test_continue_with_a_prompt_sends_it_in_the_resumed_session(fake_glm, project: Path, isolated_home: Path) -> None:
    fake = fake_glm([{"content": "one"}, {"content": "two"}])
    env = _lines_env(fake)
    assert run_glmcode([], project, env, stdin="first question\n").returncode == 0
    proc = run_glmcode(["-c", "a follow-up"], project, env, stdin="")
    assert proc.returncode == 0, proc.stderr
    assert "Resumed session" in proc.stdout and "started with: first question · 1 turn" in proc.stdout
    assert "you: first question" in proc.stdout and "two" in proc.stdout
    assert "/resume" not in proc.stdout
    assert [m["content"] for m in fake.requests[1].body["messages"][1:]] == ["first question", "one", "a follow-up"]
    assert len(_sessions(isolated_home)) == 1


def test_continue_and_resume_id_open_the_session_already_resumed(fake_glm, project: Path, terms, isolated_home: Path) -> None:
    fake = fake_glm([{"content": "one"}, {"content": "two"}])
    assert run_glmcode([], project, _lines_env(fake), stdin="first question\n").returncode == 0
    [path] = _sessions(isolated_home)
    for args in (["-c"], ["resume", path.stem]):
        term = _term(terms, args, project, fake.base_url)
        _ready(term)
        screen = " ".join(term.wait("you: first question").split())
        assert f"Resumed session {path.stem}" in screen and "started with: first question · 1 turn" in screen
        assert "/resume" not in screen
        term.send("\x04")
        assert term.wait_exit() == 0
    assert _sessions(isolated_home) == [path]


def test_a_cleared_conversation_stays_cleared_after_resume(fake_glm, project: Path) -> None:
    fake = fake_glm([{"content": "old answer"}, {"content": "new answer"}, {"content": "went on"}])
    env = _lines_env(fake)
    first = run_glmcode([], project, env, stdin="old question\n/clear\nnew question\n")
    assert first.returncode == 0, first.stderr
    proc = run_glmcode(["-c", "and then"], project, env)
    assert proc.returncode == 0, proc.stderr
    assert "you: new question" in proc.stdout and "glmcode: new answer" in proc.stdout
    assert [m["content"] for m in fake.requests[2].body["messages"][1:]] == ["new question", "new answer", "and then"]


def test_an_automatic_compaction_shows_one_line_and_the_context_share_drops(fake_glm, project: Path) -> None:
    full = {"prompt_tokens": 190_000, "completion_tokens": 10, "cached_tokens": 0}
    summary = "## Goal\nRead the log.\n## Decisions\nNone.\n## Files touched\nNone.\n## Open work\nNone."
    fake = fake_glm([*({"content": f"answer {n}"} for n in range(3)), {"content": "answer 3", "usage": full},
                     {"content": summary}, {"content": "fits again"}])
    stdin = "question 0 " + "log line " * 50_000 + "\n" + "".join(f"question {n}\n" for n in range(1, 5))
    proc = run_glmcode([], project, _lines_env(fake), stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert "ctx 93%" in proc.stdout  # 190,000 of 204,800
    [line] = [ln for ln in proc.stdout.splitlines() if "compacted" in ln.lower()]
    found = re.search(r"compacted: 2 messages summarised, ~190k → ~(\d+(?:\.\d)?)k tokens", line)
    assert found and float(found[1]) < 20, line  # the long first question went into the summary
    assert fake.requests[5].body["messages"][1]["content"].startswith("[Summary of the earlier conversation")


def test_undo_goes_past_a_prompt_that_changed_nothing(fake_glm, project: Path) -> None:
    (project / "calc.py").write_text("X = 1\n")
    fake = fake_glm([
        {"tool_calls": [{"name": "edit_file", "arguments": {"path": "calc.py", "old_string": "X = 1", "new_string": "X = 2"}}]},
        {"content": "Fixed."},
        {"tool_calls": [{"name": "run_shell", "arguments": {"command": f"{sys.executable} -c 'import calc'"}}]},
        {"content": "It runs."},
    ])
    proc = run_glmcode(["--full-auto"], project, _lines_env(fake), stdin="fix it\nnow run it\n/undo\ny\n")
    assert proc.returncode == 0, proc.stderr
    assert "Undo the file changes made for “fix it”" in proc.stdout and "restored  calc.py" in proc.stdout
    assert "Nothing to undo" not in proc.stdout
    assert (project / "calc.py").read_text() == "X = 1\n"


def test_the_resume_recap_shows_no_older_answer_for_an_unanswered_prompt(fake_glm, project: Path) -> None:
    fake = fake_glm([{"content": "one"}, {"error": {"status": 400, "code": "1210", "message": "bad request"}}])
    env = _lines_env(fake)
    assert run_glmcode([], project, env, stdin="first\nsecond\n").returncode == 0
    proc = run_glmcode(["--continue"], project, env, stdin="")
    assert proc.returncode == 0, proc.stderr
    assert "you: second" in proc.stdout and "glmcode: no answer" in proc.stdout
    assert "glmcode: one" not in proc.stdout
