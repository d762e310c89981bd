"""Sphinx extension: generated spec pages and located rule violations.

* A fenced block ```` ```{generated} NAME ```` in a MyST page is replaced, when the page is
  read, by the MyST text that generator ``NAME`` produces from the spec data. Pages therefore
  show data without copying it (one source of truth).
* After sphinx-needs validates every need against the rules in ``needs_model``, each violation
  is reported again as ``file:line: WARNING: <need id> breaks <rule id>: <message>`` so the
  build output names the file, the item and the rule. With ``-W`` the build fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.util import logging

from futurebank.spec.chat_data import load_chat
from futurebank.spec.needs_model import RULES
from futurebank.spec.yaml_lines import SpecFileError

logger = logging.getLogger(__name__)

Generator = Callable[[Sphinx], str]
GENERATORS: dict[str, Generator] = {}
GENERATED_BLOCK = re.compile(r"^```\{generated\}\s+(?P<name>[a-z0-9-]+)\s*\n```\s*$", re.MULTILINE)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#+\-.!|$~])")


def generator(name: str) -> Callable[[Generator], Generator]:
    def register(func: Generator) -> Generator:
        GENERATORS[name] = func
        return func

    return register


def md_escape(text: str) -> str:
    """Escape Markdown punctuation so chat text renders literally."""
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
    return Path(app.srcdir).parent


@generator("chat-log")
def chat_log(app: Sphinx) -> str:
    """Every chat message as a ``msg`` need: Russian original beside our English translation."""
    chat_dir = Path(app.srcdir) / "chat"
    for data_file in ("messages.yaml", "participants.yaml", "annotations.yaml"):
        app.env.note_dependency(str(chat_dir / data_file))
    try:
        messages = load_chat(chat_dir)
    except SpecFileError as exc:
        logger.warning(
            "%s", exc.detail, location=f"{exc.path}:{exc.line}", type="futurebank", subtype=exc.rule
        )
        return ""
    parts: list[str] = []
    day = ""
    for msg in messages:
        if msg.sent_at[:10] != day:
            day = msg.sent_at[:10]
            parts.append(f"## {day}\n")
        options = [
            f":id: {msg.id}",
            f":sent_at: {msg.sent_at}",
            f":author: {msg.author}",
            f":role: {msg.role}",
        ]
        if msg.disposition:
            options.append(f":disposition: {msg.disposition}")
        if msg.duplicates:
            options.append(f":duplicates: {msg.duplicates}")
        title = f"{msg.author} {msg.sent_at[:10]} {msg.sent_at[11:16]}"  # with the date: five chat days
        parts.append(
            "\n".join(
                [
                    f"````{{msg}} {title}",
                    *options,
                    "",
                    "```{list-table}",
                    ":widths: 50 50",
                    ":header-rows: 1",
                    ":class: chat-pair",
                    "",
                    "* - Русский (оригинал)",
                    "  - English (our translation)",
                    "* - " + md_lines(msg.text_ru).replace("\n", "\n    "),
                    "  - " + md_lines(msg.text_en).replace("\n", "\n    "),
                    "```",
                    "````",
                    "",
                ]
            )
        )
    return "\n".join(parts)


def expand_generated(app: Sphinx, docname: str, source: list[str]) -> None:
    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        func = GENERATORS.get(name)
        if func is None:
            logger.warning(
                "unknown generated block %r", name, location=docname, type="futurebank", subtype="generated"
            )
            return ""
        return func(app)

    source[0] = GENERATED_BLOCK.sub(replace, source[0])


def generated_need_locations(app: Sphinx) -> dict[str, str]:
    """Where generated needs really live: the data file and line, by need id."""
    try:
        messages = load_chat(Path(app.srcdir) / "chat")
    except (SpecFileError, OSError):
        return {}
    root = repo_root(app)
    return {
        msg.id: f"{Path(msg.annotation_path).resolve().relative_to(root.resolve())}:{msg.annotation_line}"
        for msg in messages
    }


def report_violations(app: Sphinx, builder: Builder) -> None:
    """Re-report sphinx-needs schema violations with file, line, need id and rule id."""
    report = Path(app.outdir) / "schema_violations.json"
    if not report.exists():
        return
    from sphinx_needs.data import SphinxNeedsData

    needs = SphinxNeedsData(app.env).get_needs_view()
    rule_messages = {rule["id"]: rule["message"] for rule in RULES}
    data_locations = generated_need_locations(app)
    violations: dict[str, list[dict[str, Any]]] = json.loads(report.read_text())["validation_warnings"]
    for need_id, entries in sorted(violations.items()):
        need = needs.get(need_id)
        location: str | tuple[str, int | None] | None = data_locations.get(need_id)
        if location is None and need is not None:
            location = (need["docname"] or "", need["lineno"])
        for entry in entries:
            details = entry["details"]
            rule = details["schema_path"].split("[", 1)[0]
            message = details.get("user_msg") or rule_messages.get(rule, "")
            logger.warning(
                "%s breaks %s: %s (%s)",
                need_id,
                rule,
                message,
                details.get("validation_msg", ""),
                location=location,
                type="futurebank",
                subtype="rule",
            )


def _load_page_generators() -> None:
    """Import every module in futurebank.spec.pages: each registers its generators."""
    import importlib
    import pkgutil

    from futurebank.spec import pages

    for module in pkgutil.iter_modules(pages.__path__):
        importlib.import_module(f"{pages.__name__}.{module.name}")


def setup(app: Sphinx) -> dict[str, Any]:
    _load_page_generators()
    app.connect("source-read", expand_generated)
    app.connect("write-started", report_violations, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
