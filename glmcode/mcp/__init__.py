"""glmcode as an MCP client: the servers a user configured, started in the background, their
tools offered to the model as `mcp__SERVER__TOOL`, their prompts and resources at hand.

`state` and `tools` are plain data and glmcode tools; `connection` is the only module that
speaks the SDK, and `manager` runs the connections on a thread of their own. Nothing here is
imported unless a server is configured.
"""
