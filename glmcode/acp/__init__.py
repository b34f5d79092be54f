"""`glmcode acp`: glmcode as an Agent Client Protocol agent, for editors (Zed, JetBrains IDEs,
Neovim, Emacs) that talk JSON-RPC over stdio. A frontend like the terminal's: the same agent,
permissions and session files, with the editor answering approvals and holding the files."""
