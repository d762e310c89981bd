"""Command line: ``futurebank chat parse|check``, ``futurebank export``, ``futurebank check-ids``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from futurebank.spec.chat import ChatParseError, dump_messages, parse_file

DEFAULT_SEED = Path("../shared/seeds/000_cf57a7d67fd07831.txt")
MESSAGES_FILE = Path("docs/chat/messages.yaml")


def _render_seed(seed: Path) -> str:
    return dump_messages(parse_file(seed), seed.name)


def cmd_chat_parse(args: argparse.Namespace) -> int:
    Path(args.out).write_text(_render_seed(Path(args.seed)), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def cmd_chat_check(args: argparse.Namespace) -> int:
    expected = _render_seed(Path(args.seed))
    committed = Path(args.out).read_text(encoding="utf-8")
    if expected != committed:
        print(
            f"{args.out}: drift: re-parsing {args.seed} gives different data; run `make chat`",
            file=sys.stderr,
        )
        return 1
    print(f"{args.out}: matches the seed")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from futurebank.spec.exports import export_all

    for path in export_all(Path(args.needs), Path(args.out)):
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="futurebank")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="the chat seed as data").add_subparsers(
        dest="chat_command", required=True
    )
    for name, func, text in (
        ("parse", cmd_chat_parse, "parse the seed into docs/chat/messages.yaml"),
        ("check", cmd_chat_check, "fail if docs/chat/messages.yaml drifts from the seed"),
    ):
        p = chat.add_parser(name, help=text)
        p.add_argument("--seed", default=str(DEFAULT_SEED))
        p.add_argument("--out", default=str(MESSAGES_FILE))
        p.set_defaults(func=func)
    export = sub.add_parser("export", help="write needs.json, the CSV and XLSX exports and spec.reqif")
    export.add_argument("--needs", default="build/site/needs.json")
    export.add_argument("--out", default="build/export")
    export.set_defaults(func=cmd_export)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ChatParseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
