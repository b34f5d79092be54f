"""Checkpoints at any repository size: the first turn that edits a file, in git repositories of
100, 10,000 and (with --full) 100,000 files, against the fake server on 127.0.0.1.

Run: python bench/checkpoints.py [--full] [--runs N] [--model-delay SECONDS] [--interactive]
Each run is the first edit turn of a new session in a repository glmcode has never seen (a
fresh state folder): the model asks to edit one file, glmcode snapshots the project, edits,
asks again and snapshots the run's end, as the interactive session does. Prints the median turn
time (until the prompt would be back) and processor time (all of the turn's work, the snapshot
of its end included), each as a ratio to the 100-file case (on a busy machine the processor
time is the steadier of the two), the shadow repository's size on disk, and checks that
/undo's plan puts the file back. `--model-delay` makes each model reply wait that long before
its first byte, as a real model does; the turn's time then has the model's own time taken off.
`--interactive` also runs `glmcode --full-auto` in a pseudo-terminal (it needs the test
extras: pexpect, pyte), as a user would: the time from Enter to the prompt coming back after
the model's edit, then `/undo`, checking that the file is put back.
Target: 30,000 files within 2x of 100 files; the shadow repository a few MB, not a copy.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from glmcode.agent.drive import drive
from glmcode.agent.rewind import restore_files, undo_plan
from glmcode.agent.sessions_store import replay
from glmcode.agent.setup import open_workspace, settle_checkpoints
from glmcode.config.layers import load_settings
from glmcode.testing import FakeGLM

PER_FOLDER = 100


def make_repo(root: Path, files: int) -> None:
    """`files` small source files in folders of 100, committed, as a cloned project is."""
    for n in range(files):
        folder = root / f"pkg{n // 10_000:02d}" / f"mod{(n // PER_FOLDER) % 100:02d}"
        if n % PER_FOLDER == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file{n}.py").write_text(f"VALUE_{n} = {n}\n" + "# a line of a source file\n" * 20)
    git = ["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "gc.auto=0"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "start"], check=True)
    subprocess.run([*git, "status", "--short"], check=True, stdout=subprocess.DEVNULL)


def target(n: int) -> str:
    return f"pkg{n // 10_000:02d}/mod{(n // PER_FOLDER) % 100:02d}/file{n}.py"


def disk_bytes(root: Path) -> int:
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            total += os.lstat(os.path.join(folder, name)).st_blocks * 512
    return total


def cpu_seconds() -> float:
    """This process's processor time and that of the git commands it ran (all waited for)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def first_edit_turn(repo: Path, n: int, delay: float) -> tuple[float, float, int]:
    """One new session's first edit turn: its seconds (less the model's own time), the processor
    seconds it took (the fake server's included, a small constant), and the size of the shadow
    repository it left."""
    path = target(n)
    old = f"VALUE_{n} = {n}"
    home = Path(tempfile.mkdtemp(prefix="glmcode-bench-ckpt-"))
    fake = FakeGLM([
        {"tool_calls": [{"name": "edit_file", "arguments": {"path": path, "old_string": old,
                                                            "new_string": f"VALUE_{n} = -1"}}],
         "first_byte_delay": delay},
        {"content": "Changed it.", "first_byte_delay": delay},
    ])
    fake.start()
    try:
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
               "XDG_STATE_HOME": str(home / "state"), "ZAI_API_KEY": "bench-key",
               "GLMCODE_BASE_URL": fake.base_url, "NO_PROXY": "127.0.0.1"}
        settings = load_settings(repo, env, {"permission_mode": "full-auto"})
        ws = open_workspace(settings, repo, approver=None, checkpoints=True, env=env)
        start, cpu = time.perf_counter(), cpu_seconds()
        drive(ws.agent.run("change the value"), lambda event: None)
        elapsed = time.perf_counter() - start - 2 * delay
        settle_checkpoints(ws)  # the end of the run, snapshotted on a thread: its work counts too
        cpu = cpu_seconds() - cpu
        full = repo / path
        if f"VALUE_{n} = -1" not in full.read_text():
            raise SystemExit(f"the edit did not happen in {path}")
        recorder = ws.agent.before_changes
        state = replay(ws.session.path)
        plan = undo_plan(recorder.repo, state)
        if plan is None or [c.path for c in plan.changes] != [path]:
            raise SystemExit(f"/undo's plan is wrong: {plan}")
        restore_files(recorder.repo, plan, state, ws.session)
        if old not in full.read_text():
            raise SystemExit(f"/undo did not put {path} back")
        ws.session.close()
        # The user's own git (or an editor's) refreshes the index as it runs; /undo rewrote a file.
        subprocess.run(["git", "-C", str(repo), "status", "--short"], check=True, stdout=subprocess.DEVNULL)
        return elapsed, cpu, disk_bytes(home / "state" / "glmcode" / "checkpoints")
    finally:
        fake.stop()
        subprocess.run(["rm", "-rf", str(home)], check=False)


