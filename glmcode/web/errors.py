"""The failure a web tool reports to the model as an error result."""

from __future__ import annotations


class WebError(Exception):
    """Something the model should read and act on: a refused address, a timeout, a page
    too large, a type glmcode does not read, a search the service refused."""
