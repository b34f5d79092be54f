"""Secrets kept out of session files: the user's own API key, and anything shaped like a
credential (cloud and forge tokens, private key blocks, bearer tokens, long `api_key=` values)
that a tool printed or the model wrote."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from glmcode.llm.errors import redact

MARK = "[redacted]"

_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
    r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|[A-Za-z0-9+/=\s:,.-]*)"
)
# Whole-match patterns: the match is the secret.
_TOKENS = re.compile(
    "|".join(
        (
            r"\bsk-[A-Za-z0-9_-]{20,}",  # OpenAI, Anthropic and compatible keys
            r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
            r"\bgh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
            r"\bgithub_pat_[A-Za-z0-9_]{30,}",
            r"\bglpat-[A-Za-z0-9_-]{20,}",  # GitLab
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
            r"\bAIza[0-9A-Za-z_-]{35}",  # Google API keys
        )
    )
)
# Patterns whose last group is the secret; what comes before it stays readable.
_BEARER = re.compile(r"(\bBearer\s+)([A-Za-z0-9._~+/=-]{16,})")
_ASSIGNED = re.compile(
    r"(?i)(\b(?:api[_-]?key|apikey|access[_-]?key|secret[_-]?key|access[_-]?token|auth[_-]?token"
    r"|client[_-]?secret|private[_-]?key|password|passwd|secret|token)[\"']?\s*[:=]\s*[\"']?)"
    r"(?=[A-Za-z0-9_./+=~-]*\d)([A-Za-z0-9_./+=~-]{16,})"
)


class Redactor:
    """Replaces secrets in text: the `known` exact values (the API key, see
    `glmcode.llm.errors.redact`) and anything shaped like a credential."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._known = tuple(k for k in known if k)

    def text(self, text: str) -> str:
        for secret in self._known:
            text = redact(text, secret)
        if "PRIVATE KEY-----" in text:
            text = _PRIVATE_KEY.sub(MARK, text)
        text = _TOKENS.sub(MARK, text)
        if "earer" in text:
            text = _BEARER.sub(lambda m: m.group(1) + MARK, text)
        return _ASSIGNED.sub(lambda m: m.group(1) + MARK, text)

    def value(self, value: Any) -> Any:
        """A JSON-shaped value with every string in it redacted; keys are left as they are."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value
