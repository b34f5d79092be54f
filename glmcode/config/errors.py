"""The error every bad setting becomes, naming where it was written so the user can fix it."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A setting glmcode cannot use, said so that the user can fix it: which file and line
    (or which variable or flag), which key, and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
        origin: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.key = key
        self.origin = origin
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is not None:
            where = tilde(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
        else:
            where = self.origin or "settings"
        what = f"key '{self.key}': " if self.key else ""
        return f"{where}: {what}{self.message}"


class MissingKeyError(ConfigError):
    def __str__(self) -> str:
        return self.message


def tilde(path: Path) -> str:
    """`path` as the user would type it, under `~/` when it is in their home."""
    try:
        return "~/" + Path(path).relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)
