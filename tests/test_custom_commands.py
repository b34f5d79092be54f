"""Custom slash commands: found in the project and the user's config, filled in with their
arguments, and run by `exec "/name args"` against the fake GLM server."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_glmcode
from glmcode.commands.discovery import find_commands
from glmcode.commands.expand import expand, parse_invocation
from glmcode.commands.frontmatter import split_front_matter

KEY = "test-key-commands-9a2b"


def _env(fake) -> dict[str, str]:
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def dirs(tmp_path: Path, isolated_home: Path) -> tuple[Path, Path]:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    return project / ".glmcode" / "commands", isolated_home / ".config" / "glmcode" / "commands"


def test_front_matter_gives_description_hint_and_model() -> None:
    front = split_front_matter('---\ndescription: "Review a change"\nargument-hint: [path]\nmodel: glm-4.5-air\n---\nReview $1.\n')
    assert front.fields == {"description": "Review a change", "argument-hint": "[path]", "model": "glm-4.5-air"}
    assert front.body == "Review $1.\n" and front.problems == ()
    assert split_front_matter("Just a prompt.\n").body == "Just a prompt.\n"
    odd = split_front_matter("---\ndescripton: x\nno colon here\n---\nBody\n")
    assert odd.fields == {} and len(odd.problems) == 2
    assert "unknown key 'descripton'" in odd.problems[0] and "line 3" in odd.problems[1]
    unclosed = split_front_matter("---\ndescription: x\nBody\n")
    assert unclosed.body.startswith("---") and "no closing" in unclosed.problems[0]


def test_arguments_fill_the_placeholders(dirs: tuple[Path, Path]) -> None:
    project_dir, _ = dirs
    _write(project_dir / "fix.md", "Fix issue $1 in $2, with care: $ARGUMENTS. Missing: [$3]")
    _write(project_dir / "plain.md", "Explain the code.")
    found = find_commands(project_dir.parent.parent, (), trusted=True)
    fix, plain = found.get("fix"), found.get("plain")
    assert fix is not None and plain is not None
    assert expand(fix, ' 42 "src/a b.py" ') == 'Fix issue 42 in src/a b.py, with care: 42 "src/a b.py". Missing: []'
    assert expand(plain, "") == "Explain the code."
    assert expand(plain, "the parser") == "Explain the code.\n\nthe parser"  # nothing typed is lost
    assert expand(fix, 'it "unclosed') == 'Fix issue it in "unclosed, with care: it "unclosed. Missing: []'


def test_namespaces_clashes_and_built_in_names(dirs: tuple[Path, Path]) -> None:
    project_dir, user_dir = dirs
    _write(project_dir / "frontend" / "lint.md", "---\ndescription: Lint the frontend\n---\nRun the linter on $ARGUMENTS")
    _write(project_dir / "review.md", "Review as the team does.")
    _write(user_dir / "review.md", "Review as I like it.")
    _write(user_dir / "mine.md", "# Summarise the day\n\nWhat did I change today?")
    _write(project_dir / "help.md", "Not allowed.")
    _write(project_dir / "Bad Name.md", "x")
    _write(project_dir / "empty.md", "---\ndescription: nothing\n---\n\n")
    found = find_commands(project_dir.parent.parent, ("help", "model"), trusted=True)
    assert list(found.commands) == ["frontend:lint", "mine", "review"]
    lint, mine, review = (found.commands[n] for n in ("frontend:lint", "mine", "review"))
    assert lint.description == "Lint the frontend" and lint.scope == "project"
    assert mine.description == "Summarise the day" and mine.scope == "user"  # the first line stands in
    assert review.scope == "project" and review.body == "Review as the team does."
    assert review.overrides == user_dir / "review.md"
    problems = "\n".join(found.problems)
    assert "/help is built into glmcode" in problems
    assert "Bad Name.md: not a command name" in problems
    assert "empty.md: the prompt is empty" in problems
    assert found.get("FRONTEND:LINT") is lint


def test_an_invocation_is_a_command_name_and_its_arguments() -> None:
    assert parse_invocation("/review src/ now") == ("review", "src/ now")
    assert parse_invocation("/frontend:lint") == ("frontend:lint", "")
    assert parse_invocation("/usr/lib is missing") is None
    assert parse_invocation("hello") is None


def test_exec_expands_a_project_command(fake_glm, git_repo: Path) -> None:
    _write(git_repo / ".glmcode" / "commands" / "hello.md", "Say hello to $ARGUMENTS in French.\n")
    fake = fake_glm([{"content": "Bonjour Bob !"}])
    proc = run_glmcode(["exec", "/hello Bob"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Bonjour Bob !\n"
    assert fake.requests[0].body["messages"][1]["content"] == "Say hello to Bob in French."


def test_exec_attaches_mentions_and_uses_the_commands_model(fake_glm, git_repo: Path, isolated_home: Path) -> None:
    (git_repo / "notes.txt").write_text("alpha\n")
    _write(
        isolated_home / ".config" / "glmcode" / "commands" / "team" / "review.md",
        "---\nmodel: glm-4.5-air\n---\nReview @notes.txt and @$1 for $2.\n",
    )
    (git_repo / "app.py").write_text("print('hi')\n")
    fake = fake_glm([{"content": "Looks fine."}])
    proc = run_glmcode(["exec", "/team:review app.py style"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    body = fake.requests[0].body
    assert body["model"] == "glm-4.5-air"
    sent = body["messages"][1]["content"]
    assert sent.startswith("Review @notes.txt and @app.py for style.")
    assert '<attached path="notes.txt"' in sent and "alpha" in sent and "print('hi')" in sent


def test_exec_names_the_commands_when_one_is_missing(fake_glm, git_repo: Path) -> None:
    _write(git_repo / ".glmcode" / "commands" / "hello.md", "Hello.")
    fake = fake_glm([])
    proc = run_glmcode(["exec", "/helo Bob"], git_repo, _env(fake))
    assert proc.returncode == 2
    assert "no custom command /helo" in proc.stderr and "/hello" in proc.stderr
    proc = run_glmcode(["exec", "/compact"], git_repo, _env(fake))
    assert proc.returncode == 2 and "interactive session" in proc.stderr
    assert fake.requests == []
    # A prompt that starts with a path is a message, not a command.
    fake = fake_glm([{"content": "It is there."}])
    proc = run_glmcode(["exec", "/usr/lib is missing"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr


def test_shell_lines_run_with_quoted_arguments_and_arguments_never_add_one(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    project_dir, _ = dirs
    _write(project_dir / "show.md", "Files: !`printf '%s|' $1 $2` and $ARGUMENTS")
    command = find_commands(project_dir.parent.parent, (), trusted=True).get("show")
    assert command is not None
    ran: list[str] = []

    def shell(line: str) -> str:
        ran.append(line)
        return "<out>"

    text = expand(command, "'a b' '!`touch pwned`'", shell)
    assert ran == ["printf '%s|' 'a b' '!`touch pwned`'"]
    assert text == "Files: <out> and 'a b' '!`touch pwned`'"
    assert expand(command, "x") == "Files: !`printf '%s|' x ''` and x"


def test_exec_runs_a_commands_shell_lines_in_the_working_folder(fake_glm, git_repo: Path, isolated_home: Path) -> None:
    _write(isolated_home / ".config" / "glmcode" / "commands" / "where.md", "Branch: !`git branch --show-current`. Echo: !`echo $1`. Fail: !`exit 3`")
    fake = fake_glm([{"content": "ok"}])
    proc = run_glmcode(["exec", "/where 'a; touch pwned'"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    sent = fake.requests[0].body["messages"][1]["content"]
    assert sent == "Branch: main. Echo: a; touch pwned. Fail: \n(`exit 3` exited with code 3)"
    assert not (git_repo / "pwned").exists()


def test_a_project_command_with_shell_lines_waits_for_trust(fake_glm, git_repo: Path) -> None:
    _write(git_repo / ".glmcode" / "commands" / "status.md", "Status: !`echo clean`")
    fake = fake_glm([{"content": "ok"}])
    proc = run_glmcode(["exec", "/status"], git_repo, _env(fake))
    assert proc.returncode == 2
    assert "status.md: runs shell lines" in proc.stderr and "ignored until you run `glmcode trust`" in proc.stderr
    assert run_glmcode(["trust"], git_repo).returncode == 0
    proc = run_glmcode(["exec", "/status"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert fake.requests[0].body["messages"][1]["content"] == "Status: clean"
