"""The spec as a ReqIF 1.2 file, ``spec.reqif``, for requirements tools (IBM DOORS Next, Polarion, Jama).

Built and read back with the ``reqif`` library of the StrictDoc project, from the build's ``needs.json``:

* one SPEC-OBJECT-TYPE per need type (``User story``, ``Risk``, ...), one SPEC-OBJECT per need whose
  IDENTIFIER is the need's id, and one SPECIFICATION per need type listing its needs by id (a tool imports
  each as a module or document);
* every object carries ``ReqIF.ForeignID`` (the id), ``ReqIF.Name`` (the title) and, when the need has a
  body, ``ReqIF.Text`` (XHTML): the attribute names the ReqIF Implementation Guide recommends, which
  importers map to their own id, title and text fields without configuration (SRC-0631, SRC-0632);
* ``status`` (on every type) and each field of ``futurebank.spec.needs_model.NEEDS_FIELDS`` that a need
  of the type uses become attributes of that type: fields with a fixed list of values as ENUMERATION
  attributes (a pick list in the target tool), the others as STRING attributes;
* every link of ``NEEDS_LINKS`` between two exported needs is a SPEC-RELATION of the relation type named
  after the link (``traces``, ``refines``, ``serves`` ...), from the need that holds the link to its target.

:func:`load_reqif` is the import side: it parses a file with the same library and gives back, per id, the
type, title, text, field values and links, so a test can prove the round trip loses nothing it promises.
ReqIF requires a LAST-CHANGE time on every element; we keep no per-item history, so every element gets
the time of the export (``SOURCE_DATE_EPOCH`` fixes it for a reproducible build).
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reqif.models.reqif_core_content import ReqIFCoreContent
from reqif.models.reqif_data_type import (
    ReqIFDataTypeDefinitionEnumeration,
    ReqIFDataTypeDefinitionString,
    ReqIFDataTypeDefinitionXHTML,
    ReqIFEnumValue,
)
from reqif.models.reqif_namespace_info import ReqIFNamespaceInfo
from reqif.models.reqif_req_if_content import ReqIFReqIFContent
from reqif.models.reqif_reqif_header import ReqIFReqIFHeader
from reqif.models.reqif_spec_hierarchy import ReqIFSpecHierarchy
from reqif.models.reqif_spec_object import ReqIFSpecObject, SpecObjectAttribute
from reqif.models.reqif_spec_object_type import ReqIFSpecObjectType, SpecAttributeDefinition
from reqif.models.reqif_spec_relation import ReqIFSpecRelation
from reqif.models.reqif_spec_relation_type import ReqIFSpecRelationType
from reqif.models.reqif_specification import ReqIFSpecification
from reqif.models.reqif_specification_type import ReqIFSpecificationType
from reqif.models.reqif_types import SpecObjectAttributeType
from reqif.object_lookup import ReqIFObjectLookup
from reqif.parser import ReqIFParser
from reqif.reqif_bundle import ReqIFBundle
from reqif.unparser import ReqIFUnparser

from futurebank.spec.needs_json import ExportError, load_needs
from futurebank.spec.needs_model import NEED_TYPES, NEEDS_FIELDS, NEEDS_LINKS

FILE_NAME = "spec.reqif"
FOREIGN_ID, NAME, TEXT = "ReqIF.ForeignID", "ReqIF.Name", "ReqIF.Text"
STATUS = "status"
TYPE_TITLES = {directive: title for directive, title, _prefix, _colour in NEED_TYPES}
ENUM_FIELDS: dict[str, list[str]] = {
    name: list(spec["schema"]["enum"]) for name, spec in NEEDS_FIELDS.items() if "enum" in spec["schema"]
}
# One STRING data type for every short field; ReqIF requires a maximum length (ours: the XLSX cell limit).
_STRING, _XHTML, _MAX_LENGTH = "fb-dt-string", "fb-dt-xhtml", "32767"
_SPEC_TYPE = "fb-spec-type"
_ROLE = re.compile(r"\{[a-z:-]+\}`([^`]*)`")
_INLINE = re.compile(r"\*\*(?P<strong>.+?)\*\*|`(?P<code>[^`]+)`")


def _role_text(match: re.Match[str]) -> str:
    """A MyST role as the text a reader sees: its explicit title, else its target."""
    inner = match.group(1)
    title = inner.split("<", 1)[0].strip() if "<" in inner else inner
    return title or inner


def _inline_xhtml(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[position : match.start()], quote=False))
        if match["strong"] is not None:
            out.append(f"<xhtml:strong>{html.escape(match['strong'], quote=False)}</xhtml:strong>")
        else:
            out.append(f"<xhtml:code>{html.escape(match['code'], quote=False)}</xhtml:code>")
        position = match.end()
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def xhtml_text(markdown: str) -> str:
    """A need's MyST body as ReqIF XHTML: paragraphs, bullet lists, bold and code; roles become text."""
    text = _ROLE.sub(_role_text, markdown).replace("\\", "")
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0].startswith(("- ", "* ")):
            items: list[str] = []
            for line in lines:
                if line.startswith(("- ", "* ")):
                    items.append(line[2:])
                else:  # a wrapped continuation of the item above
                    items[-1] = f"{items[-1]} {line}"
            lis = "".join(f"<xhtml:li>{_inline_xhtml(item)}</xhtml:li>" for item in items)
            blocks.append(f"<xhtml:ul>{lis}</xhtml:ul>")
        else:
            blocks.append(f"<xhtml:p>{_inline_xhtml(' '.join(lines))}</xhtml:p>")
    return f"<xhtml:div>{''.join(blocks)}</xhtml:div>" if blocks else ""


