"""`glmcode fix`: run a check, let the agent work until it passes, hand back a patch.

    check.py     the check command: bash, own process group, time limit
    repository.py  where the folder sits in its repository; git (through vcs/) that never locks
                 or rewrites the user's index
    worktree.py  the temporary worktree with the user's uncommitted work copied in
    patch.py     snapshots as tree objects, the patch between them, applying it
    prompts.py   what the agent is told (texts in the .md files beside it)
    workflow.py  the attempt loop
    outcome.py   status and exit code
    report.py    the JSON result and the summary table
    view.py      output while it runs, per --output-format
    command.py   the command itself
"""

from __future__ import annotations

from glmcode.fix.command import fix_command
from glmcode.fix.options import FixOptions

__all__ = ["FixOptions", "fix_command"]
