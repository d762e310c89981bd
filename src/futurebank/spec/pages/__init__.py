"""Page generators: functions that turn spec data into MyST text for a page.

A page asks for one with a fenced block::

    ```{generated} bench-latest
    ```

and the extension (``futurebank.spec.sphinx_ext``) replaces the block, when the page is read, by what the
generator returns. To add a page generator:

1. Write a module here, say ``pages/roadmap.py``, with a function ``(app: Sphinx) -> str`` returning
   MyST text (``pages/bench.py`` is a short example). Build tables with :func:`md_table`, escape data with
   :func:`md_escape`, find files with :func:`repo_root`; call ``app.env.note_dependency(path)`` for each
   data file read, so an edit rebuilds the page. Report bad data with ``futurebank.spec.report.report``
   and a rule of ``futurebank.spec.rules.RULES`` (add one there if none fits).
2. End the module with ``GENERATORS = {"roadmap-gantt": roadmap_gantt}``: block name -> function.
3. Add the module to ``PAGE_MODULES`` in ``futurebank.spec.sphinx_ext``.

Page modules import this package and never the extension, so there is no import cycle (import-linter
checks it, see ``[tool.importlinter]`` in pyproject.toml).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sphinx.application import Sphinx

from futurebank.spec.report import report
from futurebank.spec.rules import SpecFileError
from futurebank.spec.yaml_lines import load_with_lines

Generator = Callable[[Sphinx], str]
T = TypeVar("T")

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#+\-.!|$~])")


def md_escape(text: str) -> str:
    """Escape Markdown punctuation so data renders literally."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_lines(text: str) -> str:
    """Literal text with its line breaks kept (CommonMark hard breaks)."""
    return "\\\n".join(md_escape(line) for line in text.splitlines())


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown pipe table; cells must already be escaped (see md_escape)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def repo_root(app: Sphinx) -> Path:
    """The repository: the parent of the Sphinx source dir (``docs/``)."""
    return Path(app.srcdir).parent


def load_data(app: Sphinx, data: Path, parse: Callable[[Any, Path], T]) -> T | None:
    """Read the data file ``data`` (relative to the repository) with its lines and ``parse`` it; a file
    that breaks its rule is reported (file, line, rule) and gives None, so the page is built without it."""
    root = repo_root(app)
    app.env.note_dependency(str(root / data))
    try:
        return parse(load_with_lines(root / data), data)
    except SpecFileError as exc:
        report([exc.finding], root)
        return None
