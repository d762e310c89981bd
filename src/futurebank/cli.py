"""Command line: ``futurebank chat parse|check``, ``futurebank export``, and the workshop record:
``answer``, ``fingerprint``, ``review``, ``suspects``, ``baseline``, ``diff`` (README, "Workshop record")."""

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


def _snapshot_of(name: str, needs: Path, docs: Path) -> dict[str, object]:
    """A baseline by name or path, or ``current``: the latest build's needs.json and the contracts."""
    from futurebank.spec.workshop.baseline import BASELINES_DIR, load_baseline, snapshot

    if name == "current":
        return snapshot(needs, docs)
    path = Path(name) if name.endswith(".json") else docs / BASELINES_DIR / f"{name}.json"
    return load_baseline(path)


def cmd_baseline(args: argparse.Namespace) -> int:
    from futurebank.spec.workshop.baseline import make_baseline

    print(f"wrote {make_baseline(args.name, Path(args.needs), Path(args.docs), commit=args.commit)}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from futurebank.spec.workshop.baseline import diff, render_changes

    docs = Path(args.docs)
    old, new = (_snapshot_of(n, Path(args.needs), docs) for n in (args.old, args.new))
    print(render_changes(diff(old, new)), end="")
    return 0


def cmd_fingerprint(args: argparse.Namespace) -> int:
    from futurebank.spec.workshop.fingerprints import STATE_FILE, State, review

    docs = Path(args.docs)
    done = review(docs, State.read(Path(args.site) / STATE_FILE), None)
    print(f"recorded the upstream fingerprints of {len(done)} items in {docs / 'workshop/fingerprints.yaml'}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from futurebank.spec.workshop.fingerprints import STATE_FILE, State, review

    docs = Path(args.docs)
    state = State.read(Path(args.site) / STATE_FILE)
    for item in review(docs, state, args.ids):
        was = state.suspects.get(item)
        print(f"reviewed {item}" + (f" (was suspect: {', '.join(was)})" if was else ""))
    return 0


def cmd_suspects(args: argparse.Namespace) -> int:
    from futurebank.spec.workshop.fingerprints import STATE_FILE, State

    state = State.read(Path(args.site) / STATE_FILE)
    for item, changed in sorted(state.suspects.items()):
        print(f"suspect {item}: upstream {', '.join(changed)} changed or not reviewed")
    print(f"{len(state.suspects)} suspect items (review each with `futurebank review ID`)")
    return 1 if state.suspects and not args.list_only else 0


def cmd_answer(args: argparse.Namespace) -> int:
    from futurebank.spec.workshop.record import record_answer

    path = record_answer(Path(args.docs), args.question, args.answer, args.role, args.date, args.record)
    print(f"{args.question}: answer recorded in {path}; `make site` marks the items it blocks suspect")
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
    export = sub.add_parser("export", help="write needs.json, CSV and XLSX exports")
    export.add_argument("--needs", default="build/site/needs.json")
    export.add_argument("--out", default="build/export")
    export.set_defaults(func=cmd_export)
    baseline = sub.add_parser(
        "baseline", help="freeze the needs and contracts as docs/workshop/baselines/NAME.json"
    )
    baseline.add_argument("name")
    baseline.add_argument("--needs", default="build/site/needs.json")
    baseline.add_argument("--docs", default="docs")
    baseline.add_argument("--commit", default=None, help="record this commit instead of the working tree's")
    baseline.set_defaults(func=cmd_baseline)
    diff = sub.add_parser("diff", help="print the changes from baseline A to B ('current': the latest build)")
    diff.add_argument("old")
    diff.add_argument("new", nargs="?", default="current")
    diff.add_argument("--needs", default="build/site/needs.json")
    diff.add_argument("--docs", default="docs")
    diff.set_defaults(func=cmd_diff)
    answer = sub.add_parser("answer", help="record a question's answer in docs/workshop/questions.yaml")
    answer.add_argument("question")
    answer.add_argument("--answer", required=True)
    answer.add_argument("--role", required=True, help="role id of docs/workshop/roles.yaml")
    answer.add_argument("--date", required=True, help="YYYY-MM-DD")
    answer.add_argument("--record", required=True, help="where the answer is recorded (minutes, letter)")
    answer.add_argument("--docs", default="docs")
    answer.set_defaults(func=cmd_answer)
    for name, func, text in (
        ("fingerprint", cmd_fingerprint, "record every item's upstream fingerprints (after make site)"),
        ("review", cmd_review, "mark items reviewed: record their upstream fingerprints (after make site)"),
        ("suspects", cmd_suspects, "list the suspect items of the last site build; exit 1 if any"),
    ):
        p = sub.add_parser(name, help=text)
        if name == "review":
            p.add_argument("ids", nargs="+")
        if name == "suspects":
            p.add_argument("--list-only", action="store_true", help="exit 0 even when items are suspect")
        p.add_argument("--site", default="build/site")
        p.add_argument("--docs", default="docs")
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ChatParseError, ValueError, OSError) as exc:  # a bad file or argument: say which, exit 2
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
