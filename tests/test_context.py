import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from glmcode.agent import context
from glmcode.agent.context import (
    MEMORY_FILE_CAP,
    MEMORY_TOTAL_CAP,
    build_system_prompt,
    find_memory_files,
    gather_repo_facts,
)


@pytest.fixture(autouse=True)
def isolated_git_config(tmp_path_factory, monkeypatch):
    """The machine's own git configuration must not change what the tests see."""
    empty = tmp_path_factory.mktemp("gitconfig") / "config"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def init_repo(path: Path, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    git(path, "config", "user.name", "Test User")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "commit.gpgsign", "false")
    return path


def commit_file(repo: Path, name: str, text: str, message: str) -> None:
    target = repo / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)


def prompt(cwd: Path, config_dir: Path) -> str:
    return build_system_prompt(cwd, user_config_dir=config_dir, model="glm-4.6", today="2025-03-14")


# --- repository facts ---------------------------------------------------------------------


def test_folder_outside_git(tmp_path):
    (tmp_path / "main.py").write_text("print(1)\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "util.py").write_text("")
    facts = gather_repo_facts(tmp_path)
    assert facts.is_git is False
    assert facts.root == tmp_path.resolve()
    assert facts.cwd == tmp_path.resolve()
    assert facts.branch is None
    assert facts.status == ""
    assert facts.recent_commits == ()
    assert facts.overview == "./: main.py\npkg/: util.py"


def test_walk_outside_git_skips_hidden_and_junk_folders(tmp_path):
    (tmp_path / "app.js").write_text("")
    for junk in ("node_modules/left-pad", ".venv/lib", "__pycache__", "dist", "build", ".cache"):
        (tmp_path / junk).mkdir(parents=True)
        (tmp_path / junk / "x.js").write_text("")
    assert gather_repo_facts(tmp_path).overview == "./: app.js"


def test_large_folder_outside_git_has_no_overview(tmp_path):
    for i in range(context.OVERVIEW_MAX_FILES + 1):
        (tmp_path / f"f{i}.txt").write_text("")
    assert gather_repo_facts(tmp_path).overview == ""


def test_empty_repository(tmp_path):
    repo = init_repo(tmp_path / "repo", branch="trunk")
    facts = gather_repo_facts(repo)
    assert facts.is_git is True
    assert facts.root == repo.resolve()
    assert facts.branch == "trunk"
    assert facts.recent_commits == ()
    assert facts.status == ""
    assert facts.overview == ""
    text = prompt(repo, tmp_path / "config")
    assert "- Git branch: trunk (no commits yet)" in text
    assert "(clean)" in text


def test_repository_with_commits_and_dirty_status(tmp_path):
    repo = init_repo(tmp_path / "repo")
    commit_file(repo, "README.md", "hello\n", "Add readme")
    commit_file(repo, "src/app.py", "x = 1\n", "Add app")
    git(repo, "checkout", "-q", "-b", "feature/login")
    (repo / "README.md").write_text("changed\n")
    (repo / "notes.txt").write_text("new\n")

    facts = gather_repo_facts(repo)
    assert facts.is_git is True
    assert facts.branch == "feature/login"
    assert facts.status.splitlines() == [" M README.md", "?? notes.txt"]
    subjects = [c.split(" ", 1)[1] for c in facts.recent_commits]
    assert subjects == ["Add app", "Add readme"]
    head = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert facts.recent_commits[0].startswith(head + " ")
    # untracked files that are not ignored belong to the picture too
    assert facts.overview == "./: README.md, notes.txt\nsrc/: app.py"


def test_recent_commits_keep_only_the_last_five(tmp_path):
    repo = init_repo(tmp_path / "repo")
    for i in range(7):
        commit_file(repo, "f.txt", f"{i}\n", f"commit {i}")
    facts = gather_repo_facts(repo)
    assert [c.split(" ", 1)[1] for c in facts.recent_commits] == [
        "commit 6", "commit 5", "commit 4", "commit 3", "commit 2",
    ]


def test_status_is_capped(tmp_path):
    repo = init_repo(tmp_path / "repo")
    commit_file(repo, "a.txt", "a\n", "first")
    for i in range(context.STATUS_MAX_LINES + 5):
        (repo / f"new{i:02}.txt").write_text("")
    lines = gather_repo_facts(repo).status.splitlines()
    assert len(lines) == context.STATUS_MAX_LINES + 1
    assert lines[-1] == "... 5 more"


def test_detached_head(tmp_path):
    repo = init_repo(tmp_path / "repo")
    commit_file(repo, "a.txt", "1\n", "one")
    commit_file(repo, "a.txt", "2\n", "two")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    facts = gather_repo_facts(repo)
    assert facts.branch is None
    sha = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert facts.recent_commits == (f"{sha} one",)
    assert f"- Git branch: detached at {sha}" in prompt(repo, tmp_path / "config")


def test_subfolder_of_a_repository(tmp_path):
    repo = init_repo(tmp_path / "repo")
    commit_file(repo, "top.txt", "", "top")
    commit_file(repo, "pkg/mod.py", "", "mod")
    commit_file(repo, "pkg/sub/deep.py", "", "deep")
    facts = gather_repo_facts(repo / "pkg")
    assert facts.root == repo.resolve()
    assert facts.cwd == (repo / "pkg").resolve()
    # the overview lists what lies below the working directory, as the tools will name it
    assert facts.overview == "./: mod.py\nsub/: deep.py"
    text = prompt(repo / "pkg", tmp_path / "config")
    assert f"- Repository root: {repo.resolve()}" in text


def test_ignored_files_stay_out_of_the_overview(tmp_path):
    repo = init_repo(tmp_path / "repo")
    commit_file(repo, ".gitignore", "*.log\n", "ignore logs")
    (repo / "debug.log").write_text("noise\n")
    (repo / "main.py").write_text("")
    assert gather_repo_facts(repo).overview == "./: .gitignore, main.py"


def test_large_repository_has_no_overview(tmp_path):
    repo = init_repo(tmp_path / "repo")
    for i in range(context.OVERVIEW_MAX_FILES + 1):
        (repo / f"m{i}.py").write_text("")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "many")
    facts = gather_repo_facts(repo)
    assert facts.overview == ""
    assert "## Files in the working directory" not in prompt(repo, tmp_path / "config")