def interactive_turn(repo: Path, n: int) -> float:
    """The first edit turn of `glmcode --full-auto` in a terminal, Enter to prompt; then /undo."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from tui_harness import Term

    path, old = target(n), f"VALUE_{n} = {n}"
    home = Path(tempfile.mkdtemp(prefix="glmcode-bench-tui-"))
    fake = FakeGLM([
        {"tool_calls": [{"name": "edit_file", "arguments": {"path": path, "old_string": old,
                                                            "new_string": f"VALUE_{n} = -1"}}]},
        {"content": "Changed it."},
    ])
    fake.start()
    term = Term(["--full-auto"], repo, fake.base_url, {
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "XDG_STATE_HOME": str(home / "state")})
    ready = lambda screen: "(shift-tab)" in term.bottom()  # noqa: E731 - the prompt is back
    try:
        term.wait(ready, timeout=60)
        start = time.perf_counter()
        term.send("change the value\r")
        term.wait(lambda screen: "Changed it." in screen and ready(screen), timeout=120)
        elapsed = time.perf_counter() - start
        term.send("/undo\r")
        term.wait("Put back 1 file? [y/N]", timeout=60)
        term.send("y\r")
        term.wait("Done: 1 file put back.", timeout=60)
        if old not in (repo / path).read_text():
            raise SystemExit(f"/undo did not put {path} back")
        term.send("/exit\r")
        term.wait_exit(timeout=30)
        subprocess.run(["git", "-C", str(repo), "status", "--short"], check=True, stdout=subprocess.DEVNULL)
        return elapsed
    finally:
        term.close()
        fake.stop()
        subprocess.run(["rm", "-rf", str(home)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add the 100,000-file repository (its set-up takes a minute)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model-delay", type=float, default=0.0)
    parser.add_argument("--interactive", action="store_true", help="also time the turn in a terminal session")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None,
                        help="file counts to try, comma-separated (the first is the base of the ratios)")
    args = parser.parse_args()
    sizes = args.sizes or ([100, 10_000, 100_000] if args.full else [100, 10_000])
    base = None
    tui_base = None
    print(f"first edit turn, median of {args.runs} new sessions (model delay {args.model_delay:g} s, taken off)")
    with tempfile.TemporaryDirectory(prefix="glmcode-bench-repos-") as scratch:
        for files in sizes:
            repo = Path(scratch) / f"repo{files}"
            repo.mkdir()
            start = time.perf_counter()
            make_repo(repo, files)
            made = time.perf_counter() - start
            first_edit_turn(repo, 1, args.model_delay)  # warm-up: imports, the page cache
            samples = [first_edit_turn(repo, 2 + run, args.model_delay) for run in range(args.runs)]
            turn = statistics.median(s for s, _, _ in samples)
            cpu = statistics.median(c for _, c, _ in samples)
            size = max(b for _, _, b in samples)
            base = base or (turn, cpu)
            git_size = disk_bytes(repo / ".git")
            print(f"{files:>8,} files  {turn:6.3f} s {turn / base[0]:5.2f}x   processor {cpu:6.3f} s {cpu / base[1]:5.2f}x"
                  f"   shadow repository {size / 1e6:6.2f} MB  (the project's .git {git_size / 1e6:,.0f} MB;"
                  f" set up in {made:.0f} s)")
            if args.interactive:
                seen = statistics.median(interactive_turn(repo, 50 + run) for run in range(args.runs))
                tui_base = tui_base or seen
                print(f"{'':>8}        in a terminal (glmcode --full-auto, Enter to prompt, then /undo):"
                      f" {seen:6.3f} s {seen / tui_base:5.2f}x")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
