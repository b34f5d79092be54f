"""Faults injected into real glmcode processes talking to the fake GLM server, and what came of
each: recovered (retried, compacted, restored) or reported, with the session still resumable
and no file damaged.

Run: python bench/faults.py            prints the table
     python bench/faults.py --markdown prints it as the Markdown table in docs/sessions.md

Each scenario starts glmcode in a scratch home and project, injects one fault, checks what the
user and the session file see, and then resumes the session with `exec --resume` to prove it
goes on. Nothing waits a fixed time: each step waits for something it can observe (a file, a
line in the session file, a request the server recorded). tests/test_faults.py runs the same
scenarios and fails on any problem.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glmcode.agent.sessions_store import replay
from glmcode.testing import FakeGLM

KEY = "fault-test-key-5b8e2d71c9a4"
WAIT = 30.0  # seconds before a wait for something observable gives up
# Patches os.replace so the process hangs just before (or just after) the rename that makes
# a write visible; the scenario kills it there, which is the moment a crash would hurt most.
WRITE_HOOK = """
import os, sys, time
stage, marker = os.environ["FAULT_STAGE"], os.environ["FAULT_MARKER"]
real_replace = os.replace
def replace(src, dst, *args, **kwargs):
    temporary = str(src).endswith(".glmcode-tmp")
    if temporary and stage == "before_rename":
        open(marker, "w").write("hung")
        time.sleep(3600)
    real_replace(src, dst, *args, **kwargs)
    if temporary and stage == "after_rename":
        open(marker, "w").write("hung")
        time.sleep(3600)
os.replace = replace
from glmcode.cli import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass
class Outcome:
    fault: str
    expected: str
    seen: list[str] = field(default_factory=list)  # what happened, for the table
    problems: list[str] = field(default_factory=list)  # failed checks; none means it held
    files: str = "none involved"  # what became of the files the turn was changing
    session: str = ""  # what resuming found, for the table

    @property
    def ok(self) -> bool:
        return not self.problems

    def check(self, condition: object, problem: str) -> bool:
        if not condition:
            self.problems.append(problem)
        return bool(condition)