def test_small_repository_overview_is_capped_in_size(tmp_path):
    repo = init_repo(tmp_path / "repo")
    for d in range(20):
        folder = repo / f"a_rather_long_folder_name_{d:02}"
        folder.mkdir()
        for f in range(9):
            (folder / f"module_with_a_long_name_{f}.py").write_text("")
    overview = gather_repo_facts(repo).overview
    assert 0 < len(overview) <= context.OVERVIEW_MAX_BYTES + 100
    assert overview.startswith("a_rather_long_folder_name_00/: module_with_a_long_name_0.py, ")
    assert overview.splitlines()[-1].endswith("more files in folders not listed")


def test_crowded_folder_line_is_cut(tmp_path):
    files = [f"pkg/file_number_{i:03}.py" for i in range(150)]
    overview = context.render_overview(files)
    assert overview.startswith("pkg/: file_number_000.py, file_number_001.py")
    assert len(overview) <= context.OVERVIEW_LINE_MAX_CHARS + 20
    shown = overview.count(".py")
    assert overview.endswith(f", ... (+{150 - shown})")


def test_machine_without_git(tmp_path):
    """Without a git executable the facts come back without an exception, from the folder."""
    repo = init_repo(tmp_path / "repo")
    commit_file(repo, "a.txt", "", "one")
    env = {"PATH": str(tmp_path / "no-bin"), "HOME": str(tmp_path)}
    code = (
        "import json, sys; from pathlib import Path; "
        "from glmcode.agent.context import gather_repo_facts; "
        "f = gather_repo_facts(Path(sys.argv[1])); "
        "print(json.dumps([f.is_git, f.branch, f.recent_commits, f.overview, f.status]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(repo)], env=env, capture_output=True, text=True,
        check=True,
    ).stdout
    is_git, branch, commits, overview, status = json.loads(out)
    # the overview comes from walking the folder, since git cannot list it
    assert overview == "./: a.txt"
    assert (is_git, branch, commits, status) == (False, None, [], "")


def _facts_with_git_on_path(folder: Path, bin_dir: Path, extra_env: dict[str, str]) -> bool:
    code = (
        "import sys; from pathlib import Path; "
        "from glmcode.agent.context import gather_repo_facts; "
        "print(gather_repo_facts(Path(sys.argv[1])).is_git)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **extra_env)
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder)], env=env, capture_output=True, text=True, check=True
    ).stdout
    return out.strip() == "True"


def test_a_folder_with_no_git_above_starts_no_git(tmp_path):
    """Outside any repository nothing is asked of git; inside one (or with GIT_DIR) it is."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "git-calls"
    real_git = subprocess.run(["which", "git"], capture_output=True, text=True, check=True).stdout.strip()
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\nexec "{real_git}" "$@"\n')
    wrapper.chmod(0o755)
    plain = tmp_path / "plain" / "deeper"
    plain.mkdir(parents=True)
    assert not _facts_with_git_on_path(plain, bin_dir, {})
    assert not calls.exists()

    repo = init_repo(tmp_path / "repo")
    commit_file(repo, "a.txt", "", "one")
    assert _facts_with_git_on_path(repo, bin_dir, {})
    assert "rev-parse --show-toplevel" in calls.read_text()

    elsewhere = tmp_path / "work-tree"
    elsewhere.mkdir()
    assert _facts_with_git_on_path(
        elsewhere, bin_dir, {"GIT_DIR": str(repo / ".git"), "GIT_WORK_TREE": str(elsewhere)}
    )


def test_reading_the_repository_leaves_its_index_alone(tmp_path):
    """A status run at start-up must not rewrite the user's index (git refreshes it otherwise)."""
    repo = init_repo(tmp_path / "repo")
    commit_file(repo, "a.txt", "one\n", "one")
    index = repo / ".git" / "index"
    before = index.read_bytes()
    os.utime(repo / "a.txt", (1, 1))  # a stat change git would otherwise record in the index
    context.gather_repo_facts(repo)
    assert index.read_bytes() == before


