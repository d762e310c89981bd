"""Generator ``chat-log``: every chat message as a ``msg`` need, Russian original beside our translation."""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

from futurebank.spec.chat_data import load_chat
from futurebank.spec.pages import Generator, md_lines, repo_root
from futurebank.spec.report import report
from futurebank.spec.rules import SpecFileError


def chat_log(app: Sphinx) -> str:
    chat_dir = Path(app.srcdir) / "chat"
    for data_file in ("messages.yaml", "participants.yaml", "annotations.yaml"):
        app.env.note_dependency(str(chat_dir / data_file))
    try:
        messages = load_chat(chat_dir)
    except SpecFileError as exc:
        report([exc.finding], repo_root(app))
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


GENERATORS: dict[str, Generator] = {"chat-log": chat_log}
