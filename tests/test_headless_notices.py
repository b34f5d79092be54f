"""Which notices a headless text run prints on a piped stderr, and which only with --verbose."""

from __future__ import annotations

import io

from glmcode.events import Notice
from glmcode.ui.headless import TextRenderer

WAIT = Notice("Waiting for MCP server calc to start…", "info")
REFUSED = Notice("write_file was refused: allow it with --full-auto", "warning")


def _stderr_of(*, verbose: bool) -> str:
    out, err = io.StringIO(), io.StringIO()  # neither is a terminal, as under a pipe
    renderer = TextRenderer(out, err, verbose=verbose)
    renderer.handle(WAIT)
    renderer.handle(REFUSED)
    assert out.getvalue() == ""
    return err.getvalue()


def test_a_piped_run_prints_warnings_but_not_progress_notes() -> None:
    assert _stderr_of(verbose=False) == f"glmcode: {REFUSED.message}\n"


def test_verbose_prints_the_progress_notes_too() -> None:
    assert _stderr_of(verbose=True) == f"glmcode: {WAIT.message}\nglmcode: {REFUSED.message}\n"