def test_commands_the_repository_runs_get_no_api_key(tmp_path, monkeypatch):
    """A repository's configuration can make git run a program (here its fsmonitor hook):
    it sees the environment, but not the user's key."""
    repo = init_repo(tmp_path / "repo")
    commit_file(repo, "a.txt", "one\n", "one")
    seen = tmp_path / "seen.txt"
    hook = tmp_path / "hook.sh"
    hook.write_text(f'#!/bin/sh\necho "key=$GLMCODE_API_KEY home=$HOME" >> {seen}\nexit 1\n')
    hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(hook))
    monkeypatch.setenv("GLMCODE_API_KEY", "sk-secret")
    context.gather_repo_facts(repo)
    lines = seen.read_text().splitlines()
    assert lines and all(line == f"key= home={os.environ['HOME']}" for line in lines)


# --- memory files -------------------------------------------------------------------------


def test_memory_files_from_global_to_nearest(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "AGENTS.md").write_text("global rules\n")
    repo = init_repo(tmp_path / "repo")
    (repo / "AGENTS.md").write_text("root agents\n")
    (repo / "GLMCODE.md").write_text("root glmcode\n")
    (repo / "pkg" / "sub").mkdir(parents=True)
    (repo / "pkg" / "AGENTS.md").write_text("pkg agents\n")
    (repo / "pkg" / "sub" / "GLMCODE.md").write_text("sub glmcode\n")
    (repo / "elsewhere").mkdir()
    (repo / "elsewhere" / "AGENTS.md").write_text("not on the way\n")

    found = find_memory_files(repo / "pkg" / "sub", repo, config)
    assert [(m.path, m.text) for m in found] == [
        (config / "AGENTS.md", "global rules"),
        (repo.resolve() / "AGENTS.md", "root agents"),
        (repo.resolve() / "GLMCODE.md", "root glmcode"),
        (repo.resolve() / "pkg" / "AGENTS.md", "pkg agents"),
        (repo.resolve() / "pkg" / "sub" / "GLMCODE.md", "sub glmcode"),
    ]
    assert not any(m.truncated for m in found)


def test_no_memory_files(tmp_path):
    assert find_memory_files(tmp_path, tmp_path, tmp_path / "config") == []
    assert "# Memory files" not in prompt(tmp_path, tmp_path / "config")


