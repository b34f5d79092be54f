"""The `glmcode` command.

`main` answers `--version` before importing anything: typer, rich and httpx together cost
more than Python's own start-up, and the version is asked for by scripts that want it now.
Everything else is built by `build_app`, whose commands import what they use when they run.
"""

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from glmcode import __version__

if TYPE_CHECKING:
    from glmcode.ui.answer import AnswerOptions

OUTPUT_FORMATS = ("text", "json", "stream-json")
SUBCOMMANDS = ("exec", "fix", "config", "trust", "chat", "resume", "sessions", "acp", "mcp")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        sys.stdout.write(f"glmcode {__version__}\n")
        return 0
    if _first_word(args) not in SUBCOMMANDS and not any(a in ("-h", "--help") for a in args):
        args = ["chat", *args]  # `glmcode` and `glmcode "prompt"` open the interactive session
    params = None
    if args[:1] == ["exec"]:
        from glmcode.ui.exec_args import parse

        params = parse(args[1:])  # None: typer reads them (help, errors, unusual spellings)
    code = _run(build_app(), args) if params is None else _run_exec(params)
    if argv is None and _first_word(args) == "exec":
        _exit_now(code)
    return code


def _run_exec(params: dict[str, Any]) -> int:
    """`glmcode exec` with its arguments already read, ending as typer would end it."""
    from glmcode.llm.tls import EarlyContext

    tls = EarlyContext()  # loads the certificates while the rest is imported
    from glmcode.ui.headless import exec_command

    try:
        return exec_command(
            params["prompt"], _flags(params), cd=params["cd"], output_format=params["output_format"],
            verbose=params["verbose"], max_turns=params["max_turns"], resume=params["resume"],
            answer=_answer(params),
            images=params["image"],
            tls=tls,
        )
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        return 130
    except EOFError:
        sys.stderr.write("\nAborted!\n")
        return 1
    except BrokenPipeError:
        # As click does: the reader went away, so say nothing more and fail quietly.
        import os

        sys.stdout = sys.stderr = open(os.devnull, "w")
        return 1


def _run(app: Any, args: list[str]) -> int:
    try:
        app(args=args, prog_name="glmcode")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        return 130
    return 0


def _exit_now(code: int) -> None:
    """Ends a finished `exec` run without tearing the interpreter down: freeing every module
    and the TLS certificates takes 20-30 ms, longer than some turns' own work after start-up.
    The session file is closed by then; only a flush that fails, or a thread that is not a
    daemon still running, sends the exit the ordinary way (which reports them)."""
    import os
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


# Options of the interactive session that take a value, so the value is not read as a command.
_VALUE_OPTIONS = frozenset(
    {"-m", "--model", "--provider", "--base-url", "--permission-mode", "--add-dir", "-C", "--cd", "--max-tokens",
     "--sandbox", "--mcp-config"}
)


