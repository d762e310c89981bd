"""R-41: asyncapi.yaml is AsyncAPI 3.0 with story-linked operations and entity payloads."""

from __future__ import annotations

import re

from futurebank.spec.contract.model import Contract, event_entities, finding_at
from futurebank.spec.rules import Finding
from futurebank.spec.stories.model import STORY_ID
from futurebank.spec.yaml_lines import pointer_join, resolve_pointer


def check_asyncapi(contract: Contract) -> list[Finding]:
    rule = "R-41-asyncapi-valid"
    doc = contract.asyncapi
    if doc is None:
        return [finding_at(rule, contract.openapi, "", "asyncapi.yaml", "docs/api/asyncapi.yaml is missing")]
    findings: list[Finding] = []
    data = doc.data
    if data.get("asyncapi") != "3.0.0":
        findings.append(
            finding_at(rule, doc, "/asyncapi", "asyncapi.yaml", "the document must be AsyncAPI 3.0.0")
        )
    for name, spec in contract.event_operations().items():
        item = f"EVT-{name}"
        pointer = pointer_join("/operations", name)
        if not re.match(r"^[a-z][A-Za-z0-9]+$", name):
            findings.append(finding_at(rule, doc, pointer, item, "event operation names are lowerCamelCase"))
        if spec.get("action") not in ("send", "receive"):
            findings.append(finding_at(rule, doc, pointer, item, "action must be send or receive"))
        stories = spec.get("x-stories")
        if not isinstance(stories, list) or not stories or not all(STORY_ID.match(str(s)) for s in stories):
            findings.append(
                finding_at(rule, doc, pointer, item, "event serves no story (x-stories with story ids)")
            )
        refs = [spec.get("channel", {}).get("$ref")] + [m.get("$ref") for m in spec.get("messages") or []]
        for ref in refs:
            if not isinstance(ref, str) or not ref.startswith("#"):
                findings.append(
                    finding_at(rule, doc, pointer, item, f"reference {ref!r} is not a local $ref")
                )
                continue
            try:
                resolve_pointer(data, ref[1:])
            except (KeyError, IndexError, ValueError):
                findings.append(finding_at(rule, doc, pointer, item, f"reference {ref} does not resolve"))
        if not event_entities(contract, name):
            findings.append(
                finding_at(rule, doc, pointer, item, "message payload references no entity schema")
            )
        for entity in event_entities(contract, name):
            if entity not in contract.entities:
                findings.append(
                    finding_at(rule, doc, pointer, item, f"payload references unknown entity {entity!r}")
                )
    for name, message in ((data.get("components") or {}).get("messages") or {}).items():
        if not message.get("examples"):
            findings.append(
                finding_at(
                    rule,
                    doc,
                    pointer_join("/components/messages", name),
                    f"EVT-{name}",
                    "message has no example",
                )
            )
    return findings