class Lab:
    """A scratch home and a git project; runs glmcode there as a user would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.project = root / "project"
        self.project.mkdir(parents=True)
        subprocess.run(["git", "init", "-q"], cwd=self.project, check=True)
        self.env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("GLMCODE_", "ZAI_", "XDG_")) and k not in ("HOME", "HTTPS_PROXY", "HTTP_PROXY")
        }
        self.env.update({
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "ZAI_API_KEY": KEY,
            "NO_PROXY": "127.0.0.1,localhost",
        })

    def config(self, text: str) -> None:
        path = self.home / ".config" / "glmcode" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    @staticmethod
    def command(args: list[str], hook: str | None = None) -> list[str]:
        return [sys.executable, *(["-c", hook] if hook else ["-m", "glmcode"]), *args]

    def run(self, args: list[str], fake: FakeGLM, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "GLMCODE_BASE_URL": fake.base_url}
        return subprocess.run(self.command(args), cwd=self.project, env=env, input=stdin,
                              capture_output=True, text=True, timeout=120)

    def start(self, args: list[str], fake: FakeGLM, *, hook: str | None = None,
              extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        env = {**self.env, "GLMCODE_BASE_URL": fake.base_url, **(extra_env or {})}
        return subprocess.Popen(self.command(args, hook), cwd=self.project, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)

    def sessions(self) -> list[Path]:
        return sorted((self.home / ".local" / "state" / "glmcode" / "sessions").glob("*/*.jsonl"))

    def session_has(self, kind: str) -> bool:
        return any(f'"type": "{kind}"' in p.read_text(encoding="utf-8", errors="replace") for p in self.sessions())


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.01)


def kill(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # glmcode and any command it started
    proc.communicate(timeout=WAIT)


def events(stdout: str) -> list[dict[str, Any]]:
    out = []
    for line in stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def conversation_problems(messages: list[dict[str, Any]]) -> list[str]:
    """What would make GLM reject this conversation: calls without results, results without
    calls, a non-system first message."""
    problems = []
    if not messages or messages[0].get("role") != "system":
        problems.append("the conversation does not start with the system prompt")
    pending: set[str] = set()
    for m in messages[1:]:
        if m.get("role") == "tool":
            if m.get("tool_call_id") not in pending:
                problems.append(f"a result for {m.get('tool_call_id')} that no call asked for")
            pending.discard(m.get("tool_call_id"))
            continue
        if pending:
            problems.append(f"calls without results: {sorted(pending)}")
        pending = {c["id"] for c in m.get("tool_calls") or ()}
    if pending:
        problems.append(f"calls without results at the end: {sorted(pending)}")
    return problems


def check_resumable(lab: Lab, out: Outcome, *, interrupted: bool = False) -> None:
    """The session file reads back whole and the session goes on with `exec --resume`."""
    sessions = lab.sessions()
    if not out.check(len(sessions) == 1, f"expected one session file, found {len(sessions)}"):
        return
    state = replay(sessions[0])
    out.check(state.skipped_lines == 0, f"{state.skipped_lines} unreadable lines in the session file")
    out.check(bool(state.interrupted) == interrupted,
              f"interruption notes {state.interrupted!r}, expected {'some' if interrupted else 'none'}")
    with FakeGLM([{"content": "Still here."}]) as fake:
        proc = lab.run(["exec", "-o", "json", "--resume", state.session_id, "are you still there?"], fake)
        result = events(proc.stdout)[-1] if events(proc.stdout) else {}
        out.check(proc.returncode == 0 and result.get("result") == "Still here.",
                  f"exec --resume failed ({proc.returncode}): {proc.stderr[-300:]}")
        out.check(result.get("session_id") == state.session_id, "the resumed run has another session id")
        if fake.requests:
            sent = fake.requests[0].body["messages"]
            for problem in conversation_problems(sent):
                out.problems.append(f"resumed conversation: {problem}")
            out.check(sent[-1] == {"role": "user", "content": "are you still there?"}, "the new prompt is not last")
    out.check(len(lab.sessions()) == 1, "resuming made a new session file")
    again = replay(sessions[0])
    out.check(again.interrupted == [] and not conversation_problems(again.messages),
              f"after resuming, the session file reads back as {again.interrupted!r}")
    out.seen.append("resumed")
    out.session = "resumed" + (": " + "; ".join(state.interrupted) if state.interrupted else "")


# -- the scenarios ----------------------------------------------------------------------------

REPLY = {"reasoning": ["I will ", "append ", "a line."], "content": ["Appending ", "the ", "line ", "now."],
         "tool_calls": [{"name": "run_shell", "id": "call_log", "arguments": {"command": "printf 'x\\n' >> log.txt"}}]}
DONE = {"content": "The line is there."}


def _cut(where: str, cut_after: int) -> Callable[[Lab], Outcome]:
    def scenario(lab: Lab) -> Outcome:
        out = Outcome(f"stream cut {where}", "retried; the tool runs once")
        with FakeGLM([{**REPLY, "cut_after": cut_after}, REPLY, DONE]) as fake:
            proc = lab.run(["exec", "--full-auto", "-o", "stream-json", "append a line to log.txt"], fake)
        seen = events(proc.stdout)
        out.check(proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-300:]}")
        if out.check(any(e["type"] == "retrying" for e in seen), "no retry announced"):
            out.seen.append("retried")
        if out.check((lab.project / "log.txt").read_text() == "x\n", "the command did not run exactly once"):
            out.files = "the command ran once"
        out.check(seen[-1].get("result") == "The line is there.", "wrong final answer")
        check_resumable(lab, out)
        return out

    return scenario


def _exec_events(lab: Lab, out: Outcome, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of one `exec -o stream-json` run against `replies`, which must succeed."""
    with FakeGLM(replies) as fake:
        proc = lab.run(["exec", "-o", "stream-json", "hi"], fake)
    out.check(proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-300:]}")
    return events(proc.stdout)


