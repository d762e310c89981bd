"""R-32, R-33, R-34: operations and events serve stories that exist; must stories are served."""

from __future__ import annotations

from futurebank.spec.contract.model import (
    STORIES_SERVED_BY_EVERY_OPERATION,
    STORIES_WITHOUT_API,
    Contract,
    Story,
    finding_at,
)
from futurebank.spec.rules import Finding
from futurebank.spec.stories.model import STORY_ID
from futurebank.spec.yaml_lines import pointer_join


def check_operations_serve_stories(contract: Contract, stories: dict[str, Story] | None) -> list[Finding]:
    """R-32 always; R-33 and R-34 when the spec's stories are known."""
    findings: list[Finding] = []
    oas = contract.openapi
    served: set[str] = set()
    for operation in contract.operations():
        item = operation.need_id if operation.operation_id else f"{operation.method.upper()} {operation.path}"
        if not operation.operation_id:
            findings.append(
                finding_at("R-32-operation-serves-story", oas, operation.pointer, item, "no operationId")
            )
        story_ids = operation.spec.get("x-stories")
        if not isinstance(story_ids, list) or not story_ids:
            findings.append(
                finding_at(
                    "R-32-operation-serves-story",
                    oas,
                    operation.pointer,
                    item,
                    "operation serves no story (x-stories)",
                )
            )
            continue
        for index, story_id in enumerate(story_ids):
            pointer = pointer_join(operation.pointer, "x-stories", index)
            if not isinstance(story_id, str) or not STORY_ID.match(story_id):
                findings.append(
                    finding_at(
                        "R-32-operation-serves-story", oas, pointer, item, f"{story_id!r} is not a story id"
                    )
                )
            elif stories is not None and story_id not in stories:
                findings.append(
                    finding_at("R-33-story-exists", oas, pointer, item, f"unknown story {story_id}")
                )
            else:
                served.add(str(story_id))
    if contract.asyncapi is not None:
        doc = contract.asyncapi
        for name, spec in contract.event_operations().items():
            for index, story_id in enumerate(spec.get("x-stories") or []):
                if stories is not None and story_id not in stories:
                    findings.append(
                        finding_at(
                            "R-33-story-exists",
                            doc,
                            pointer_join("/operations", name, "x-stories", index),
                            f"EVT-{name}",
                            f"unknown story {story_id}",
                        )
                    )
                else:
                    served.add(str(story_id))
    if contract.operations():
        for story_id in STORIES_SERVED_BY_EVERY_OPERATION:
            if stories is not None and story_id not in stories:
                findings.append(
                    finding_at(
                        "R-33-story-exists",
                        oas,
                        "/paths",
                        story_id,
                        f"unknown story {story_id} in STORIES_SERVED_BY_EVERY_OPERATION",
                    )
                )
            else:
                served.add(story_id)
    if stories is not None:
        for story in sorted(stories.values(), key=lambda s: s.id):
            if story.priority != "must" or story.release == "later" or story.id in STORIES_WITHOUT_API:
                continue
            if story.id not in served:
                findings.append(
                    finding_at(
                        "R-34-must-story-has-api",
                        oas,
                        "/paths",
                        story.id,
                        f"must story {story.id} ({story.title}) has no operation or event; serve it or "
                        "add it to STORIES_WITHOUT_API with the reason",
                    )
                )
    return findings
