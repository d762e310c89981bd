"""The chat as spec data: parsed messages joined with our translations and dispositions.

Three files under ``docs/chat/``, each holding one kind of fact:

* ``messages.yaml`` - generated from the seed by the parser (never edited by hand);
* ``participants.yaml`` - each handle's role in the bank (our assumption, labelled as such);
* ``annotations.yaml`` - per message our English translation, disposition and, for a
  duplicate, the message it repeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from futurebank.spec.needs_model import DISPOSITIONS
from futurebank.spec.rules import SpecFileError
from futurebank.spec.yaml_lines import LineMap, load_with_lines


@dataclass(frozen=True)
class AnnotatedMessage:
    id: str
    sent_at: str
    author: str
    role: str
    text_ru: str
    text_en: str
    disposition: str | None
    duplicates: str | None
    annotation_path: str
    annotation_line: int


def load_chat(chat_dir: Path) -> list[AnnotatedMessage]:
    """Join the three chat files; raise SpecFileError naming file, line and rule on any gap."""
    messages_path = chat_dir / "messages.yaml"
    participants_path = chat_dir / "participants.yaml"
    annotations_path = chat_dir / "annotations.yaml"
    messages = load_with_lines(messages_path)["messages"]
    participants = load_with_lines(participants_path)["participants"]
    annotations_doc = load_with_lines(annotations_path)
    annotations: LineMap = annotations_doc.get("messages") or LineMap()

    known_ids = {m["id"] for m in messages}
    for ann_id in annotations:
        if ann_id not in known_ids:
            raise SpecFileError(
                annotations_path,
                annotations.line,
                "R-14-chat-annotation-known",
                f"{ann_id} is not a message of the chat",
            )

    joined: list[AnnotatedMessage] = []
    for message in messages:
        msg_id = message["id"]
        annotation = annotations.get(msg_id)
        if annotation is None:
            raise SpecFileError(
                annotations_path,
                annotations.line,
                "R-15-chat-annotation-present",
                f"{msg_id} has no annotation (translation and disposition)",
            )
        if not isinstance(annotation, dict):
            raise SpecFileError(
                annotations_path,
                annotations.line,
                "R-16-chat-annotation-shape",
                f"{msg_id} must be a mapping with en, disposition",
            )
        line = getattr(annotation, "line", annotations.line)
        text_en = str(annotation.get("en") or "").strip()
        if not text_en:
            raise SpecFileError(
                annotations_path,
                line,
                "R-17-chat-translation-present",
                f"{msg_id} has no English translation",
            )
        disposition = annotation.get("disposition")
        if disposition is not None and disposition not in DISPOSITIONS:
            raise SpecFileError(
                annotations_path,
                line,
                "R-01-msg-disposition",
                f"{msg_id} has disposition {disposition!r}; allowed: {', '.join(DISPOSITIONS)}",
            )
        author = message["author"]
        participant = participants.get(author)
        if participant is None:
            raise SpecFileError(
                participants_path,
                participants.line,
                "R-18-chat-participant-known",
                f"{author} (author of {msg_id}) has no role",
            )
        joined.append(
            AnnotatedMessage(
                id=msg_id,
                sent_at=message["sent_at"],
                author=author,
                role=participant["role"],
                text_ru=message["text_ru"],
                text_en=text_en,
                disposition=disposition,
                duplicates=annotation.get("duplicates"),
                annotation_path=str(annotations_path),
                annotation_line=line,
            )
        )
    return joined