def _first_word(args: list[str]) -> str | None:
    """The first argument that is neither an option nor an option's value: the command name,
    or the first prompt (`glmcode "explain config"` is a prompt, not the `config` command)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _VALUE_OPTIONS
        else:
            return arg
    return None


def build_app() -> Any:
    import typer

    from glmcode.llm.catalog import PROVIDERS
    from glmcode.permissions.modes import MODES

    app = typer.Typer(
        add_completion=False,
        no_args_is_help=False,
        invoke_without_command=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        help="glmcode: a terminal coding agent for GLM-4.6.",
        epilog="`glmcode [PROMPT]` opens the interactive session; `glmcode -c` continues the latest one.",
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
    )

    model_opt = typer.Option(None, "--model", "-m", help="Model name (default glm-4.6).")
    provider_opt = typer.Option(None, "--provider", help=f"Endpoint profile: {', '.join(PROVIDERS)}.")
    base_url_opt = typer.Option(None, "--base-url", help="API base URL (overrides the provider's).")
    mode_opt = typer.Option(None, "--permission-mode", help=f"Permission mode: {', '.join(MODES)}.")
    full_auto_opt = typer.Option(False, "--full-auto", help="Same as --permission-mode full-auto.")
    add_dir_opt = typer.Option(None, "--add-dir", help="Another folder the agent may write (repeatable).")
    sandbox_opt = typer.Option(None, "--sandbox", help="Where commands run: workspace-write, read-only or off.")
    cwd_opt = typer.Option(None, "--cd", "-C", help="Work in this folder instead of the current one.")
    max_tokens_opt = typer.Option(None, "--max-tokens", help="Output token budget per request.")
    thinking_opt = typer.Option(None, "--thinking/--no-thinking", help="Let the model reason first.")
    no_web_opt = typer.Option(False, "--no-web", help="Turn web_fetch and web_search off for this run.")
    output_opt = typer.Option(
        "text", "--output-format", "-o", help="text, json or stream-json.", callback=_output_format
    )
    verbose_opt = typer.Option(False, "--verbose", "-v", help="Show reasoning and tool calls on stderr.")
    last_message_opt = typer.Option(None, "--output-last-message", help="Also write the final answer to this file.")
    mcp_config_opt = typer.Option(None, "--mcp-config", help="A .mcp.json-style file of MCP servers for this run (repeatable).")
    image_opt = typer.Option(None, "--image", help="Attach an image (png, jpeg, webp, gif; repeatable).")

    @app.callback()
    def root(
        ctx: typer.Context,
        version: bool = typer.Option(False, "--version", "-V", help="Print the version and exit."),
    ) -> None:
        if version:
            typer.echo(f"glmcode {__version__}")
            raise typer.Exit(0)
        if ctx.invoked_subcommand is None:
            typer.echo(ctx.get_help())

    @app.command("exec")
    def exec_(
        ctx: typer.Context,
        prompt: str = typer.Argument(..., help="What to do; '-' reads it from standard input."),
        output_format: str = output_opt,
        verbose: bool = verbose_opt,
        max_turns: int = typer.Option(None, "--max-turns", min=1, help="Stop after this many model requests."),
        resume: str = typer.Option(None, "--resume", help="Continue this session (an id, its start, or a number from `glmcode sessions`)."),
        output_schema: str = typer.Option(None, "--output-schema", help="The final answer must be JSON valid against this JSON Schema file."),
        json_answer: bool = typer.Option(False, "--json", help="The final answer must be a JSON object."),
        schema_retries: int = typer.Option(None, "--schema-retries", min=0, help="Times an invalid answer is sent back (default 2)."),
        output_last_message: str = last_message_opt,
        model: str = model_opt,
        provider: str = provider_opt,
        base_url: str = base_url_opt,
        permission_mode: str = mode_opt,
        full_auto: bool = full_auto_opt,
        add_dir: list[str] = add_dir_opt,
        sandbox: str = sandbox_opt,
        cd: str = cwd_opt,
        max_tokens: int = max_tokens_opt,
        thinking: bool = thinking_opt,
        no_web: bool = no_web_opt,
        mcp_config: list[str] = mcp_config_opt,
        image: list[str] = image_opt,
    ) -> None:
        """Run one prompt headless and exit (for scripts and CI)."""
        from glmcode.llm.tls import EarlyContext
        from glmcode.ui.headless import exec_command

        flags = _flags(ctx.params)
        raise typer.Exit(exec_command(
            prompt, flags, cd=cd, output_format=output_format, verbose=verbose, max_turns=max_turns, resume=resume,
            answer=_answer(ctx.params),
            images=image or [],
            tls=EarlyContext(),
        ))

    @app.command("chat", hidden=True)
    def chat(
        ctx: typer.Context,
        prompt: str = typer.Argument(None, help="A first prompt to send at once."),
        continue_: bool = typer.Option(False, "--continue", "-c", help="Continue the latest session of this project."),
        model: str = model_opt,
        provider: str = provider_opt,
        base_url: str = base_url_opt,
        permission_mode: str = mode_opt,
        full_auto: bool = full_auto_opt,
        add_dir: list[str] = add_dir_opt,
        sandbox: str = sandbox_opt,
        cd: str = cwd_opt,
        max_tokens: int = max_tokens_opt,
        thinking: bool = thinking_opt,
        no_web: bool = no_web_opt,
        mcp_config: list[str] = mcp_config_opt,
    ) -> None:
        """The interactive session (what `glmcode` with no command opens)."""
        flags = _flags(ctx.params)
        if continue_:
            from glmcode.ui.sessions_cli import resume_command

            raise typer.Exit(resume_command(None, flags, cd=cd, latest=True, prompt=prompt))
        from glmcode.ui.tui.app import interactive_command

        raise typer.Exit(interactive_command(prompt, flags, cd=cd))

    @app.command("resume")
    def resume_(
        ctx: typer.Context,
        session: str = typer.Argument(None, help="The session: a number from the list, an id or its start."),
        model: str = model_opt,
        provider: str = provider_opt,
        base_url: str = base_url_opt,
        permission_mode: str = mode_opt,
        full_auto: bool = full_auto_opt,
        add_dir: list[str] = add_dir_opt,
        sandbox: str = sandbox_opt,
        cd: str = cwd_opt,
        max_tokens: int = max_tokens_opt,
        thinking: bool = thinking_opt,
        no_web: bool = no_web_opt,
        mcp_config: list[str] = mcp_config_opt,
    ) -> None:
        """Continue an earlier session of this project (without an id: pick from the list)."""
        from glmcode.ui.sessions_cli import resume_command

        flags = _flags(ctx.params)
        raise typer.Exit(resume_command(session, flags, cd=cd))

    @app.command("sessions")
    def sessions_(cd: str = cwd_opt) -> None:
        """List this project's sessions: when, first prompt, turns, cost."""
        from glmcode.ui.sessions_cli import sessions_command

        raise typer.Exit(sessions_command(cd))

    @app.command("fix")
    def fix(
        ctx: typer.Context,
        task: str = typer.Argument(None, help="What to fix; '-' reads it from standard input."),
        task_file: str = typer.Option(None, "--task-file", help="Read the task from this file."),
        check: str = typer.Option(None, "--check", help="A command that passes (exit 0) when the fix is done."),
        attempts: int = typer.Option(3, "--attempts", min=1, help="Check-and-retry rounds before giving up."),
        check_timeout: float = typer.Option(600.0, "--check-timeout", help="Seconds before the check is killed."),
        patch_out: str = typer.Option(None, "--patch-out", help="Write the patch here ('-' for stdout)."),
        worktree: bool = typer.Option(False, "--worktree", help="Work in a temporary git worktree."),
        apply: bool = typer.Option(None, "--apply/--no-apply", help="Apply the patch to your tree when the fix succeeds (either way implies --worktree)."),
        output_format: str = output_opt,
        verbose: bool = verbose_opt,
        max_turns: int = typer.Option(None, "--max-turns", help="Model requests allowed per attempt."),
        budget_usd: float = typer.Option(None, "--budget-usd", help="Stop when the run has cost this much."),
        output_last_message: str = last_message_opt,
        model: str = model_opt,
        provider: str = provider_opt,
        base_url: str = base_url_opt,
        add_dir: list[str] = add_dir_opt,
        sandbox: str = sandbox_opt,
        cd: str = cwd_opt,
        max_tokens: int = max_tokens_opt,
        thinking: bool = thinking_opt,
        no_web: bool = no_web_opt,
        mcp_config: list[str] = mcp_config_opt,
        image: list[str] = image_opt,
    ) -> None:
        """Fix something until a check passes, and hand back a patch."""
        from glmcode.fix import FixOptions, fix_command

        flags = _flags(ctx.params)
        options = FixOptions(
            task=task, task_file=task_file, check=check, attempts=attempts, check_timeout=check_timeout,
            patch_out=patch_out, worktree=worktree, apply=apply, output_format=output_format,
            verbose=verbose, max_turns=max_turns, budget_usd=budget_usd, output_last_message=output_last_message,
            images=tuple(image or ()),
        )
        raise typer.Exit(fix_command(options, flags, cd=cd))

    @app.command("acp")
    def acp_(
        ctx: typer.Context,
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what the editor asks on stderr."),
        max_turns: int = typer.Option(None, "--max-turns", min=1, help="Model requests one prompt may take."),
        editor_terminal: bool = typer.Option(False, "--editor-terminal", help="Run commands in the editor's terminal when it offers one."),
        model: str = model_opt,
        provider: str = provider_opt,
        base_url: str = base_url_opt,
        permission_mode: str = mode_opt,
        full_auto: bool = full_auto_opt,
        add_dir: list[str] = add_dir_opt,
        max_tokens: int = max_tokens_opt,
        thinking: bool = thinking_opt,
    ) -> None:
        """Serve an editor over the Agent Client Protocol (stdin/stdout): Zed, JetBrains, Neovim, Emacs."""
        from glmcode.acp.command import acp_command

        level = "info" if verbose else "warning"
        raise typer.Exit(acp_command(_flags(ctx.params), log_level=level, max_turns=max_turns, editor_terminal=editor_terminal))

    @app.command("config")
    def config_(
        ctx: typer.Context,
        model: str = model_opt,
        provider: str = provider_opt,
        base_url: str = base_url_opt,
        sandbox: str = sandbox_opt,
        cd: str = cwd_opt,
    ) -> None:
        """Print the effective settings and where each came from."""
        from glmcode.ui.settings_view import config_command

        raise typer.Exit(config_command(_flags(ctx.params), cd=cd))

    @app.command("trust")
    def trust_(path: str = typer.Argument(None, help="Project folder (default: this project).")) -> None:
        """Let this project's .glmcode/config.toml widen permissions."""
        from glmcode.ui.trust_view import trust_command

        raise typer.Exit(trust_command(path))

    from glmcode.ui.mcp_cli import add_mcp_commands

    add_mcp_commands(app)
    return app


def _output_format(value: str) -> str:
    import typer

    if value not in OUTPUT_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(OUTPUT_FORMATS)}")
    return value


def _answer(params: Mapping[str, Any]) -> "AnswerOptions":
    """exec's options about the final answer (structured output, the last-message file)."""
    from glmcode.ui.answer import AnswerOptions

    return AnswerOptions(
        params.get("output_schema"), bool(params.get("json_answer")), params.get("schema_retries"),
        params.get("output_last_message"),
    )


def _flags(params: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a command's options give, by Settings field; options not given are left
    out so the config files and environment decide."""
    add_dir = params.get("add_dir")
    flags: dict[str, Any] = {
        "model": params.get("model"),
        "provider": params.get("provider"),
        "base_url": params.get("base_url"),
        "permission_mode": "full-auto" if params.get("full_auto") else params.get("permission_mode"),
        "add_dirs": tuple(add_dir) if add_dir else None,
        "max_tokens": params.get("max_tokens"),
        "thinking": params.get("thinking"),
        "web": False if params.get("no_web") else None,
        "sandbox": params.get("sandbox"),
        "mcp_config": tuple(params.get("mcp_config") or ()) or None,
    }
    return {k: v for k, v in flags.items() if v is not None}
