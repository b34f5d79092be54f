from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from glmcode.tools.base import ToolContext, ToolError, ToolResult
from glmcode.tools.run_shell import TOOL
from glmcode.tools.shell_process import Capture
from glmcode.tools.truncate import head_tail


def run(ctx: ToolContext, command: str, **args: object) -> ToolResult:
    return TOOL.run(TOOL.validate({"command": command, **args}), ctx)


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(tmp_path)


def gone(pid: int, within: float = 10.0) -> bool:
    """Dead within `within` seconds (a zombie nobody has reaped yet counts). A killed process
    dies a moment after the signal is sent, so this waits on a pidfd, which becomes readable
    when the process exits, rather than looking once."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], within)[0])
    finally:
        os.close(fd)


def pids(result: ToolResult) -> list[int]:
    body = result.output.split("<stdout>\n", 1)[1].split("\n</stdout>", 1)[0]
    return [int(line) for line in body.splitlines()]


def test_schema_has_exactly_the_documented_parameters() -> None:
    params = TOOL.schema()["function"]["parameters"]
    assert list(params["properties"]) == ["command", "timeout", "description"]
    assert params["required"] == ["command"]
    assert TOOL.kind == "shell"
    assert len(TOOL.description.encode()) <= 700


def test_exit_code_stdout_and_stderr_are_reported(ctx: ToolContext) -> None:
    result = run(ctx, "echo out; echo err >&2; exit 3")
    assert result.is_error
    assert result.data == {"exit_code": 3, "timed_out": False, "duration": result.data["duration"]}
    assert result.output == "Exit code: 3\n<stdout>\nout\n</stdout>\n<stderr>\nerr\n</stderr>"
    assert result.model_output is None


def test_success_omits_empty_sections(ctx: ToolContext) -> None:
    assert run(ctx, "echo fine").output == "Exit code: 0\n<stdout>\nfine\n</stdout>"
    quiet = run(ctx, "true")
    assert not quiet.is_error
    assert quiet.output == "Exit code: 0\n(no output)"


def test_runs_in_the_workspace_with_pagers_off_and_stdin_closed(ctx: ToolContext) -> None:
    result = run(ctx, 'pwd; echo "$GLMCODE $PAGER $GIT_PAGER"; cat; echo made > made.txt')
    assert result.output.splitlines()[2:4] == [str(ctx.workspace.resolve()), "1 cat cat"]
    assert (ctx.workspace / "made.txt").read_text() == "made\n"


def test_the_api_key_is_not_in_the_commands_environment(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAI_API_KEY", "zai-secret")
    monkeypatch.setenv("GLMCODE_API_KEY", "glmcode-secret")
    result = run(ctx, 'echo "[$ZAI_API_KEY][$GLMCODE_API_KEY]"; env | grep -c secret')
    assert result.output.splitlines()[1:4] == ["<stdout>", "[][]", "0"]


def test_model_sees_head_and_tail_while_output_stays_whole(ctx: ToolContext) -> None:
    result = run(ctx, "seq 1 1000")
    assert result.output.splitlines()[2:-1] == [str(n) for n in range(1, 1001)]
    model = result.for_model.splitlines()
    assert model[2:102] == [str(n) for n in range(1, 101)]
    assert model[102] == "... 800 lines left out ..."
    assert model[103:203] == [str(n) for n in range(901, 1001)]


def test_timeout_kills_the_shell_and_the_child_it_spawned(ctx: ToolContext) -> None:
    result = run(ctx, "echo $$; sleep 30 & echo $!; wait", timeout=1)
    assert result.is_error
    assert result.data["timed_out"] is True
    assert result.output.startswith("Command timed out after 1 s; the process group was killed.")
    shell, child = pids(result)
    assert gone(shell) and gone(child)
    assert result.data["duration"] < 10


def test_children_that_ignore_sigterm_are_killed_too(ctx: ToolContext) -> None:
    result = run(ctx, "trap '' TERM; sleep 30 & echo $!; wait", timeout=0.5)
    assert result.data["timed_out"] is True
    assert all(gone(pid) for pid in pids(result))


def test_timeout_over_the_maximum_is_clamped_and_said(ctx: ToolContext) -> None:
    result = run(ctx, "echo ok", timeout=3600)
    assert not result.is_error
    assert result.output.splitlines()[0] == (
        "The timeout of 3600 s is over the 600 s maximum; 600 s was used."
    )


def test_bad_arguments_are_tool_errors(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="empty"):
        run(ctx, "  ")
    with pytest.raises(ToolError, match="more than 0"):
        run(ctx, "true", timeout=0)


def _start_and_wait_for_pid(tmp_path: Path) -> tuple[str, Path]:
    fifo = tmp_path / "ready"
    os.mkfifo(fifo)
    return f"sleep 30 & echo $! > {fifo}; wait", fifo


def test_cancel_from_another_thread_kills_the_group(ctx: ToolContext, tmp_path: Path) -> None:
    command, fifo = _start_and_wait_for_pid(tmp_path)
    child: list[int] = []

    def cancel_once_started() -> None:
        with open(fifo) as ready:  # blocks until the command has started its child
            child.append(int(ready.read()))
        ctx.cancel.set()

    canceller = threading.Thread(target=cancel_once_started)
    canceller.start()
    result = run(ctx, command, timeout=60)
    canceller.join()
    assert result.is_error
    assert result.output.startswith("Command cancelled; the process group was killed.")
    assert result.data["timed_out"] is False
    assert result.data["duration"] < 10
    assert gone(child[0])


def test_ctrl_c_kills_the_group_and_is_raised_again(ctx: ToolContext, tmp_path: Path) -> None:
    command, fifo = _start_and_wait_for_pid(tmp_path)
    child: list[int] = []
    main = threading.main_thread().ident
    assert threading.current_thread().ident == main

    def interrupt_once_started() -> None:
        with open(fifo) as ready:
            child.append(int(ready.read()))
        signal.pthread_kill(main, signal.SIGINT)  # type: ignore[arg-type]

    interrupter = threading.Thread(target=interrupt_once_started)
    interrupter.start()
    with pytest.raises(KeyboardInterrupt):
        run(ctx, command, timeout=60)
    interrupter.join()
    assert gone(child[0])


def test_ctrl_c_before_the_wait_begins_still_kills_the_group(
    ctx: ToolContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import selectors

    command, fifo = _start_and_wait_for_pid(tmp_path)
    child: list[int] = []

    def interrupted_while_setting_up() -> selectors.BaseSelector:
        with open(fifo) as ready:  # the command is running and has started its child
            child.append(int(ready.read()))
        raise KeyboardInterrupt

    monkeypatch.setattr(selectors, "DefaultSelector", interrupted_while_setting_up)
    with pytest.raises(KeyboardInterrupt):
        run(ctx, command, timeout=60)
    assert gone(child[0])


def test_several_megabytes_on_both_streams_do_not_deadlock(ctx: ToolContext) -> None:
    script = (
        "import sys\n"
        "for _ in range(40):\n"
        "    sys.stderr.write('e' * 99999 + '\\n'); sys.stderr.flush()\n"
        "    sys.stdout.write('o' * 99999 + '\\n'); sys.stdout.flush()\n"
    )
    (ctx.workspace / "noisy.py").write_text(script)
    result = run(ctx, f"{sys.executable} noisy.py", timeout=60)
    assert not result.is_error
    assert result.output.count("o") >= 40 * 99999
    assert result.output.count("e") >= 40 * 99999
    assert len(result.for_model) < 35_000
    assert "characters" in result.for_model and "left out" in result.for_model


def test_output_that_is_not_utf8_is_decoded_with_replacements(ctx: ToolContext) -> None:
    result = run(ctx, r"printf 'caf\351 ok\n'; printf '\377\376' >&2")
    assert "caf\ufffd ok" in result.output
    assert "<stderr>\n\ufffd\ufffd\n</stderr>" in result.output


def test_background_process_holding_the_output_does_not_block(ctx: ToolContext) -> None:
    result = run(ctx, "sleep 30 & echo $!")
    child = pids(result)[0]
    try:
        assert not result.is_error
        assert "still hold the output" in result.output
    finally:
        os.kill(child, signal.SIGKILL)


def test_head_tail_leaves_short_text_alone() -> None:
    assert head_tail("a\nb\n", head=1, tail=1) == "a\nb\n"
    assert head_tail("") == ""


def test_head_tail_cuts_lines_and_counts_them() -> None:
    text = "".join(f"{n}\n" for n in range(10))
    assert head_tail(text, head=2, tail=3) == "0\n1\n... 5 lines left out ...\n7\n8\n9\n"


def test_head_tail_char_cap_cuts_long_lines() -> None:
    text = "x" * 1000
    short = head_tail(text, max_chars=100)
    assert short == "x" * 50 + "\n... 900 characters (0 line breaks) left out ...\n" + "x" * 50
    many = "\n".join("y" * 30 for _ in range(10))
    cut = head_tail(many, max_chars=100)
    assert cut.startswith("y" * 30 + "\n")
    assert "lines left out" in cut and len(cut) < 200


def test_endless_output_keeps_its_start_and_its_end() -> None:
    capture = Capture(keep=10)
    for chunk in (b"0123456789", b"abc", b"defg", b"hijk", b"lmn"):
        capture.add(chunk)
    assert capture.text() == "0123456789\n... 3 bytes of output not kept ...\ndefghijklmn"
