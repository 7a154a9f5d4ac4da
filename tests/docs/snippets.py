"""The fenced code blocks of README.md and docs/*.md, and how each one is run.

A block may be preceded by an HTML comment that tells how to run it (invisible on the page):

    <!-- snippet: project=examples/shop -->     run in a copy of that example project
    <!-- snippet: postgres -->                  with LEGATO_DATABASE_URL on a fresh schema
    <!-- snippet: check -->                     python: then load it as a project (legato check)
    <!-- snippet: serve -->                     with `legato up` serving the project, and
                                                LEGATO_TOKEN an operator's API token
    <!-- snippet: skip: WHY -->                 not run; the reason is listed by the tests

Several options go in one comment, separated by spaces. A block whose first line is
``# sketch: ...`` is pseudo-code and is not run either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_LANGUAGES = {"python", "bash", "toml"}

_FENCE = re.compile(r"^```(\S*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*snippet:\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    project: str | None = None  # an example project to run in, relative to the repository
    postgres: bool = False
    check: bool = False
    serve: bool = False
    skip: str | None = None  # why the block is not run
    options: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def sketch(self) -> str | None:
        first = self.code.lstrip().splitlines()[0] if self.code.strip() else ""
        return first[1:].strip() if first.startswith("# sketch:") else None


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def extract(path: Path) -> list[Snippet]:
    """The python, bash and toml blocks of one Markdown file, with their directives."""
    lines = path.read_text().splitlines()
    found: list[Snippet] = []
    directive: str | None = None
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            match = _DIRECTIVE.match(lines[i].strip())
            if match:
                directive = match.group(1)
            elif lines[i].strip():
                directive = None  # a directive applies to the block right after it
            i += 1
            continue
        start, language = i, fence.group(1)
        end = start + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if language in RUN_LANGUAGES:
            code = "\n".join(lines[start + 1 : end]) + "\n"
            found.append(_snippet(path, start + 1, language, code, directive))
        directive = None
        i = end + 1
    return found


def _snippet(path: Path, line: int, language: str, code: str, directive: str | None) -> Snippet:
    project, postgres, check, serve, skip = None, False, False, False, None
    options: list[str] = []
    if directive:
        if directive.startswith("skip:"):
            skip = directive.removeprefix("skip:").strip()
        else:
            for option in directive.split():
                if option.startswith("project="):
                    project = option.removeprefix("project=")
                elif option == "postgres":
                    postgres = True
                elif option == "check":
                    check = True
                elif option == "serve":
                    serve = True
                else:
                    raise ValueError(f"{path.name}:{line}: unknown snippet option {option!r}")
                options.append(option)
    return Snippet(
        path, line, language, code, project, postgres, check, serve, skip, tuple(options)
    )


def all_snippets() -> list[Snippet]:
    return [snippet for doc in documents() for snippet in extract(doc)]
