"""glmcode: a terminal coding agent for GLM-4.6."""

__version__ = "0.1.0"