def _retried(fault: str, first: dict[str, Any]) -> Callable[[Lab], Outcome]:
    """A first reply that fails in the stream, then a good one: glmcode retries."""
    def scenario(lab: Lab) -> Outcome:
        out = Outcome(fault, "retried")
        if out.check(any(e["type"] == "retrying" for e in _exec_events(lab, out, [first, DONE])), "no retry"):
            out.seen.append("retried")
        check_resumable(lab, out)
        return out

    return scenario


def rate_limited(lab: Lab) -> Outcome:
    out = Outcome("429 with Retry-After: 0.3", "waits what the server asks, then retried")
    busy = {"error": {"status": 429, "code": "1302", "message": "High concurrency", "retry_after": 0.3}}
    waits = [e["wait"] for e in _exec_events(lab, out, [busy, DONE]) if e["type"] == "retrying"]
    if out.check(waits == [0.3], f"waited {waits}, not the 0.3 s asked"):
        out.seen.append("waited 0.3 s, retried")
    check_resumable(lab, out)
    return out


def server_down(lab: Lab) -> Outcome:
    out = Outcome("HTTP 500 on every attempt", "reported after the last retry; exit 1")
    failing = {"error": {"status": 500, "code": "500", "message": "Internal error", "retry_after": 0.01}}
    with FakeGLM([failing] * 6) as fake:
        proc = lab.run(["exec", "-o", "json", "hi"], fake)
        attempts = len(fake.requests)
    result = events(proc.stdout)[-1] if events(proc.stdout) else {}
    error = result.get("error") or {}
    out.check(proc.returncode == 1, f"exit {proc.returncode}, expected 1")
    out.check(attempts == 6, f"{attempts} attempts, expected 6")
    if out.check("gave up after 6 attempts" in str(error.get("message")), f"unclear error: {error}"):
        out.seen.append("reported: " + str(error.get("message")))
    check_resumable(lab, out, interrupted=True)
    return out


def read_timeout(lab: Lab) -> Outcome:
    out = Outcome("no first byte within the read timeout (2 s)", "retried")
    lab.config("timeout = 2\n")
    seen = _exec_events(lab, out, [{**DONE, "first_byte_delay": 30}, DONE])
    reasons = [e["reason"] for e in seen if e["type"] == "retrying"]
    if out.check(any("read timeout" in r for r in reasons), f"no read-timeout retry: {reasons}"):
        out.seen.append("timed out after 2 s, retried")
    check_resumable(lab, out)
    return out


def stalled_stream(lab: Lab) -> Outcome:
    out = Outcome("a stream that stalls mid-reply past the read timeout", "retried")
    lab.config("timeout = 2\n")
    seen = _exec_events(lab, out, [{"content": ["Half ", "an ", "answer"], "delay": 30}, DONE])
    reasons = [e["reason"] for e in seen if e["type"] == "retrying"]
    out.check(seen[-1].get("result") == "The line is there.", "wrong final answer")
    if out.check(any("read timeout" in r for r in reasons), f"no read-timeout retry: {reasons}"):
        out.seen.append("retried")
    check_resumable(lab, out)
    return out


def killed_mid_stream(lab: Lab) -> Outcome:
    out = Outcome("kill -9 while the reply streams", "resumes; the cut reply is noted")
    slow = {"content": ["word "] * 2000, "delay": 0.01}
    with FakeGLM([slow]) as fake:
        proc = lab.start(["exec", "-o", "stream-json", "write a lot"], fake)
        wait_for(lambda: lab.session_has("turn_started") and bool(fake.requests), "the turn to start")
        wait_for(lambda: proc.stdout is not None and '"type": "text"' in (proc.stdout.readline() or ""), "text")
        kill(proc)
    out.seen.append("killed")
    check_resumable(lab, out, interrupted=True)
    return out


