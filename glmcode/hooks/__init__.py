"""Hooks: the user's own commands, run at points of a session (a prompt sent, a tool about to
run or just run, a run ended, an approval waiting) with a JSON description of the moment on
their standard input. `config` reads them from the TOML layers, `process` runs one, `engine`
turns what it answered into what glmcode does next."""