def _links(need: Mapping[str, Any], link: str) -> list[str]:
    value = need.get(link) or []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _value(need: Mapping[str, Any], name: str) -> str:
    value = need.get(name)
    return "" if value is None else str(value)


def _fields_of(needs: list[Mapping[str, Any]]) -> list[str]:
    """``status`` (on every type, so a tool maps it even before any item has one), then the model's fields
    that at least one need of this type fills in, in model order."""
    return [STATUS, *(name for name in NEEDS_FIELDS if any(_value(n, name) for n in needs))]


def export_time() -> str:
    """Now, or ``SOURCE_DATE_EPOCH`` when set, as an RFC 3339 / xsd:dateTime with offset."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat()


def build_bundle(needs: Mapping[str, Mapping[str, Any]], created: str) -> ReqIFBundle:
    """The ReqIF bundle of ``needs`` (see the module docstring); ``created`` stamps every element."""
    unknown = sorted({str(n.get("type")) for n in needs.values()} - set(TYPE_TITLES))
    if unknown:
        raise ExportError(f"needs.json has need types the model does not know: {unknown}; rebuild the site")
    data_types: list[Any] = [
        ReqIFDataTypeDefinitionString(
            identifier=_STRING, long_name="Text line", max_length=_MAX_LENGTH, last_change=created
        ),
        ReqIFDataTypeDefinitionXHTML(identifier=_XHTML, long_name="Formatted text", last_change=created),
    ]
    for name, values in ENUM_FIELDS.items():
        data_types.append(
            ReqIFDataTypeDefinitionEnumeration(
                identifier=f"fb-dt-{name}",
                long_name=name,
                last_change=created,
                values=[
                    ReqIFEnumValue(
                        identifier=f"fb-ev-{name}-{value}",
                        key=str(key),
                        other_content=value,
                        long_name=value,
                        last_change=created,
                    )
                    for key, value in enumerate(values)
                ],
            )
        )
    spec_types: list[Any] = [
        ReqIFSpecificationType(identifier=_SPEC_TYPE, long_name="Spec module", last_change=created)
    ]
    for link, labels in NEEDS_LINKS.items():
        spec_types.append(
            ReqIFSpecRelationType(
                identifier=f"fb-rt-{link}",
                long_name=link,
                description=f"{labels['outgoing']} (back: {labels['incoming']})",
                last_change=created,
            )
        )
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for nid in sorted(needs):
        by_type.setdefault(str(needs[nid]["type"]), []).append(needs[nid])
    spec_objects: list[ReqIFSpecObject] = []
    specifications: list[ReqIFSpecification] = []
    for directive, _title, _prefix, _colour in NEED_TYPES:
        members = by_type.get(directive)
        if not members:
            continue
        fields = _fields_of(members)
        type_id = f"fb-ot-{directive}"

        def definition(
            name: str, kind: SpecObjectAttributeType, datatype: str, type_id: str = type_id
        ) -> SpecAttributeDefinition:
            attr = SpecAttributeDefinition.create(
                attribute_type=kind,
                identifier=f"{type_id}-{name.removeprefix('ReqIF.')}",
                datatype_definition=datatype,
                long_name=name,
                multi_valued=False if kind == SpecObjectAttributeType.ENUMERATION else None,
            )
            attr.last_change = created
            return attr

        definitions = [
            definition(FOREIGN_ID, SpecObjectAttributeType.STRING, _STRING),
            definition(NAME, SpecObjectAttributeType.STRING, _STRING),
            definition(TEXT, SpecObjectAttributeType.XHTML, _XHTML),
        ]
        for name in fields:
            if name in ENUM_FIELDS:
                definitions.append(definition(name, SpecObjectAttributeType.ENUMERATION, f"fb-dt-{name}"))
            else:
                definitions.append(definition(name, SpecObjectAttributeType.STRING, _STRING))
        spec_types.append(
            ReqIFSpecObjectType.create(
                identifier=type_id,
                long_name=TYPE_TITLES[directive],
                last_change=created,
                attribute_definitions=definitions,
            )
        )
        ref = {d.long_name: d.identifier for d in definitions}
        hierarchy: list[ReqIFSpecHierarchy] = []
        for need in members:
            nid = str(need["id"])
            values = [
                SpecObjectAttribute(SpecObjectAttributeType.STRING, ref[FOREIGN_ID], nid),
                SpecObjectAttribute(SpecObjectAttributeType.STRING, ref[NAME], _value(need, "title")),
            ]
            body = xhtml_text(_value(need, "content"))
            if body:
                values.append(SpecObjectAttribute(SpecObjectAttributeType.XHTML, ref[TEXT], body))
            for name in fields:
                value = _value(need, name)
                if not value:
                    continue
                if name in ENUM_FIELDS:
                    if value not in ENUM_FIELDS[name]:
                        raise ExportError(f"{nid}: {name} {value!r} is not one of {ENUM_FIELDS[name]}")
                    attr = SpecObjectAttribute(
                        SpecObjectAttributeType.ENUMERATION, ref[name], [f"fb-ev-{name}-{value}"]
                    )
                else:
                    attr = SpecObjectAttribute(SpecObjectAttributeType.STRING, ref[name], value)
                values.append(attr)
            spec_object = ReqIFSpecObject.create(identifier=nid, spec_object_type=type_id, attributes=values)
            spec_object.last_change = created
            spec_objects.append(spec_object)
            hierarchy.append(
                ReqIFSpecHierarchy(
                    identifier=f"fb-h-{nid}", spec_object=nid, level=1, last_change=created, editable=None
                )
            )
        specifications.append(
            ReqIFSpecification(
                identifier=f"fb-spec-{directive}",
                long_name=TYPE_TITLES[directive],
                specification_type=_SPEC_TYPE,
                children=hierarchy,
                last_change=created,
            )
        )
    relations = [
        ReqIFSpecRelation(
            identifier=f"fb-rel-{nid}-{link}-{target}",
            relation_type_ref=f"fb-rt-{link}",
            source=nid,
            target=target,
            last_change=created,
        )
        for nid in sorted(needs)
        for link in NEEDS_LINKS
        for target in _links(needs[nid], link)
        if target in needs
    ]
    content = ReqIFReqIFContent(
        data_types=data_types,
        spec_types=spec_types,
        spec_objects=spec_objects,
        spec_relations=relations,
        specifications=specifications,
    )
    header = ReqIFReqIFHeader(
        identifier="fb-header",
        creation_time=created,
        req_if_tool_id="futurebank export (reqif library)",
        req_if_version="1.0",
        source_tool_id="Sphinx with sphinx-needs",
        title="Banking of the future: requirements specification",
    )
    return ReqIFBundle(
        namespace_info=ReqIFNamespaceInfo.create_default(),
        req_if_header=header,
        core_content=ReqIFCoreContent(req_if_content=content),
        tool_extensions_tag_exists=False,
        lookup=ReqIFObjectLookup.empty(),
        exceptions=[],
    )


def write_reqif(needs_json: Path, out_dir: Path, created: str | None = None) -> Path:
    """Write ``spec.reqif`` from a built ``needs.json`` into ``out_dir``; return its path."""
    bundle = build_bundle(load_needs(needs_json), created or export_time())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    path.write_text(ReqIFUnparser.unparse(bundle), encoding="utf-8")
    return path


# --- the import side -----------------------------------------------------------------------------------


@dataclass
class ImportedItem:
    """One SPEC-OBJECT of a ReqIF file, read back by attribute and relation-type names."""

    id: str
    type: str
    title: str
    text: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    links: dict[str, list[str]] = field(default_factory=dict)


def load_reqif(path: Path) -> dict[str, ImportedItem]:
    """Parse a ReqIF file with the ``reqif`` library: its objects by ``ReqIF.ForeignID``."""
    bundle = ReqIFParser.parse(str(path))
    if bundle.core_content is None or bundle.core_content.req_if_content is None:
        raise ExportError(f"{path}: a ReqIF file without content")
    content = bundle.core_content.req_if_content
    definitions: dict[str, str] = {}  # attribute definition id -> its long name
    enum_values: dict[str, str] = {}  # enum value id -> its long name
    type_names: dict[str, str] = {}
    relation_names: dict[str, str] = {}
    for data_type in content.data_types or []:
        if isinstance(data_type, ReqIFDataTypeDefinitionEnumeration):
            enum_values.update({v.identifier: str(v.long_name) for v in data_type.values or []})
    for spec_type in content.spec_types or []:
        if isinstance(spec_type, ReqIFSpecObjectType):
            type_names[spec_type.identifier] = str(spec_type.long_name)
            for definition in spec_type.attribute_definitions or []:
                definitions[definition.identifier] = str(definition.long_name)
        elif isinstance(spec_type, ReqIFSpecRelationType):
            relation_names[spec_type.identifier] = str(spec_type.long_name)
    directive_of = {title: directive for directive, title in TYPE_TITLES.items()}
    items: dict[str, ImportedItem] = {}
    by_identifier: dict[str, ImportedItem] = {}
    for spec_object in content.spec_objects or []:
        values: dict[str, str] = {}
        for attribute in spec_object.attributes:
            name = definitions[attribute.definition_ref]
            if isinstance(attribute.value, list):
                values[name] = ",".join(enum_values[v] for v in attribute.value)
            else:
                values[name] = attribute.value
        type_title = type_names[spec_object.spec_object_type]
        item = ImportedItem(
            id=values.pop(FOREIGN_ID),
            type=directive_of.get(type_title, type_title),
            title=values.pop(NAME, ""),
            text=values.pop(TEXT, ""),
            fields=values,
        )
        items[item.id] = item
        by_identifier[spec_object.identifier] = item
    for relation in content.spec_relations or []:
        source = by_identifier[relation.source]
        target = by_identifier[relation.target]
        source.links.setdefault(relation_names[relation.relation_type_ref], []).append(target.id)
    return items
