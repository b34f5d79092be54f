"""Sub-agents: the `task` tool, which hands a piece of work to an agent of its own (a fresh
context, its own tools and turn limit) and gives the parent only its final report; and the
agent definitions it can start, built in or from `.glmcode/agents/*.md` and
`~/.config/glmcode/agents/*.md`."""
