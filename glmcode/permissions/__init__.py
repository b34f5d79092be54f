"""The permission policy: for each tool call, whether it runs, asks the user first, or is refused.

Order of decision: deny rules, then allow rules (config and "always" answers), then the mode.
Keeping writes inside the workspace is not decided here: every tool goes through
`ToolContext.writable` for that.

The package's modules, each imported by name where it is used:

- `modes`: the permission modes, strictest first, the kinds of tool, and a verdict.
- `targets`: what a call acts on, as rules see it (a command, a path or several).
- `rules`: `tool` and `tool:pattern` rules and how they match.
- `shell`: reading a shell command into its simple commands, and every part a deny rule checks.
- `readers`: which commands only read, and may run unasked.
- `reads`: reads outside the workspace, and the folders that hold credentials.
- `policy`: the decision itself, and the rule an "always" answer adds.
"""