def killed_mid_tool(lab: Lab) -> Outcome:
    out = Outcome("kill -9 while a command runs", "resumes; the call is answered as interrupted")
    hang = {"tool_calls": [{"name": "run_shell", "id": "call_hang",
                            "arguments": {"command": "touch started.txt; sleep 3600"}}]}
    with FakeGLM([hang]) as fake:
        proc = lab.start(["exec", "--full-auto", "start it"], fake)
        wait_for(lambda: (lab.project / "started.txt").exists(), "the command to start")
        kill(proc)
    out.seen.append("killed")
    state = replay(lab.sessions()[0])
    out.check([r["tool_call_id"] for r in state.repairs] == ["call_hang"], f"repairs: {state.repairs}")
    check_resumable(lab, out, interrupted=True)
    return out


def _killed_writing(stage: str) -> Callable[[Lab], Outcome]:
    def scenario(lab: Lab) -> Outcome:
        when = "before" if stage == "before_rename" else "after"
        keeps = "old" if stage == "before_rename" else "new"
        out = Outcome(f"kill -9 writing a 200 KB file, just {when} the rename", f"the file holds the {keeps} content whole")
        target = lab.project / "data.txt"
        old = "old line\n" * 20_000
        new = "new line\n" * 23_000
        target.write_text(old)
        write = {"tool_calls": [{"name": "write_file", "id": "call_w", "arguments": {"path": "data.txt", "content": new}}]}
        marker = lab.root / "hung"
        with FakeGLM([write]) as fake:
            proc = lab.start(["exec", "--full-auto", "rewrite data.txt"], fake, hook=WRITE_HOOK,
                             extra_env={"FAULT_STAGE": stage, "FAULT_MARKER": str(marker)})
            wait_for(marker.exists, "the write to reach the rename")
            kill(proc)
        content = target.read_text()
        out.check(content == (old if keeps == "old" else new), "the file is neither the old nor the new content")
        out.seen.append("killed")
        had_temp = any(p.name.endswith(".glmcode-tmp") for p in lab.project.iterdir())
        check_resumable(lab, out, interrupted=True)
        leftovers = [p.name for p in lab.project.iterdir() if p.name.endswith(".glmcode-tmp")]
        out.check(not leftovers, f"temporary files left after resuming: {leftovers}")
        out.files = f"{keeps} content, whole" + ("; the temporary file removed on resume" if had_temp else "")
        return out

    return scenario


def truncated_session_file(lab: Lab) -> Outcome:
    out = Outcome("power loss: the session file's last line cut in half", "resumes from the whole lines")
    with FakeGLM([DONE]) as fake:
        lab.run(["exec", "hi"], fake)
    path = lab.sessions()[0]
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\n", 0, len(data) - 1) + 40])
    out.seen.append("read up to the last whole line; the fragment dropped on resume")
    check_resumable(lab, out, interrupted=True)
    return out


WINDOW = 204_800  # glm-4.6's context window in tokens; the fake counts 4 bytes of request a token
SUMMARY = "## Goal\nRead the files.\n## Decisions\n-\n## Files touched\n- big*.txt\n## Open work\n-"


