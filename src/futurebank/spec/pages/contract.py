"""Pages generated from the contract files.

Generators (use them with ```` ```{generated} NAME ```` in a page):

* ``contract-operations``: one ``op`` need per OpenAPI operation (``OP-<operationId>``), serving the
  stories in ``x-stories`` and exposing the entities behind its request and success responses.
* ``contract-events``: one ``event`` need per AsyncAPI operation (``EVT-<name>``).
* ``contract-entities``: one ``entity`` need per schema in ``docs/entities`` (``ENT-<Name>``).
* ``entity-dictionary``: the field dictionary of all entities.
* ``entity-erd``: the entity-relationship diagram (Graphviz), from ``$ref`` and ``x-references``.
* ``contract-rules``: the contract rules and the stories that need no API.

The contract checks themselves run with every other check in ``futurebank.spec.sphinx_ext.report_checks``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from futurebank.spec.contract import (
    ENTITY_SUFFIX,
    PROBLEM_CODES_FILE,
    RULES,
    STORIES_SERVED_BY_EVERY_OPERATION,
    STORIES_WITHOUT_API,
    Contract,
    Operation,
    deref,
    entity_of,
    event_entities,
    exposed_entities,
    load_contract,
)
from futurebank.spec.pages import Generator, md_table
from futurebank.spec.rules import SpecFileError


def _contract(app: Sphinx) -> Contract | None:
    docs = Path(app.srcdir)
    if not (docs / "api" / "openapi.yaml").exists():
        return None
    for path in [
        docs / "api" / "openapi.yaml",
        docs / "api" / "asyncapi.yaml",
        docs / "api" / PROBLEM_CODES_FILE,
        *sorted((docs / "entities").glob("*")),
    ]:
        if path.is_file():
            app.env.note_dependency(str(path))
    try:
        return load_contract(docs)
    except (SpecFileError, OSError):  # reported by check_contract as R-31 with file and line
        return None


def cell(text: Any) -> str:
    """Text for one Markdown table cell."""
    return re.sub(r"\s+", " ", str(text)).replace("|", "\\|").strip()


def first_sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    match = re.match(r"(.+?\.)(\s|$)", text)
    return match.group(1) if match else text


# --- operations -------------------------------------------------------------------------------------------


def _schema_label(contract: Contract, schema: Any) -> str:
    if isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        component = contract.components.get(name, {})
        link = entity_of(component)
        if link is not None:
            entity = link[1].split("#", 1)[0]
            if link[0] == "full" and name == entity:
                return f"{{need}}`ENT-{entity}`"
            how = "with" if link[0] == "full" else "with fields of"
            return f"`{name}` ({how} {{need}}`ENT-{entity}`)"
        items = (component.get("properties") or {}).get("data", {}).get("items", {})
        item_name = str(items.get("$ref", "")).rsplit("/", 1)[-1]
        item_link = entity_of(contract.components.get(item_name, {}))
        if item_link is not None:
            return f"`{name}` (list of {{need}}`ENT-{item_link[1].split('#', 1)[0]}`)"
        return f"`{name}`"
    if isinstance(schema, dict):
        return f"`{schema.get('type', 'object')}`"
    return ""


def _operation_block(contract: Contract, operation: Operation) -> str:
    spec = operation.spec
    doc = contract.openapi.data
    own = [str(s) for s in spec.get("x-stories") or []]
    stories = ", ".join(own + [s for s in STORIES_SERVED_BY_EVERY_OPERATION if s not in own])
    entities = ", ".join(f"ENT-{e}" for e in exposed_entities(contract, operation))
    options = [f":id: {operation.need_id}"]
    if stories:
        options.append(f":serves: {stories}")
    if entities:
        options.append(f":exposes: {entities}")
    scopes = [s for req in spec.get("security") or [] for s in req.get("oauth2", [])]
    lines = [
        f"`````{{op}} {cell(spec.get('summary', operation.operation_id))}",
        *options,
        "",
        f"**`{operation.method.upper()} /api/v1{operation.path}`** · "
        f"operationId `{operation.operation_id}` · "
        f"scopes {', '.join(f'`{s}`' for s in scopes) or 'none'}"
        + (" · **money-moving: requires `Idempotency-Key`**" if spec.get("x-money-moving") else ""),
        "",
        re.sub(r"\n{2,}", "\n\n", str(spec.get("description", "")).strip()),
        "",
    ]
    path_item = doc["paths"][operation.path]
    params = [deref(doc, p) for p in (path_item.get("parameters") or []) + (spec.get("parameters") or [])]
    if params:
        lines += ["| Parameter | In | Required | Type | Description |", "|---|---|---|---|---|"]
        for param in params:
            schema = param.get("schema", {})
            kind = schema.get("format") or schema.get("type", "")
            if "enum" in schema:
                kind += " (" + ", ".join(map(str, schema["enum"])) + ")"
            lines.append(
                f"| `{param.get('name')}` | {param.get('in')} | {'yes' if param.get('required') else 'no'} | "
                f"{cell(kind)} | {cell(first_sentence(str(param.get('description', ''))))} |"
            )
        lines.append("")
    body = deref(doc, spec.get("requestBody"))
    if isinstance(body, dict) and body.get("content"):
        for media_type, media in body["content"].items():
            lines += [f"Request body `{media_type}`: {_schema_label(contract, media.get('schema'))}", ""]
    lines += ["| Status | Meaning | Body | Error codes |", "|---|---|---|---|"]
    for status, response in (spec.get("responses") or {}).items():
        resolved = deref(doc, response)
        codes: list[str] = []
        body_label = ""
        for media in (resolved.get("content") or {}).values():
            body_label = _schema_label(contract, media.get("schema"))
            for example in (media.get("examples") or {}).values():
                value = deref(doc, example).get("value")
                if isinstance(value, dict) and value.get("code") in contract.error_codes:
                    codes.append(f"`{value['code']}`")
        lines.append(
            f"| {status} | {cell(first_sentence(str(resolved.get('description', ''))))} | {body_label} | "
            f"{', '.join(codes)} |"
        )
    lines += ["", "`````", ""]
    return "\n".join(lines)


def contract_operations(app: Sphinx) -> str:
    contract = _contract(app)
    if contract is None:
        return ""
    parts: list[str] = []
    tag = None
    for operation in sorted(contract.operations(), key=lambda o: (_tag(o), o.path, o.method)):
        if not operation.operation_id:
            continue  # reported by R-32
        if _tag(operation) != tag:
            tag = _tag(operation)
            parts.append(f"## {tag}\n")
        parts.append(_operation_block(contract, operation))
    return "\n".join(parts)


def _tag(operation: Operation) -> str:
    tags = operation.spec.get("tags") or ["Other"]
    return str(tags[0])


# --- events -----------------------------------------------------------------------------------------------


def contract_events(app: Sphinx) -> str:
    contract = _contract(app)
    if contract is None or contract.asyncapi is None:
        return ""
    doc = contract.asyncapi.data
    parts: list[str] = []
    for name, spec in contract.event_operations().items():
        channel = deref(doc, spec.get("channel", {}))
        stories = ", ".join(str(s) for s in spec.get("x-stories") or [])
        entities = ", ".join(f"ENT-{e}" for e in event_entities(contract, name) if e in contract.entities)
        options = [f":id: EVT-{name}"]
        if stories:
            options.append(f":serves: {stories}")
        if entities:
            options.append(f":exposes: {entities}")
        parts.append(
            "\n".join(
                [
                    f"````{{event}} {cell(channel.get('title', name))}",
                    *options,
                    "",
                    f"**{spec.get('action', '')}** on channel `{channel.get('address', '')}` · "
                    f"payload {', '.join(f'{{need}}`ENT-{e}`' for e in event_entities(contract, name))} "
                    "in the event envelope",
                    "",
                    cell(channel.get("description", "")),
                    "",
                    cell(spec.get("description", "")),
                    "````",
                    "",
                ]
            )
        )
    return "\n".join(parts)


# --- entities ---------------------------------------------------------------------------------------------


def _type_label(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        ref = str(prop["$ref"])
        if ref.endswith(ENTITY_SUFFIX):
            return "{need}`ENT-" + ref.rsplit("/", 1)[-1].removesuffix(ENTITY_SUFFIX) + "`"
        return "object (" + ref.rsplit("/", 1)[-1] + ")"
    kind = str(prop.get("type", ""))
    if kind == "array" and isinstance(prop.get("items"), dict):
        items = prop["items"]
        inner = _type_label(items) if ("$ref" in items or "type" in items) else "object"
        return f"array of {inner}"
    return kind


def _fields(schema: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    for name, prop in (schema.get("properties") or {}).items():
        rows.append((prefix + name, prop))
        if isinstance(prop, dict) and "properties" in prop:
            rows += _fields(prop, f"{prefix}{name}.")
        items = prop.get("items") if isinstance(prop, dict) else None
        if isinstance(items, dict) and "properties" in items:
            rows += _fields(items, f"{prefix}{name}[].")
    for name, definition in (schema.get("$defs") or {}).items():
        rows += _fields(definition, f"{name}.")
    return rows


def _field_row(
    entity: str, name: str, prop: dict[str, Any], with_entity: bool, labels: dict[str, str]
) -> str:
    description = str(prop.get("description", ""))
    if "enum" in prop:
        description += " One of: " + ", ".join(f"`{v}`" for v in prop["enum"]) + "."
    if prop.get("x-references"):
        description += f" References {{need}}`ENT-{prop['x-references']}`."
    if prop.get("x-internal"):
        description += " *Internal: not exposed by the API.*"
    cells = [
        f"`{name}`",
        _type_label(prop),
        cell(prop.get("format", "")),
        cell(labels.get(str(prop.get("x-personal-data")), prop.get("x-personal-data", ""))),
        cell(prop.get("x-retention", "")),
        cell(description),
    ]
    if with_entity:
        cells.insert(0, f"{{need}}`ENT-{entity}`")
    return "| " + " | ".join(cells) + " |"


def contract_entities(app: Sphinx) -> str:
    contract = _contract(app)
    if contract is None:
        return ""
    labels = contract.personal_data_labels
    parts: list[str] = []
    for name, entity in contract.entities.items():
        data = entity.data
        kind = "value object" if data.get("x-value-object") else "entity"
        parts += [
            f"````{{entity}} {name}",
            f":id: ENT-{name}",
            "",
            cell(data.get("description", "")),
            "",
            f"Schema: {{download}}`{name}{ENTITY_SUFFIX} <{name}{ENTITY_SUFFIX}>` "
            f"({kind}, JSON Schema 2020-12).",
            "",
            "| Field | Type | Format | Personal data | Retention | Description |",
            "|---|---|---|---|---|---|",
            *(_field_row(name, field, prop, False, labels) for field, prop in _fields(data)),
            "````",
            "",
        ]
    return "\n".join(parts)


def entity_dictionary(app: Sphinx) -> str:
    contract = _contract(app)
    if contract is None:
        return ""
    labels = contract.personal_data_labels
    rows = [
        "| Entity | Field | Type | Format | Personal data | Retention | Description |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, entity in contract.entities.items():
        rows += [_field_row(name, field, prop, True, labels) for field, prop in _fields(entity.data)]
    counts: dict[str, int] = {}
    for entity in contract.entities.values():
        for _, prop in _fields(entity.data):
            key = str(prop.get("x-personal-data"))
            counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{labels.get(k, k)}: {v}" for k, v in sorted(counts.items()))
    return (
        f"{len(rows) - 2} fields in {len(contract.entities)} schemas ({summary}).\n\n"
        + "\n".join(rows)
        + "\n"
    )


def _dot_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def entity_erd(app: Sphinx) -> str:
    contract = _contract(app)
    if contract is None:
        return ""
    lines = [
        "digraph entities {",
        '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.4, ranksep=0.9];',
        '  node [shape=plain, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    edges: list[str] = []
    for name, entity in contract.entities.items():
        data = entity.data
        fill = "#EEEEEE" if data.get("x-value-object") else "#F0EBDD"
        rows = [f'<tr><td bgcolor="{fill}" colspan="2"><b>{name}</b></td></tr>']
        for field, prop in _fields({"properties": data.get("properties", {})}):
            if "." in field:
                continue  # nested fields stay in the dictionary; the diagram shows the top level
            pd = str(prop.get("x-personal-data", ""))
            mark = {"bank-secrecy": "BS", "personal": "PD", "special": "SP", "biometric": "BIO"}.get(pd, "")
            # Graphviz rejects an empty <font></font>, so markup wraps non-empty text only
            label = f'<font color="#999999">{field}</font>' if prop.get("x-internal") else field
            mark_cell = f'<font color="#884444">{mark}</font>' if mark else " "
            rows.append(
                f'<tr><td align="left" port="{_dot_id(field)}">{label}</td>'
                f'<td align="left">{mark_cell}</td></tr>'
            )
            target = prop.get("x-references")
            if target in contract.entities:
                edges.append(
                    f'  {_dot_id(name)}:{_dot_id(field)}:e -> {_dot_id(str(target))} [label="{field}"];'
                )
        for ref_field, ref in _entity_refs(data):
            edges.append(
                f"  {_dot_id(name)}:{_dot_id(ref_field)}:e -> {_dot_id(ref)} "
                "[style=dashed, arrowhead=odiamond, "
                'label="embeds"];'
            )
        lines.append(
            f'  {_dot_id(name)} [label=<<table border="0" cellborder="1" cellspacing="0">'
            f"{''.join(rows)}</table>>];"
        )
    lines += sorted(set(edges))
    lines.append("}")
    body = "\n".join(lines)
    return (
        "```{graphviz}\n:caption: Entities (generated from docs/entities). Solid arrow: a field references "
        "another entity (x-references). Dashed arrow: embeds a value object ($ref). BS bank secrecy, "
        "PD personal "
        "data, SP special category; grey fields are internal.\n:align: center\n\n" + body + "\n```\n"
    )


def _entity_refs(data: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(node: Any, top: str) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.endswith(ENTITY_SUFFIX):
                found.append((top, ref.rsplit("/", 1)[-1].removesuffix(ENTITY_SUFFIX)))
            for value in node.values():
                walk(value, top)
        elif isinstance(node, list):
            for value in node:
                walk(value, top)

    for field, prop in (data.get("properties") or {}).items():
        walk(prop, field)
    for definition in (data.get("$defs") or {}).values():
        for field, prop in (definition.get("properties") or {}).items():
            walk(prop, field)
    return sorted(set(found))


# --- rules page -------------------------------------------------------------------------------------------


def contract_rules(app: Sphinx) -> str:
    rules = md_table(["Rule", "What it checks"], ([f"`{rule}`", cell(text)] for rule, text in RULES.items()))
    without_api = md_table(
        ["Story", "Why it needs no API operation"],
        ([f"{{need}}`{sid}`", cell(reason)] for sid, reason in STORIES_WITHOUT_API.items()),
    )
    every = md_table(
        ["Story", "How every operation serves it"],
        ([f"{{need}}`{sid}`", cell(reason)] for sid, reason in STORIES_SERVED_BY_EVERY_OPERATION.items()),
    )
    return (
        rules
        + "\n### Stories that need no API\n\n"
        + without_api
        + "\n### Stories every operation serves\n\n"
        + every
    )


def _entries(located: Any, key: str) -> list[Any]:
    data = located.data if located is not None else None
    entries = data.get(key) if isinstance(data, dict) else None
    return entries if isinstance(entries, list) else []


def problem_codes(app: Sphinx) -> str:
    """Guideline API-012's table, from docs/api/problem-codes.yaml (the `when` text is Markdown)."""
    contract = _contract(app)
    if contract is None or contract.problem_codes is None:
        return ""
    entries = _entries(contract.problem_codes, "codes")
    return md_table(
        ["Code", "Status", "Title", "When"],
        (
            [
                f"`{entry['code']}`",
                str(entry["status"]),
                cell(entry.get("title", "")),
                cell(entry.get("when", "")),
            ]
            for entry in entries
            if isinstance(entry, dict) and entry.get("code") in contract.error_codes
        ),
    )


