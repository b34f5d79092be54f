"""What the screen folded away and the slash commands bring back: the last reasoning whole,
the last tool output whole, every diff of the session."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ToolOutput:
    name: str
    target: str
    output: str
    is_error: bool


@dataclass(frozen=True)
class EditDiff:
    name: str
    target: str
    diff: str


@dataclass
class Recent:
    reasoning: list[str] = field(default_factory=list)  # the last run's, one entry per turn
    outputs: list[ToolOutput] = field(default_factory=list)  # the last run's tool calls
    diffs: list[EditDiff] = field(default_factory=list)  # the whole session's edits
    shell_notes: list[str] = field(default_factory=list)  # `!command` results the next prompt carries

    def new_run(self) -> None:
        self.reasoning = []
        self.outputs = []

    def add_tool(self, name: str, target: str, output: str, is_error: bool, diff: str | None) -> None:
        self.outputs.append(ToolOutput(name, target, output, is_error))
        if diff:
            self.diffs.append(EditDiff(name, target, diff))
