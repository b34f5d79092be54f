"""The interactive session: prompt-toolkit input, rich output, one event stream."""