def _filling_model(plan: list[dict[str, Any]], refused: list[int], sizes: list[int]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A model with glm-4.6's window: a request over it gets error 1261; one that fits plays
    the next step of `plan`; a request without tools (the summary) gets a summary."""

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if "tools" not in body:
            return {"content": SUMMARY}
        size = len(json.dumps(body, ensure_ascii=False).encode())
        sizes.append(size)
        if size // 4 > WINDOW:
            refused.append(size)
            return {"error": {"status": 400, "code": "1261", "message": "Prompt exceeds max length"}}
        return plan.pop(0)

    return model


def _reads(first: int, count: int) -> dict[str, Any]:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": f"big{n}.txt"}} for n in range(first, first + count)]}


def _big_files(lab: Lab, count: int) -> None:
    for n in range(count):  # about 80,000 characters each as read_file shows them
        (lab.project / f"big{n}.txt").write_text("".join(f"{n:02} line {i:05} of a large file, padded out\n" for i in range(1600)))


def context_full(lab: Lab) -> Outcome:
    out = Outcome("the prompt outgrows the window (GLM error 1261): files in Chinese, which take "
                  "three times the tokens estimated", "compacted, then the request fits")
    for n in range(14):  # about 20,000 characters, 60 KB, each
        (lab.project / f"zh{n}.txt").write_text("".join(f"第{i}行：这是一个很长的中文文件。\n" for i in range(1200)))
    refused: list[int] = []
    sizes: list[int] = []
    reads = {"tool_calls": [{"name": "read_file", "arguments": {"path": f"zh{n}.txt"}} for n in range(14)]}
    plan = [reads, {"content": "全部读完了。"}]
    with FakeGLM([_filling_model(plan, refused, sizes)] * 6) as fake:
        proc = lab.run(["exec", "-o", "stream-json", "读所有文件"], fake)
    seen = events(proc.stdout)
    out.check(proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-300:]}")
    out.check(len(refused) == 1, f"{len(refused)} requests refused, expected 1")
    if out.check(any(e["type"] == "compacted" for e in seen), "no compaction"):
        out.seen.append(f"refused at {refused[0] // 4:,} tokens; compacted; the retry sent {sizes[-1] // 4:,}")
    out.check(seen[-1].get("result") == "全部读完了。", "the run did not finish")
    check_resumable(lab, out)
    return out


def context_threshold(lab: Lab) -> Outcome:
    out = Outcome("the prompt passes 80 % of the window", "compacted before the request; nothing refused")
    _big_files(lab, 8)
    refused: list[int] = []
    sizes: list[int] = []
    plan = [_reads(0, 8), {"content": "Read them all."}]
    with FakeGLM([_filling_model(plan, refused, sizes)] * 4) as fake:
        proc = lab.run(["exec", "-o", "stream-json", "read the eight big files"], fake)
    seen = events(proc.stdout)
    out.check(proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-300:]}")
    out.check(not refused, f"{len(refused)} requests refused")
    if out.check(any(e["type"] == "compacted" for e in seen), "no compaction"):
        out.seen.append(f"compacted; the next request sent {sizes[-1] // 4:,} tokens")
    out.check(seen[-1].get("result") == "Read them all.", "the run did not finish")
    check_resumable(lab, out)
    return out


def repeating_model(lab: Lab) -> Outcome:
    out = Outcome("the model repeats one call forever", "told after 3, stopped after 4; exit 1")
    same = {"tool_calls": [{"name": "glob", "arguments": {"pattern": "*.md"}}]}
    with FakeGLM([same] * 6) as fake:
        proc = lab.run(["exec", "-o", "json", "find the docs"], fake)
        asked = len(fake.requests)
    result = events(proc.stdout)[-1] if events(proc.stdout) else {}
    out.check(proc.returncode == 1 and (result.get("error") or {}).get("kind") == "loop", f"result {result}")
    if out.check(asked == 4, f"{asked} requests, expected 4"):
        out.seen.append("a note with the 3rd call's result; the 4th stopped the run: exit 1, error kind loop")
    check_resumable(lab, out)
    return out


def undo_after_shell(lab: Lab) -> Outcome:
    out = Outcome("/undo after edits and files made by shell commands", "every file back, byte for byte")
    (lab.project / "a.py").write_bytes(b"A = 1\r\n")
    (lab.project / "b.txt").write_bytes("b\u00e9\n".encode("latin-1"))
    before = {p.name: p.read_bytes() for p in lab.project.iterdir() if p.is_file()}
    turns = [
        {"tool_calls": [{"name": "edit_file", "arguments": {"path": "a.py", "old_string": "A = 1", "new_string": "A = 2"}},
                        {"name": "write_file", "arguments": {"path": "b.txt", "content": "replaced\n"}}]},
        {"tool_calls": [{"name": "run_shell", "arguments": {"command": "mkdir -p out && echo made > out/c.txt && rm a.py"}}]},
        DONE,
    ]
    with FakeGLM(turns) as fake:
        proc = lab.run(["--full-auto"], fake, stdin="change the files\n/undo\ny\n")
    out.check(proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-300:]}")
    after = {p.name: p.read_bytes() for p in lab.project.iterdir() if p.is_file()}
    if out.check(after == before and not (lab.project / "out").exists(), "the tree differs from before the turn"):
        out.seen.append("asked, then restored")
        out.files = ("a.py (edited, then deleted by a command) and b.txt (Latin-1, rewritten) back byte "
                     "for byte; out/c.txt (made by a command) removed")
    check_resumable(lab, out)
    return out


SCENARIOS: dict[str, Callable[[Lab], Outcome]] = {
    "cut_before_reasoning": _cut("before the first byte of reasoning", 0),
    "cut_mid_reasoning": _cut("mid-reasoning", 2),
    "cut_mid_text": _cut("mid-text", 5),
    "cut_mid_tool_call": _cut("mid tool-call arguments", 10),
    "cut_before_done": _cut("after the last chunk, before [DONE]", 19),
    "malformed_chunk": _retried("a chunk that is not JSON", {**DONE, "malformed_at": 1}),
    "error_in_stream": _retried(
        "an error event inside the stream (code 1234)",
        {**DONE, "stream_error": {"code": "1234", "message": "network error"}},
    ),
    "rate_limited": rate_limited,
    "server_down": server_down,
    "read_timeout": read_timeout,
    "stalled_stream": stalled_stream,
    "killed_mid_stream": killed_mid_stream,
    "killed_mid_tool": killed_mid_tool,
    "killed_before_rename": _killed_writing("before_rename"),
    "killed_after_rename": _killed_writing("after_rename"),
    "truncated_session_file": truncated_session_file,
    "context_full": context_full,
    "context_threshold": context_threshold,
    "repeating_model": repeating_model,
    "undo_after_shell": undo_after_shell,
}


@contextmanager
def scratch() -> Iterator[Lab]:
    root = Path(tempfile.mkdtemp(prefix="glmcode-fault-"))
    try:
        yield Lab(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_scenario(name: str) -> Outcome:
    with scratch() as lab:
        try:
            return SCENARIOS[name](lab)
        except Exception as exc:  # a scenario that breaks is a failed scenario, with its reason
            return Outcome(name, "", problems=[f"{type(exc).__name__}: {exc}"])


def run_all(workers: int = 4) -> dict[str, Outcome]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(SCENARIOS, pool.map(run_scenario, SCENARIOS)))


def main() -> None:
    markdown = "--markdown" in sys.argv[1:]
    outcomes = list(run_all().values())
    if markdown:
        print("| fault injected | what glmcode did | files | the session afterwards |")
        print("|---|---|---|---|")
    for out in outcomes:
        did = "; ".join(s for s in out.seen if s != "resumed") or "-"
        if not out.ok:
            did = "FAILED: " + "; ".join(out.problems)
        if markdown:
            print(f"| {out.fault} | {did} | {out.files} | {out.session or 'not resumable'} |")
        else:
            print(f"{'ok  ' if out.ok else 'FAIL'} {out.fault}\n     did: {did}\n     files: {out.files}\n"
                  f"     session: {out.session or 'not resumable'}")
    failed = sum(not o.ok for o in outcomes)
    print(f"\n{len(outcomes) - failed} of {len(outcomes)} faults recovered or reported with the session resumable.",
          file=sys.stderr)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
