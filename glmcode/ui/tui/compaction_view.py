"""A compaction as the user sees it: one line saying how many messages the summary replaced
and how the prompt's size changed.

How many were replaced is the conversation's length before, less what it holds after; the
length before is followed through the run's events, since a compaction can come in the middle
of a run. The agent also sends a notice describing the compaction at length; the line says
the same, so that notice is left out.
"""

from __future__ import annotations

from glmcode.events import Compacted, Event, MessageAdded, Notice
from glmcode.ui.tui.status import tokens


class CompactionView:
    def __init__(self, messages: int) -> None:
        self.messages = messages  # the conversation's length, system prompt included
        self._just_compacted = False

    def repeats(self, event: Event) -> bool:
        """Counts `event` in; True when it is the notice that repeats the line just shown."""
        repeat = self._just_compacted and isinstance(event, Notice) and event.level == "info"
        self._just_compacted = False
        if isinstance(event, MessageAdded):
            self.messages += 1
        return repeat

    def line(self, event: Compacted) -> str:
        from glmcode.agent.compaction import is_summary

        summarised = bool(event.messages) and is_summary(event.messages[0])
        replaced = max(0, self.messages - len(event.messages)) if summarised else 0
        self.messages = len(event.messages) + 1
        self._just_compacted = True
        size = f"~{tokens(event.before)} → ~{tokens(event.after)} tokens"
        if not summarised:
            return f"compacted: long tool results cut, {size}"
        return f"compacted: {replaced} message{'' if replaced == 1 else 's'} summarised, {size}"
