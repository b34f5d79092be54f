"""The failure a web tool reports to the model as an error result."""

from __future__ import annotations


class WebError(Exception):
    """Something the model should read and act on: a refused address, a timeout, a page
    too large, a type glmcode does not read, a search the service refused."""


class SearchNotBilled(WebError):
    """The pay-as-you-go search API will not bill this key (GLM error 1113, HTTP 402 or 403):
    a Coding Plan key, or an account without balance."""