def personal_data_classes(app: Sphinx) -> str:
    """The entities page's table of personal-data classes, from docs/entities/personal-data-classes.yaml
    (`meaning` and `basis` are MyST)."""
    contract = _contract(app)
    if contract is None or contract.personal_data is None:
        return ""
    entries = _entries(contract.personal_data, "classes")
    return md_table(
        ["Class", "Meaning", "Basis"],
        (
            [f"`{entry['class']}`", cell(entry.get("meaning", "")), cell(entry.get("basis") or "—")]
            for entry in entries
            if isinstance(entry, dict) and entry.get("class") in contract.personal_data_classes
        ),
    )


def contract_scopes(app: Sphinx) -> str:
    """Guideline API-004's scopes: those the contract's oauth2 flows declare, with the flows granting each."""
    contract = _contract(app)
    if contract is None:
        return ""
    schemes = (contract.openapi.data.get("components") or {}).get("securitySchemes") or {}
    flows = (schemes.get("oauth2") or {}).get("flows") or {}
    meaning: dict[str, str] = {}
    granted_by: dict[str, list[str]] = {}
    for flow_name, flow in flows.items():
        for scope, text in (flow.get("scopes") or {}).items():
            meaning.setdefault(scope, str(text))
            granted_by.setdefault(scope, []).append(f"`{flow_name}`")
    return md_table(
        ["Scope", "What it allows", "Flows"],
        ([f"`{scope}`", cell(text), ", ".join(granted_by[scope])] for scope, text in meaning.items()),
    )


GENERATORS: dict[str, Generator] = {
    "contract-operations": contract_operations,
    "contract-events": contract_events,
    "contract-entities": contract_entities,
    "entity-dictionary": entity_dictionary,
    "entity-erd": entity_erd,
    "contract-rules": contract_rules,
    "problem-codes": problem_codes,
    "personal-data-classes": personal_data_classes,
    "contract-scopes": contract_scopes,
}
