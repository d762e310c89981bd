"""assistant conversations, transcripts, pending proposals and handoffs in the database

Until this revision the sandbox kept assistant conversations in the memory of one process: a restart
lost them, and a second process never saw them. Four tables hold them now:

* ``assistant_conversations``: one row per conversation (its customer, locale, channel, status and
  the little state the rules keep between messages: misunderstandings in a row, a "which card?"
  question waiting for digits);
* ``assistant_messages``: the transcript, one row per message in the order sent (``seq``), text masked
  before it is written, with the model version that understood it and the operations read for it;
* ``assistant_proposals``: the card action waiting for the customer's confirmation (one at most);
* ``assistant_handoffs``: the handoff to a support agent (one per conversation) and its queue state.

The transcript is not made append-only by triggers (as postings are in 0002): retention will delete
whole conversations (NFR-0020), and nothing in the sandbox updates a message.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 16:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assistant_conversations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("ended_at", _ts(), nullable=True),
        sa.Column("misunderstood_in_a_row", sa.Integer(), nullable=False),
        sa.Column("awaiting_card_for", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'handed_off', 'closed')", name=op.f("ck_assistant_conversations_status")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_assistant_conversations_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_conversations")),
    )
    op.create_index(
        op.f("ix_assistant_conversations_customer_id"), "assistant_conversations", ["customer_id"]
    )
    op.create_table(
        "assistant_messages",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("ai_generated", sa.Boolean(), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=True),
        sa.Column("proposed_action", sa.String(length=16), nullable=True),
        sa.Column("proposed_card_id", sa.String(length=64), nullable=True),
        sa.Column("confirmation_for", sa.String(length=64), nullable=True),
        sa.Column("model_version", sa.String(length=200), nullable=True),
        sa.Column("api_calls", sa.JSON(), nullable=False),
        sa.Column("handoff_reason", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "role IN ('customer', 'assistant', 'agent')", name=op.f("ck_assistant_messages_role")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["assistant_conversations.id"],
            name=op.f("fk_assistant_messages_conversation_id_assistant_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_messages")),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_assistant_messages_conversation_seq"),
    )
    op.create_table(
        "assistant_proposals",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("card_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", _ts(), nullable=False),
        sa.CheckConstraint(
            "action IN ('lock_card', 'unlock_card')", name=op.f("ck_assistant_proposals_action")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["assistant_conversations.id"],
            name=op.f("fk_assistant_proposals_conversation_id_assistant_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_assistant_proposals")),
    )
    op.create_table(
        "assistant_handoffs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", _ts(), nullable=False),
        sa.Column("transcript_message_count", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("accepted_at", _ts(), nullable=True),
        sa.Column("closed_at", _ts(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'accepted', 'closed')", name=op.f("ck_assistant_handoffs_status")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["assistant_conversations.id"],
            name=op.f("fk_assistant_handoffs_conversation_id_assistant_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_handoffs")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_assistant_handoffs_conversation_id")),
    )
    op.create_index(
        "ix_assistant_handoffs_status_requested", "assistant_handoffs", ["status", "requested_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_assistant_handoffs_status_requested", table_name="assistant_handoffs")
    op.drop_table("assistant_handoffs")
    op.drop_table("assistant_proposals")
    op.drop_table("assistant_messages")
    op.drop_index(op.f("ix_assistant_conversations_customer_id"), table_name="assistant_conversations")
    op.drop_table("assistant_conversations")
