"""``python -m futurebank.sandbox``: serve | reset | migrate | audit verify | flags promote | transcript.

Configuration comes from the environment (see ``futurebank.sandbox.config``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from futurebank.sandbox.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m futurebank.sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the sandbox API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    reset = sub.add_parser("reset", help="wipe the database and seed the demo data again")
    reset.add_argument(
        "--no-history", action="store_true", help="only docs/stories/seed.yaml, no generated history"
    )
    sub.add_parser("migrate", help="apply the Alembic migrations")
    audit = sub.add_parser("audit", help="audit log tools").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser(
        "verify",
        help="check the keyed chains and the seals; exit 1 when an entry was changed, deleted or re-chained",
    )
    flags = sub.add_parser("flags", help="rollout flags (ADR-0019)").add_subparsers(
        dest="flags_command", required=True
    )
    promote = flags.add_parser(
        "promote",
        help="make a rollout stage current: rewrite the flagd state file a running sandbox watches",
    )
    promote.add_argument("stage", help="a stage id of docs/delivery/rollout.md, e.g. RS-0003")
    review = sub.add_parser(
        "transcript",
        help="the compliance officer's review: one conversation's masked transcript as JSON (US-0019); "
        "the read is recorded in the audit log with the officer's staff id",
    )
    review.add_argument("conversation_id")
    review.add_argument("--officer", required=True, help="the reviewing officer's staff id")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    if args.command == "flags":
        from futurebank.sandbox.adapters.flags import install_stage

        assert settings.flags_file is not None
        try:
            path = install_stage(args.stage, settings.flags_file)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{args.stage} is current: wrote {path} (a running sandbox reloads it)")
        return 0

    from futurebank.sandbox.entrypoints.contract import ContractMismatch

    try:  # the request models are derived from the contract when the routes are imported
        from futurebank.sandbox import bootstrap
    except ContractMismatch as exc:
        print(f"error: the sandbox does not start: {exc}", file=sys.stderr)
        return 2

    if args.command == "serve":
        from futurebank.sandbox.entrypoints.app import create_app
        from futurebank.sandbox.entrypoints.http_server import serve as serve_http
        from futurebank.sandbox.entrypoints.observability import configure_logging

        if not os.environ.get("SANDBOX_ISSUER"):  # the origin it is served on (the console names it)
            settings = Settings.from_env(issuer=f"http://{args.host}:{args.port}/api/v1")
        configure_logging()
        serve_http(create_app(bootstrap.bootstrap(settings)), args.host, args.port)
        return 0
    db = bootstrap.open_database(settings)
    try:
        if args.command == "migrate":
            print("database migrated to head")
        elif args.command == "reset":
            counts = bootstrap.reset(db, history=not args.no_history)
            print("demo data seeded: " + json.dumps(counts))
        elif args.command == "audit":
            count, problems = bootstrap.verify_audit(db)
            if problems:
                print(f"broken: {len(problems)} problem(s) in {count} entries")
                for problem in problems:
                    print("  " + problem)
                return 1
            print(f"intact: {count} entries")
        elif args.command == "transcript":
            return _review_transcript(db, args.conversation_id, args.officer)
    finally:
        db.dispose()
    return 0


def _review_transcript(db: object, conversation_id: str, officer: str) -> int:
    import uuid
    from datetime import UTC, datetime

    from futurebank.sandbox.adapters.db import Database
    from futurebank.sandbox.service_layer.assistant_conversations import Access, DatabaseConversations

    assert isinstance(db, Database)
    store = DatabaseConversations(db)
    conversation = store.get(conversation_id)
    if conversation is None:
        print(f"error: no conversation {conversation_id}", file=sys.stderr)
        return 1
    access = Access("reviewTranscript", "compliance-review", str(uuid.uuid4()), agent_id=officer)
    store.record(access.record(conversation, "conversation", conversation_id, datetime.now(UTC)))
    review = {
        "conversation_id": conversation.conversation_id,
        "customer_id": conversation.customer_id,
        "locale": conversation.locale,
        "status": conversation.status.value,
        "messages": [
            {
                "message_id": m.message_id,
                "role": m.role,
                "text": m.text,  # stored masked
                "created_at": m.created_at.isoformat(),
                "ai_generated": m.ai_generated,
                "model_version": m.model_version,
                "api_calls": list(m.api_calls),
            }
            for m in conversation.messages
        ],
    }
    print(json.dumps(review, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
