"""The sandbox the model's shell commands run in, and the limits every command runs under.

Each module is imported by name where it is used:

- `secrets`: the folders and files that hold credentials, hidden from commands and refused
  to the read tools.
- `policy`: what a sandboxed command may see and write, from the settings.
- `bwrap`: the bubblewrap arguments for a policy (Linux).
- `seatbelt`: the `sandbox-exec` profile for a policy (macOS).
- `detect`: whether this machine can sandbox at all, and why not.
- `choose`: the session's sandbox from the settings and what `detect` found.
- `deferred`: that choice made once, when the first command needs it.
- `limits`: bounds on a command's output, run time and number of processes.
- `cgroup`: a pids cgroup, which bounds processes where a resource limit cannot (root).
- `launch`: the argument list a command actually starts with, and what to tidy after it.
- `refusals`: recognising, from a failed command's output, that the sandbox refused it.
"""
