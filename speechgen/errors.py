"""Errors a user can act on. Each prints as `path:line: message`, without a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SpeechgenError(Exception):
    """Base of every error the CLI reports to the user and maps to exit code 1."""

    def lines(self) -> list[str]:
        return [str(self)]


@dataclass(frozen=True)
class Problem:
    """One problem in one file, at a line where there is one."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class SourceError(SpeechgenError):
    """One or more problems in the project's sources, all reported at once."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class ConfigError(SourceError):
    """Problems in speechgen.toml."""


class OutputError(SpeechgenError):
    """The output folder cannot safely be written."""


class RenderError(SpeechgenError):
    """A renderer failed on a page, PDF or card."""


class Problems:
    """Collects problems across a stage so the user sees all of them at once."""

    def __init__(self, root: Path | None = None):
        self.root = root
        self.items: list[Problem] = []

    def add(self, path: Path | str, line: int | None, message: str) -> None:
        self.items.append(Problem(display_path(path, self.root), line, message))

    def extend(self, problems: list[Problem]) -> None:
        self.items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, kind: type[SourceError] = SourceError) -> None:
        if self.items:
            raise kind(self.items)


def display_path(path: Path | str, root: Path | None) -> str:
    """A path as the user wrote it: relative to the project where possible."""
    p = Path(path)
    if root is not None:
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except (ValueError, OSError, RuntimeError):    # outside the project, or a loop of links
            pass
    return p.as_posix() if not isinstance(path, str) else path
