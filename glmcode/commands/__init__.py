"""Custom slash commands: prompts kept as Markdown files, in the project (shared in git) and in
the user's config folder, found by `discovery` and filled in with their arguments by `expand`."""
