"""The tool contract: one declaration gives the JSON schema the model sees and the validation
the arguments get before the tool runs."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from glmcode.sandbox.limits import Limits

if TYPE_CHECKING:
    from glmcode.images.load import Image
    from glmcode.sandbox.launch import Sandbox
    from glmcode.tools.relay import Relay
    from glmcode.web.access import WebAccess

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


class ToolError(Exception):
    """A failure the model should read and act on; becomes an `is_error` result."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str
    required: bool = True
    default: Any = None
    enum: tuple[str, ...] | None = None
    items: dict[str, Any] | None = None
    minimum: int | None = None
    maximum: int | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "description": self.description}
        if self.enum is not None:
            out["enum"] = list(self.enum)
        if self.items is not None:
            out["items"] = self.items
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


@dataclass(frozen=True)
class ToolResult:
    """`output` is whole, for the user and the session. `model_output`, when set, is the
    shorter text the model sees instead. `images`, checked and within the limits, go to a
    model that sees after the tool messages; for any other the runner puts them into words."""

    output: str
    is_error: bool = False
    model_output: str | None = None
    diff: str | None = None
    data: dict[str, Any] | None = None
    images: tuple[Image, ...] = ()

    @property
    def for_model(self) -> str:
        return self.output if self.model_output is None else self.model_output


class EditorFiles(Protocol):
    """Text files through the editor glmcode works in, when it offers its buffers (see
    `files.through_editor`). `read_text` returns None when the editor cannot give the file, so
    the disk is read; `writes` False sends writes to the disk; both raise ToolError for a
    failure the model should read."""

    writes: bool

    def read_text(self, path: Path) -> str | None: ...

    def write_text(self, path: Path, text: str) -> None: ...


@dataclass(frozen=True)
class ImagesSeen:
    """What a model that can see said some images show, and what asking it cost."""

    text: str
    cost_usd: float


@dataclass
class ToolContext:
    """What a tool may know of the world: where it works, which folders it may write, the
    session's state for reaching the web (`web`, None when the web tools are off), and the
    editor whose buffers it reads and writes, if any."""

    workspace: Path
    extra_dirs: tuple[Path, ...] = ()
    cancel: threading.Event = field(default_factory=threading.Event)
    web: WebAccess | None = None
    editor: EditorFiles | None = None
    # Where run_shell's commands run: None runs them as the user, unconfined.
    sandbox: Sandbox | None = None
    limits: Limits = field(default_factory=Limits)
    # What an image file shows, in words, from a model that can see; None when none is set.
    see_image: Callable[[Path], str] | None = None
    # The same for images a tool returned, told why they are looked at; raises ToolError.
    see_images: Callable[[Sequence[Image], str], ImagesSeen] | None = None

    @property
    def writable_roots(self) -> tuple[Path, ...]:
        return (self.workspace.resolve(), *(d.resolve() for d in self.extra_dirs))

    def resolve(self, path: str) -> Path:
        """A path the model gave, made absolute against the workspace, `..` and symlinks
        resolved."""
        if not path:
            raise ToolError("path is empty")
        p = Path(path).expanduser()
        if not p.is_absolute():
            p = self.workspace / p
        return p.resolve()

    def writable(self, path: str) -> Path:
        """Like `resolve`, but refuses a path outside the workspace and the added folders."""
        p = self.resolve(path)
        for root in self.writable_roots:
            if p == root or p.is_relative_to(root):
                return p
        raise ToolError(
            f"{path} resolves to {p}, outside the workspace {self.workspace}; writes there are "
            "refused (the user can allow a folder with --add-dir)"
        )

    def display(self, path: Path) -> str:
        """A path as the user and the model should read it: relative inside the workspace."""
        try:
            return str(path.relative_to(self.workspace.resolve()))
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class Tool:
    """A tool: its declaration and the function that runs it.

    `kind` is what the permission policy looks at: "read" never changes anything, "edit"
    changes files in the workspace, "shell" runs commands, "meta" only records (the plan),
    "web" reaches a host on the web the model chose.
    `preview`, for edit tools, computes the diff a call would make without touching a file,
    so an approval can show it. `relayed`, for a tool that works long and reports as it goes
    (a sub-agent), is what the runner calls on a worker thread instead of `run`, with the
    relay that carries its events and questions back. `input_schema`, for a tool declared
    elsewhere (an MCP server's), is its JSON schema as given, in place of `params`; the
    arguments are then checked by whoever runs the tool.
    """

    name: str
    description: str
    params: tuple[Param, ...]
    kind: str
    run: Callable[[dict[str, Any], ToolContext], ToolResult]
    preview: Callable[[dict[str, Any], ToolContext], str] | None = None
    relayed: Callable[[dict[str, Any], ToolContext, Relay], ToolResult] | None = None
    input_schema: dict[str, Any] | None = None

    @property
    def read_only(self) -> bool:
        return self.kind in ("read", "meta")

    def schema(self) -> dict[str, Any]:
        if self.input_schema is not None:
            return {
                "type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.input_schema},
            }
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": {p.name: p.schema() for p in self.params},
                    "required": [p.name for p in self.params if p.required],
                },
            },
        }

    def validate(self, args: Any) -> dict[str, Any]:
        """Arguments checked against the declaration, defaults filled in; raises ToolError
        with a message precise enough for the model to correct its call."""
        if not isinstance(args, dict):
            raise ToolError(f"{self.name}: arguments must be a JSON object, got {type(args).__name__}")
        if self.input_schema is not None:
            missing = [k for k in self.input_schema.get("required", ()) if k not in args]
            if missing:
                raise ToolError(f"{self.name}: missing required argument(s) {', '.join(map(str, missing))}")
            return dict(args)
        known = {p.name: p for p in self.params}
        unknown = sorted(set(args) - set(known))
        if unknown:
            raise ToolError(
                f"{self.name}: unknown argument(s) {', '.join(unknown)}; "
                f"accepted: {', '.join(known)}"
            )
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name not in args or args[p.name] is None:
                if p.required:
                    raise ToolError(f"{self.name}: missing required argument '{p.name}' ({p.type})")
                out[p.name] = p.default
                continue
            value = args[p.name]
            if p.type == "integer" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
                value = int(value)  # the model sometimes quotes numbers
            if p.type == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
                value = value.lower() == "true"
            ok = isinstance(value, JSON_TYPES[p.type]) and not (
                p.type in ("integer", "number") and isinstance(value, bool)
            )
            if not ok:
                raise ToolError(
                    f"{self.name}: argument '{p.name}' must be {p.type}, got {type(value).__name__}"
                )
            if p.enum is not None and value not in p.enum:
                raise ToolError(
                    f"{self.name}: argument '{p.name}' must be one of {', '.join(p.enum)}, got {value!r}"
                )
            if p.minimum is not None and value < p.minimum:
                raise ToolError(f"{self.name}: argument '{p.name}' must be >= {p.minimum}")
            if p.maximum is not None and value > p.maximum:
                raise ToolError(f"{self.name}: argument '{p.name}' must be <= {p.maximum}")
            out[p.name] = value
        return out


def description_beside(module_file: str, name: str) -> str:
    """The model-facing description kept as a text file next to the tool's module."""
    return (Path(module_file).parent / f"{name}.md").read_text(encoding="utf-8").strip()