def test_blank_and_unreadable_memory_files_are_skipped(tmp_path):
    (tmp_path / "AGENTS.md").mkdir()  # a folder by that name is no memory file
    (tmp_path / "GLMCODE.md").write_text("  \n\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "AGENTS.md").symlink_to(tmp_path / "missing.md")
    (tmp_path / "sub" / "GLMCODE.md").write_bytes(b"caf\xe9 rules\n")
    found = find_memory_files(tmp_path / "sub", tmp_path, tmp_path / "config")
    assert [(m.path.name, m.text) for m in found] == [("GLMCODE.md", "caf\ufffd rules")]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_memory_file_without_read_permission_is_skipped(tmp_path):
    locked = tmp_path / "AGENTS.md"
    locked.write_text("secret\n")
    locked.chmod(0)
    (tmp_path / "GLMCODE.md").write_text("open\n")
    try:
        found = find_memory_files(tmp_path, tmp_path, tmp_path / "config")
    finally:
        locked.chmod(0o644)
    assert [m.path.name for m in found] == ["GLMCODE.md"]


def test_one_memory_file_is_capped(tmp_path):
    (tmp_path / "AGENTS.md").write_text("x" * (MEMORY_FILE_CAP + 500))
    [m] = find_memory_files(tmp_path, tmp_path, tmp_path / "config")
    assert m.truncated is True
    assert len(m.text) == MEMORY_FILE_CAP
    text = prompt(tmp_path, tmp_path / "config")
    assert "[truncated: only part of AGENTS.md fits in the memory budget" in text


def test_total_memory_cap_cuts_the_farthest_file_first(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    size = MEMORY_FILE_CAP - 1000
    (config / "AGENTS.md").write_text("g" * size)
    (tmp_path / "AGENTS.md").write_text("r" * size)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "AGENTS.md").write_text("s" * size)
    found = find_memory_files(tmp_path / "sub", tmp_path, config)
    assert [m.truncated for m in found] == [True, False, False]
    assert len(found[0].text) == MEMORY_TOTAL_CAP - 2 * size
    assert sum(len(m.text) for m in found) == MEMORY_TOTAL_CAP


def test_memory_outside_the_root_reads_only_the_working_directory(tmp_path):
    (tmp_path / "AGENTS.md").write_text("parent\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "AGENTS.md").write_text("here\n")
    found = find_memory_files(tmp_path / "other", tmp_path / "unrelated", tmp_path / "config")
    assert [m.text for m in found] == ["here"]


# --- the system prompt --------------------------------------------------------------------


def make_project(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "config"
    config.mkdir()
    (config / "AGENTS.md").write_text("Always answer in haiku.\n")
    repo = init_repo(tmp_path / "repo")
    commit_file(repo, "pyproject.toml", "[project]\nname = 'demo'\n", "Start the demo")
    commit_file(repo, "src/demo/__init__.py", "", "Add package")
    commit_file(repo, "AGENTS.md", "Run tests with `pytest -q`.\n", "Add agent notes")
    git(repo, "checkout", "-q", "-b", "work")
    (repo / "src" / "demo" / "__init__.py").write_text("VERSION = 1\n")
    return repo, config


def test_prompt_is_byte_identical_between_calls(tmp_path):
    repo, config = make_project(tmp_path)
    assert prompt(repo, config).encode() == prompt(repo, config).encode()


def test_prompt_holds_instructions_environment_and_memory(tmp_path):
    repo, config = make_project(tmp_path)
    text = prompt(repo, config)
    instructions = (Path(context.__file__).parent / "system_prompt.md").read_text().strip()
    assert text.startswith(instructions + "\n\n# Environment\n")
    assert f"- Working directory: {repo.resolve()}\n" in text
    assert "- Git branch: work\n" in text
    assert "- Date: 2025-03-14\n" in text
    assert "- Model: glm-4.6\n" in text
    assert " M src/demo/__init__.py" in text
    assert "Add agent notes" in text
    assert "src/demo/: __init__.py" in text
    assert f"## {config / 'AGENTS.md'}\nAlways answer in haiku." in text
    assert f"## {repo.resolve() / 'AGENTS.md'}\nRun tests with `pytest -q`." in text
    assert text.index("Always answer in haiku.") < text.index("Run tests with")
    assert text.endswith("Run tests with `pytest -q`.\n")


def test_prompt_for_a_small_repository_is_small(tmp_path):
    repo, config = make_project(tmp_path)
    assert len(prompt(repo, config).encode()) < 5 * 1024


def test_instructions_stay_short_and_name_every_tool():
    text = context.PROMPT_FILE.read_text(encoding="utf-8")
    assert len(text.encode()) <= 2560
    for tool in ("read_file", "write_file", "edit_file", "apply_patch", "run_shell", "grep",
                 "glob", "todo_write"):
        assert tool in text


def test_prompt_outside_git_says_so(tmp_path):
    (tmp_path / "notes.txt").write_text("")
    text = prompt(tmp_path, tmp_path / "config")
    assert "- Not a git repository\n" in text
    assert "Git status" not in text
    assert "./: notes.txt" in text


def test_default_date_is_today(tmp_path):
    import datetime

    before = datetime.date.today().isoformat()
    text = build_system_prompt(tmp_path, user_config_dir=tmp_path / "c", model="glm-4.6")
    after = datetime.date.today().isoformat()
    assert f"- Date: {before}\n" in text or f"- Date: {after}\n" in text


def test_module_prints_the_prompt_with_the_users_config_folder(tmp_path, monkeypatch, capsys):
    config_home = tmp_path / "xdg"
    (config_home / "glmcode").mkdir(parents=True)
    (config_home / "glmcode" / "AGENTS.md").write_text("Prefer tabs.\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    (tmp_path / "work").mkdir()
    assert context.main([str(tmp_path / "work"), "--model", "glm-4.5-air"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(context.PROMPT_FILE.read_text(encoding="utf-8").strip())
    assert "- Model: glm-4.5-air\n" in out
    assert f"## {config_home / 'glmcode' / 'AGENTS.md'}\nPrefer tabs.\n" in out


def test_failed_git_status_is_not_shown_as_clean():
    facts = context.RepoFacts(
        cwd=Path("/w"), root=Path("/w"), is_git=True, branch="main",
        status=context.STATUS_UNAVAILABLE, recent_commits=(), overview="",
    )
    text = context.render_environment(facts, model="glm-4.6", today="2025-03-14")
    assert "- Git branch: main\n" in text
    assert context.STATUS_UNAVAILABLE in text
    assert "(clean)" not in text
