"""The policy that decides each call, and the rule an "always" answer adds."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from glmcode.permissions.modes import KINDS, Verdict, check_mode
from glmcode.permissions.readers import is_read_only_command, segment_reads
from glmcode.permissions.reads import outside_read
from glmcode.permissions.rules import Rule, names_host
from glmcode.permissions.shell import deny_candidates, parse_shell
from glmcode.permissions.targets import SHELL_TOOL, WEB_TOOL, call_host, call_paths

# Files here steer tools that run commands (git hooks and config, glmcode's project settings).
PROTECTED_FOLDERS = frozenset({".git", ".glmcode"})


class Policy:
    """Decides each call. `workspace`, when given, lets path rules written relative to the
    project (`src/**`) match absolute paths inside it, and makes reads outside it and
    `read_roots` ask; `secrets` are refused to the read tools unless a rule names them.
    `shell_sandboxed`: commands run in the sandbox, so auto-edit runs them unasked; set again
    once the session's sandbox is decided (sandbox/deferred.py)."""

    def __init__(
        self,
        mode: str,
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
        *,
        workspace: Path | None = None,
        read_roots: Sequence[Path] = (),
        secrets: Sequence[Path] = (),
        shell_sandboxed: bool = False,
    ) -> None:
        self._mode = check_mode(mode)
        self._allow = [Rule.parse(r) for r in allow]
        self._deny = [Rule.parse(r) for r in deny]
        self._session: list[Rule] = []
        self._workspace = workspace.resolve() if workspace is not None else None
        self._read_roots = tuple(p.resolve() for p in (*([workspace] if workspace else []), *read_roots))
        self._secrets = tuple(secrets)
        self.shell_sandboxed = shell_sandboxed

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        self._mode = check_mode(value)

    def allow_for_session(self, rule: str) -> None:
        parsed = Rule.parse(rule)
        if parsed not in self._session:
            self._session.append(parsed)

    def names_host(self, host: str) -> bool:
        """Whether an allow rule (from config or an "always" answer) names `host` for
        web_fetch, which lets a fetch reach it on a loopback or private address."""
        return any(names_host(r, host) for r in (*self._allow, *self._session))

    def decide(self, tool_name: str, kind: str, args: Mapping[str, Any]) -> Verdict:
        denied = self._denying_rule(tool_name, args)
        if denied is not None:
            return Verdict("deny", f"{tool_name} is refused by the deny rule '{denied}'")
        if kind == "read" and self._workspace is not None:
            rules = [*self._allow, *self._session]
            paths = [Path(self._path_forms(p)[-1]) for p in call_paths(tool_name, args)]
            resolved = [p if p.is_absolute() else self._workspace / p for p in paths]
            outside = outside_read(tool_name, self._mode, resolved, self._read_roots, self._secrets, rules)
            if outside is not None:
                return outside
        if kind == "edit" and self._mode in ("ask", "auto-edit"):
            protected = self._protected_path(tool_name, args)
            if protected is not None:
                return Verdict(
                    "ask",
                    f"{tool_name} writes {protected}, inside .git/ or .glmcode/, where a change "
                    "can make git or glmcode run commands; it needs approval",
                )
        # Read-only mode is a promise that nothing changes; allow rules do not break it
        # (reading a page changes nothing).
        if self._mode != "read-only" or kind == "web":
            allowed = self._allowing_rules(tool_name, args)
            if allowed:
                which = ", ".join(f"'{r}'" for r in allowed)
                return Verdict("allow", f"allowed by the rule {which}")
        return self._by_mode(tool_name, kind, args)

    def _by_mode(self, tool_name: str, kind: str, args: Mapping[str, Any]) -> Verdict:
        mode = self._mode
        if kind not in KINDS:
            return Verdict("ask", f"{tool_name} is of unknown kind {kind!r}; it needs approval")
        if kind in ("read", "meta"):
            return Verdict("allow", f"{tool_name} changes nothing; allowed in {mode} mode")
        if kind == "web" and mode != "full-auto":
            host = call_host(args) or "the web"
            return Verdict("ask", f"{tool_name} reaches {host}; it needs approval in {mode} mode")
        if mode == "full-auto":
            return Verdict("allow", f"{tool_name} is allowed in full-auto mode")
        if kind == "mcp":
            # What a server's tool does is the server's to say; its own hints are no promise.
            if mode == "read-only":
                return Verdict("deny", f"{tool_name} is refused in read-only mode: an MCP server's "
                               "tool may change things")
            return Verdict("ask", f"{tool_name} is an MCP server's tool; it needs approval in {mode} mode")
        if kind == "edit":
            if mode == "auto-edit":
                return Verdict("allow", f"{tool_name} is allowed in auto-edit mode")
            if mode == "read-only":
                return Verdict("deny", f"{tool_name} is refused in read-only mode: no file "
                               "changes while planning")
            return Verdict("ask", f"{tool_name} changes files; it needs approval in {mode} mode")
        command = args.get("command")
        if isinstance(command, str) and is_read_only_command(command):
            return Verdict("allow", f"the command only reads; allowed in {mode} mode")
        if mode == "read-only":
            return Verdict("deny", f"{tool_name} is refused in read-only mode: only commands "
                           "that just read (ls, cat, grep, git status, ...) may run")
        if mode == "auto-edit" and self.shell_sandboxed:
            return Verdict("allow", f"{tool_name} runs inside the sandbox; allowed in auto-edit mode")
        return Verdict("ask", f"{tool_name} needs approval in {mode} mode")

    def _protected_path(self, tool_name: str, args: Mapping[str, Any]) -> str | None:
        """A path of the call inside a folder whose files steer tools that run commands:
        git's config and hooks (core.fsmonitor, diff.external run on `git status`/`git diff`,
        which run unasked), and glmcode's own project settings."""
        for path in call_paths(tool_name, args):
            for form in self._path_forms(path):
                if any(part in PROTECTED_FOLDERS for part in Path(form).parts):
                    return path
        return None

    def _path_forms(self, raw: str) -> list[str]:
        """The path as written (normalised) and, with a workspace, as it resolves: relative
        when inside the workspace, absolute outside."""
        literal = os.path.normpath(os.path.expanduser(raw))
        forms = [literal]
        if self._workspace is not None:
            full = Path(literal)
            resolved = (full if full.is_absolute() else self._workspace / full).resolve()
            try:
                forms.append(resolved.relative_to(self._workspace).as_posix())
            except ValueError:
                forms.append(resolved.as_posix())
        return forms

    def _denying_rule(self, tool_name: str, args: Mapping[str, Any]) -> Rule | None:
        rules = [r for r in self._deny if fnmatchcase(tool_name, r.tool)]
        if not rules:
            return None
        if tool_name == SHELL_TOOL:
            command = args.get("command")
            targets = deny_candidates(command) if isinstance(command, str) else set()
        elif tool_name == WEB_TOOL:
            targets = {host for host in [call_host(args)] if host}
        else:
            targets = {f for p in call_paths(tool_name, args) for f in self._path_forms(p)}
        for rule in rules:
            if rule.pattern is None or any(rule.matches(tool_name, t) for t in targets):
                return rule
        return None

    def _allowing_rules(self, tool_name: str, args: Mapping[str, Any]) -> list[Rule]:
        rules = [r for r in (*self._allow, *self._session) if fnmatchcase(tool_name, r.tool)]
        whole = next((r for r in rules if r.pattern is None), None)
        if whole is not None:
            return [whole]
        if tool_name == SHELL_TOOL:
            return self._allowing_shell_rules(rules, args.get("command"))
        if tool_name == WEB_TOOL:
            host = call_host(args)
            return [r for r in rules if host and r.matches(tool_name, host)][:1]
        paths = call_paths(tool_name, args)
        if not paths:
            return []
        used: list[Rule] = []
        for path in paths:
            # With a workspace, the resolved form decides: a symlink out of an allowed
            # folder is not allowed by it.
            form = self._path_forms(path)[-1]
            rule = next((r for r in rules if r.matches(tool_name, form)), None)
            if rule is None:
                return []
            if rule not in used:
                used.append(rule)
        return used

    def _allowing_shell_rules(self, rules: list[Rule], command: Any) -> list[Rule]:
        if not rules or not isinstance(command, str):
            return []
        shell = parse_shell(command)
        if shell is None or shell.opaque or shell.writes or not shell.segments:
            return []
        used: list[Rule] = []
        for words in shell.segments:
            rule = next((r for r in rules if r.matches(SHELL_TOOL, " ".join(words))), None)
            if rule is None:
                if segment_reads(words):
                    continue
                return []
            if rule not in used:
                used.append(rule)
        return used


_SUBCOMMAND_PROGRAMS = {"git", "npm", "pnpm", "yarn", "bun", "cargo", "go", "docker", "kubectl",
                        "make", "uv", "poetry", "pip", "pip3", "just", "dotnet", "gh", "hatch",
                        "tox", "nox", "mvn", "gradle", "deno", "helm", "terraform"}
_RUNNERS = {("npm", "run"), ("pnpm", "run"), ("yarn", "run"), ("bun", "run"), ("uv", "run"),
            ("poetry", "run"), ("hatch", "run"), ("python", "-m"), ("python3", "-m"),
            ("bundle", "exec")}


def _command_prefix(words: Sequence[str]) -> str:
    if len(words) >= 3 and (words[0], words[1]) in _RUNNERS:
        return " ".join(words[:3])
    if len(words) >= 2 and words[0] in _SUBCOMMAND_PROGRAMS and not words[1].startswith("-"):
        return " ".join(words[:2])
    return words[0]


def suggest_rule(tool_name: str, args: Mapping[str, Any]) -> str | None:
    """The rule an "always" answer adds: for run_shell the program (and its subcommand) of the
    first part that does not merely read, plus `*`; for web_fetch the host; for an MCP tool its
    whole server (`mcp__SERVER__*`); for other tools the tool itself. None when no rule would
    allow the call (a command that redirects into a file or substitutes one, a URL without a
    host), so nobody is offered a rule that does not work."""
    if tool_name == WEB_TOOL:
        host = call_host(args)
        return f"{tool_name}:{host}" if host else None
    if tool_name.startswith("mcp__") and "__" in tool_name[5:]:
        return tool_name[: tool_name.index("__", 5)] + "__*"  # the whole server
    if tool_name != SHELL_TOOL:
        return tool_name
    command = args.get("command")
    shell = parse_shell(command) if isinstance(command, str) else None
    if shell is None or not shell.segments:
        return None
    words = next((w for w in shell.segments if not segment_reads(w)), shell.segments[0])
    rule = f"{tool_name}:{_command_prefix(words)}*"
    if Policy("ask", allow=[rule]).decide(tool_name, "shell", args).decision != "allow":
        return None
    return rule
